"""Ingest the email provider's exports: CSV or SES-style JSON lines -> contract -> quarantine -> staging.

Each file is ingested once: its sha256 is recorded in bounce_files, and a file seen before (whatever
its name) changes nothing. In one transaction per file: the rows are parsed, every row is checked
against the `bounce_export` contract's row rules (a row failing one is quarantined in bounce_quarantine
with the file, the line and the ids of the rules it failed, never its values), the rows that pass are
validated as a whole with Great Expectations (a blocking failure stops the ingest) and staged in
email_events.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from steward.errors import StewardError
from steward.progress import ProgressCallback, no_progress
from tasks.bounces.classify import SMTP_IN_TEXT, classify, code_from_text, normalise_code
from tasks.calendar import utc_now
from tasks.db import get_engine, sqlite_page_cache
from tasks.schema import bounce_files, bounce_quarantine, email_events

CONTRACT = "bounce_export"
CSV_COLUMNS = ("email", "event", "smtp_status", "enhanced_status", "diagnostic", "occurred_at")
FRAME_COLUMNS = (*CSV_COLUMNS, "source_line", "recipient")
INSERT_CHUNK = 50_000

SES_PERMANENT_SUBTYPES = {"NoEmail": "5.1.1", "Suppressed": "5.1.1", "OnAccountSuppressionList": "5.1.1"}


class BounceFileError(StewardError):
    """An export file that cannot be read at all (names the file and the line)."""


@dataclass
class FileResult:
    """What ingesting one file did: counts and names, no addresses."""

    file_name: str
    sha256: str
    format: str
    already_ingested: bool = False
    file_id: int | None = None
    events: int = 0
    quarantined: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    quarantined_lines: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ParsedFile:
    frame: pd.DataFrame  # FRAME_COLUMNS, strings as parsed (None for empty)
    unreadable: list[tuple[int, str]]  # (line, reason) of lines that are not rows at all


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "ses_jsonl"
    if suffix == ".csv":
        return "csv"
    return "ses_jsonl" if head.lstrip().startswith(b"{") else "csv"


# ------------------------------------------------------------------------------------------ parsing


def parse_csv(path: Path) -> ParsedFile:
    """Read the documented CSV: a header line with exactly the six columns, then one event per line."""
    text = path.read_text(encoding="utf-8-sig")
    first_line = text.split("\n", 1)[0].strip().rstrip("\r")
    header = [name.strip().lower() for name in next(csv.reader([first_line]))] if first_line else []
    if tuple(header) != CSV_COLUMNS:
        raise BounceFileError(
            f"{path.name}, line 1: the header must be {','.join(CSV_COLUMNS)} (found {len(header)} column(s))"
        )
    if "\r" not in text and '"' not in text:
        frame = _fast_csv(text)
        if frame is not None:
            return ParsedFile(frame, [])
    rows: list[list[Any]] = []
    unreadable: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    next(reader)
    line = reader.line_num + 1
    for record in reader:
        if not record or all(not cell.strip() for cell in record):
            line = reader.line_num + 1
            continue
        if len(record) != len(CSV_COLUMNS):
            unreadable.append(
                (line, f"{CONTRACT}.columns (expected {len(CSV_COLUMNS)} fields, found {len(record)})")
            )
        else:
            rows.append([*record, line, 1])
        line = reader.line_num + 1
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    return ParsedFile(_blank_to_none(frame), unreadable)


def _fast_csv(text: str) -> pd.DataFrame | None:
    """pandas' C reader for the common case (no quotes, one line per row): lines are then exact."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None
    frame.columns = [c.strip().lower() for c in frame.columns]
    frame["source_line"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    frame["recipient"] = 1
    blank = frame[list(CSV_COLUMNS)].isna().all(axis=1)
    frame = frame[~blank.to_numpy()]
    return _blank_to_none(frame[list(FRAME_COLUMNS)].reset_index(drop=True))


def per_unique(values: pd.Series, fn: Callable[[pd.Series], Any]) -> np.ndarray:
    """`fn` applied to the distinct values only, spread back to every row (exports repeat a few event
    types and codes a million times). `fn` takes and returns a Series aligned with the distinct values;
    missing values reach `fn` as None."""
    objects = values.astype(object)
    sample = objects.iloc[:20_000]
    if len(objects) > 50_000 and sample.nunique() > len(sample) // 4:
        # Mostly distinct (addresses): factorizing would cost more than it saves.
        return np.asarray(fn(pd.Series(objects.where(objects.notna(), None), dtype=object)), dtype=object)
    codes, uniques = pd.factorize(objects, use_na_sentinel=True)
    distinct = pd.Series([None, *uniques.tolist()], dtype=object)
    result = np.asarray(fn(distinct), dtype=object)
    return result[codes + 1]


def _clean(values: pd.Series, lower: bool = False) -> pd.Series:
    def clean(distinct: pd.Series) -> list[Any]:
        out = []
        for value in distinct.tolist():
            text = value.strip() if isinstance(value, str) else ""
            out.append((text.lower() if lower else text) or None)
        return out

    return pd.Series(per_unique(values, clean), index=values.index, dtype=object)


def _blank_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    for column in CSV_COLUMNS:
        frame[column] = _clean(frame[column])
    return frame


def parse_ses_jsonl(path: Path) -> ParsedFile:
    """Flatten SES bounce, complaint and delivery notifications: one row per recipient."""
    rows: list[list[Any]] = []
    unreadable: list[tuple[int, str]] = []
    with path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                notification = json.loads(line)
            except json.JSONDecodeError:
                unreadable.append((line_number, f"{CONTRACT}.json (not a JSON object)"))
                continue
            if not isinstance(notification, dict):
                unreadable.append((line_number, f"{CONTRACT}.json (not a JSON object)"))
                continue
            parsed = list(_ses_rows(notification))
            if not parsed:
                unreadable.append(
                    (line_number, f"{CONTRACT}.event (no recipients, or an unknown notificationType)")
                )
            for recipient, row in enumerate(parsed, start=1):
                rows.append([*row, line_number, recipient])
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    return ParsedFile(_blank_to_none(frame), unreadable)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ses_rows(note: dict[str, Any]) -> Iterator[list[Any]]:
    kind = str(note.get("notificationType") or note.get("eventType") or "")
    mail_time = _object(note.get("mail")).get("timestamp")
    if kind == "Bounce":
        bounce = _object(note.get("bounce"))
        when = bounce.get("timestamp") or mail_time
        bounce_type = str(bounce.get("bounceType") or "")
        subtype = str(bounce.get("bounceSubType") or "")
        for recipient in bounce.get("bouncedRecipients") or []:
            if not isinstance(recipient, dict):
                continue
            diagnostic = recipient.get("diagnosticCode")
            status = recipient.get("status")
            if not status:
                if bounce_type == "Permanent":
                    status = SES_PERMANENT_SUBTYPES.get(subtype, "5.0.0")
                elif bounce_type == "Transient":
                    status = "4.2.2" if subtype == "MailboxFull" else "4.0.0"
            yield [recipient.get("emailAddress"), "bounce", _smtp_of(diagnostic), status, diagnostic, when]
    elif kind == "Complaint":
        complaint = _object(note.get("complaint"))
        when = complaint.get("timestamp") or mail_time
        feedback = complaint.get("complaintFeedbackType")
        for recipient in complaint.get("complainedRecipients") or []:
            address = recipient.get("emailAddress") if isinstance(recipient, dict) else recipient
            yield [address, "complaint", None, None, f"complaint: {feedback}" if feedback else None, when]
    elif kind == "Delivery":
        delivery = _object(note.get("delivery"))
        when = delivery.get("timestamp") or mail_time
        response = delivery.get("smtpResponse")
        for address in delivery.get("recipients") or []:
            yield [address, "delivery", _smtp_of(response), code_from_text(response), response, when]


def _smtp_of(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    match = SMTP_IN_TEXT.match(text)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------------------- checking


@dataclass
class CheckedRows:
    accepted: pd.DataFrame  # typed for the contract: strings, datetime64 occurred_at, int64 lines
    rejected_lines: list[tuple[int, str]]  # (line, "rule id, rule id")


def check_rows(frame: pd.DataFrame) -> CheckedRows:
    """Apply the bounce_export contract's row rules to every row; rows failing one are set aside.

    The rules come from the contract (required, pattern, maxLength, valid values, types), so the
    quarantine and the whole-frame validation that follows agree.
    """
    from tasks.contracts import load_contract

    contract = load_contract(CONTRACT)
    frame = frame.copy()
    frame["event"] = _clean(frame["event"], lower=True)
    # An empty enhanced status is read from the diagnostic ("smtp; 550 5.1.1 ..."), and codes are
    # normalised (5.01.001 -> 5.1.1) so that equal codes compare equal.
    missing = frame["enhanced_status"].isna() & frame["diagnostic"].notna()
    if missing.any():
        found = per_unique(frame.loc[missing, "diagnostic"], lambda d: [code_from_text(v) for v in d])
        frame.loc[missing, "enhanced_status"] = found
    frame["enhanced_status"] = pd.Series(
        per_unique(frame["enhanced_status"], lambda d: [normalise_code(v) or v for v in d]),
        index=frame.index,
        dtype=object,
    )
    raw_time = frame["occurred_at"]
    parsed = pd.to_datetime(raw_time, utc=True, errors="coerce", format="ISO8601")
    failures: dict[str, np.ndarray] = {}
    n = len(frame)
    for check in contract.checks:
        if check.column is None:
            continue
        column: str = check.column
        if column not in frame.columns or check.kind in ("column_exists", "unique"):
            continue
        values = frame[column]
        if check.kind in ("regex", "length", "in_set"):
            failures[check.rule_id] = per_unique(values, _row_check(check)).astype(bool)
            continue
        if column == "occurred_at":
            if check.kind == "not_null":
                failures[check.rule_id] = raw_time.isna().to_numpy()
            elif check.kind == "type":
                failures[check.rule_id] = (raw_time.notna() & parsed.isna()).to_numpy()
            continue
        if check.kind == "not_null":
            failures[check.rule_id] = values.isna().to_numpy()
    failed_any = np.zeros(n, dtype=bool)
    for mask in failures.values():
        failed_any |= mask
    rejected: list[tuple[int, str]] = []
    if failed_any.any():
        lines = frame["source_line"].to_numpy()
        for index in np.flatnonzero(failed_any):
            reasons = [rule for rule, mask in failures.items() if mask[index]]
            rejected.append((int(lines[index]), ", ".join(reasons)))
    accepted = frame.loc[~failed_any].copy()
    accepted["occurred_at"] = (
        parsed[~failed_any].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    )
    accepted["source_line"] = accepted["source_line"].astype("int64")
    accepted["recipient"] = accepted["recipient"].astype("int64")
    return CheckedRows(accepted.reset_index(drop=True), rejected)


def _row_check(check: Any) -> Callable[[pd.Series], list[bool]]:
    """A contract rule as a function of distinct values -> failed? (missing values pass, as in GX)."""
    params = check.params
    if check.kind == "regex":
        pattern = re.compile(params["regex"])
        return lambda d: [isinstance(v, str) and pattern.search(v) is None for v in d]
    if check.kind == "length":
        low, high = params.get("min_value"), params.get("max_value")
        return lambda d: [
            isinstance(v, str)
            and ((high is not None and len(v) > high) or (low is not None and len(v) < low))
            for v in d
        ]
    allowed = set(params["value_set"])
    return lambda d: [v is not None and v not in allowed for v in d]


def _for_validation(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame[list(FRAME_COLUMNS)].copy()
    for column in ("email", "event", "smtp_status", "enhanced_status", "diagnostic"):
        typed[column] = typed[column].astype("str")  # pandas' string dtype, None -> missing
    return typed


# --------------------------------------------------------------------------------------- ingesting


def ingest_file(path: Path, *, engine: Engine | None = None) -> FileResult:
    """Ingest one export file (once: a file seen before changes nothing). One transaction."""
    from tasks.contracts import validate_frame

    engine = engine or get_engine()
    path = Path(path)
    if not path.is_file():
        raise BounceFileError(f"{path}: no such file")
    sha = sha256_of(path)
    with path.open("rb") as handle:
        head = handle.read(256)
    file_format = detect_format(path, head)
    result = FileResult(file_name=path.name, sha256=sha, format=file_format)
    with engine.connect() as conn:
        seen = conn.execute(select(bounce_files.c.id).where(bounce_files.c.sha256 == sha)).first()
    if seen is not None:
        result.already_ingested = True
        result.file_id = int(seen.id)
        return result
    parsed = parse_ses_jsonl(path) if file_format == "ses_jsonl" else parse_csv(path)
    checked = check_rows(parsed.frame)
    if len(checked.accepted):
        report = validate_frame(CONTRACT, _for_validation(checked.accepted))
        report.raise_for_blocking()
    rejected = sorted(parsed.unreadable + checked.rejected_lines)
    classes = classify(
        checked.accepted["event"], checked.accepted["enhanced_status"], checked.accepted["smtp_status"]
    )
    result.by_class = {str(k): int(v) for k, v in Counter(classes).items()}
    result.events = len(checked.accepted)
    result.quarantined = len(rejected)
    result.quarantine_reasons = dict(Counter(reason for _line, reason in rejected))
    result.quarantined_lines = rejected
    source_file = f"{path.name[:200]}#{sha[:12]}"
    now = utc_now()
    with engine.begin() as conn:
        # Another run may have ingested the same file meanwhile: the unique sha256 makes one of us fail.
        file_id = int(
            conn.execute(
                insert(bounce_files).returning(bounce_files.c.id),
                [
                    {
                        "file_name": path.name[:255],
                        "sha256": sha,
                        "format": file_format,
                        "size_bytes": path.stat().st_size,
                        "source_file": source_file,
                        "event_count": result.events,
                        "quarantined_count": result.quarantined,
                        "ingested_at": now,
                    }
                ],
            ).scalar_one()
        )
        result.file_id = file_id
        if rejected:
            conn.execute(
                insert(bounce_quarantine),
                [
                    {"file_id": file_id, "source_line": line, "reasons": reason[:500], "quarantined_at": now}
                    for line, reason in rejected
                ],
            )
        _stage(conn, checked.accepted, source_file, now)
    return result


SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
"""How SQLAlchemy's DateTime stores a timestamp in SQLite (so rows written directly read back alike)."""


def _none(values: pd.Series) -> list[Any]:
    return [None if v is None or v != v else v for v in values.tolist()]


def _stage(conn: Connection, frame: pd.DataFrame, source_file: str, now: datetime) -> None:
    """Write the accepted rows to email_events: on SQLite straight through the driver's executemany
    (SQLAlchemy's per-row parameter processing costs more than the insert), elsewhere with insert()."""
    if frame.empty:
        return
    recipients = frame["recipient"].to_numpy()
    files = [source_file if r == 1 else f"{source_file}+r{r}" for r in recipients.tolist()]
    columns = {
        "email": _none(frame["email"]),
        "event_type": _none(frame["event"]),
        "smtp_status": _none(frame["smtp_status"]),
        "enhanced_status": _none(frame["enhanced_status"]),
        "diagnostic": _none(frame["diagnostic"]),
        "source_file": files,
        "source_line": frame["source_line"].astype(int).tolist(),
    }
    if conn.dialect.name == "sqlite":
        # The staging table's indexes (address, time, file and line) outgrow SQLite's default 2 MB page
        # cache at a few hundred thousand rows; a larger cache for this transaction keeps inserts fast.
        columns["occurred_at"] = frame["occurred_at"].dt.strftime(SQLITE_DATETIME).tolist()
        columns["ingested_at"] = [now.strftime(SQLITE_DATETIME)] * len(frame)
        compiled = insert(email_events).values({name: None for name in columns}).compile(dialect=conn.dialect)
        order = list(compiled.positiontup or [])
        rows = list(zip(*(columns[name] for name in order), strict=True))
        with sqlite_page_cache(conn):
            cursor = conn.connection.cursor()
            try:
                for start in range(0, len(rows), INSERT_CHUNK):
                    cursor.executemany(str(compiled), rows[start : start + INSERT_CHUNK])
            finally:
                cursor.close()
        return
    columns["occurred_at"] = list(frame["occurred_at"].dt.to_pydatetime())
    columns["ingested_at"] = [now] * len(frame)
    names = list(columns)
    for start in range(0, len(frame), INSERT_CHUNK):
        stop = min(start + INSERT_CHUNK, len(frame))
        batch = [
            dict(zip(names, values, strict=True))
            for values in zip(*(columns[n][start:stop] for n in names), strict=True)
        ]
        conn.execute(insert(email_events), batch)


def ingest_files(
    paths: Iterable[Path], *, engine: Engine | None = None, progress: ProgressCallback | None = None
) -> list[FileResult]:
    """Ingest several files in order; each in its own transaction."""
    progress = progress or no_progress
    results = []
    for path in paths:
        results.append(ingest_file(Path(path), engine=engine))
        progress(1)
    return results


def inbox_files(folder: Path) -> list[Path]:
    """The export files in a folder (*.csv, *.jsonl, *.json, *.ndjson), oldest name first."""
    if not folder.is_dir():
        return []
    wanted = {".csv", ".jsonl", ".json", ".ndjson"}
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in wanted)


_SAFE_REASON = re.compile(r"^[A-Za-z0-9_.,:;()= -]*$")


def summarise_quarantine(lines: Sequence[tuple[int, str]], limit: int = 20) -> list[str]:
    """`line N: rule, rule` for the first `limit` quarantined lines (rule ids only, never values)."""
    return [f"line {line}: {reason}" for line, reason in lines[:limit] if _SAFE_REASON.match(reason)]

"""Research extracts: pseudonymised data about the people who agreed to research sharing.

Only accounts with `consent_research` and without restricted processing are included. Each person
appears under a keyed pseudonym per recipient (tasks.audit.keyed_hash(account id, purpose
"research:<recipient>")): the same person gets unrelated pseudonyms at different recipients, and only
steward's secret links a pseudonym back. No name, contact detail, employer, free text or
special-category data is included (gender, ethnicity and date of birth are held for age checks and
diversity reporting only). The file is an AES-256 encrypted ZIP, owner-only, whose password is shown
once, after every share has been recorded in the data-share log (data_shares) and the audit trail: a
file left behind by a crash before that cannot be opened.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from steward.errors import ConfigurationError
from steward.settings import get_settings
from tasks.audit import keyed_hash, write_audit
from tasks.calendar import today_local, utc_now
from tasks.db import get_engine, run_sql
from tasks.schema import data_shares

if TYPE_CHECKING:
    import pandas as pd

DATASET = "research_extract"
DEFAULT_PURPOSE = "Research into STEM education, with the person's agreement to research sharing"
COLUMNS = (
    "pseudonym",
    "account_type",
    "region",
    "school_phase",
    "subject",
    "registration_year",
    "cpd_courses_attended",
    "ambassador_activities",
    "ambassador_hours",
    "impact_responses",
    "mean_impact_score",
)
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class ExtractResult:
    """Where the extract is and what it holds: counts, paths, checksums. The password is separate."""

    recipient: str
    people: int
    path: Path
    sha256: str
    shares_recorded: int


def recipient_key(recipient: str) -> str:
    """The recipient as it keys pseudonyms: trimmed and lower-cased, so spelling variants agree."""
    key = " ".join(recipient.split()).lower()
    if not key:
        raise ConfigurationError("--recipient: the research partner's name is empty")
    if len(recipient) > 200:
        raise ConfigurationError("--recipient: at most 200 characters (the data-share log's limit)")
    return key


def pseudonym(account_id: int, recipient: str) -> str:
    """The person's pseudonym at this recipient (64 hex characters)."""
    return keyed_hash(str(account_id), purpose=f"research:{recipient_key(recipient)}")


def _year(value: Any) -> int:
    if isinstance(value, datetime | date):
        return value.year
    return int(str(value)[:4])


def extract_rows(recipient: str, url: str | None = None) -> tuple[list[dict[str, Any]], list[int]]:
    """The extract's rows (sorted by pseudonym, so their order tells nothing) and the account ids."""
    rows: list[dict[str, Any]] = []
    ids: list[int] = []
    with get_engine(url).connect() as conn:
        for row in run_sql(conn, "research__consenting_people"):
            ids.append(int(row.account_id))
            rows.append(
                {
                    "pseudonym": pseudonym(int(row.account_id), recipient),
                    "account_type": row.account_type,
                    "region": row.region,
                    "school_phase": row.school_phase,
                    "subject": row.subject,
                    "registration_year": _year(row.registered_at),
                    "cpd_courses_attended": int(row.cpd_courses_attended),
                    "ambassador_activities": int(row.ambassador_activities),
                    "ambassador_hours": round(float(row.ambassador_hours or 0.0), 2),
                    "impact_responses": int(row.impact_responses),
                    "mean_impact_score": (
                        None if row.mean_impact_score is None else round(float(row.mean_impact_score), 3)
                    ),
                }
            )
    order = sorted(range(len(rows)), key=lambda i: rows[i]["pseudonym"])
    return [rows[i] for i in order], [ids[i] for i in order]


def extract_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("registration_year", "cpd_courses_attended", "ambassador_activities", "impact_responses"):
        frame[column] = frame[column].astype("int64")
    for column in ("ambassador_hours", "mean_impact_score"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("pseudonym", "account_type", "region", "school_phase", "subject"):
        frame[column] = frame[column].astype("str").where(frame[column].notna(), None)
    return frame


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def _readme(recipient: str, people: int, purpose: str, today: date) -> bytes:
    return (
        f"Research extract for {recipient}, prepared on {today.isoformat()}.\n\n"
        f"Purpose: {purpose}.\n"
        f"People: {people}, each of whom agreed to research sharing.\n\n"
        "research-extract.csv has one row per person. `pseudonym` identifies the person only within\n"
        "this recipient's files: another recipient sees the same person under an unrelated pseudonym.\n"
        "Do not try to identify anyone, do not pass the file on, and delete it when the research no\n"
        "longer needs it. Names, contact details, employers, free text and special-category data\n"
        "(gender, ethnicity, date of birth) are never included.\n"
    ).encode()


def _write_owner_only(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path.parent, DIR_MODE)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(partial, FILE_MODE)
    os.replace(partial, path)


def create_research_extract(
    recipient: str,
    password: str,
    *,
    purpose: str = DEFAULT_PURPOSE,
    url: str | None = None,
    today: date | None = None,
) -> ExtractResult:
    """Write the encrypted extract for `recipient` and record every share; returns counts and paths.

    The caller shows the password (generated with tasks.subject_access.package.generate_password) to
    the user only after this returns: the shares are recorded by then.
    """
    from tasks.contracts import validate_frame
    from tasks.funders import slugify
    from tasks.subject_access.package import encrypt_files

    key = recipient_key(recipient)
    name = " ".join(recipient.split())
    today = today or today_local()
    rows, account_ids = extract_rows(name, url)
    report = validate_frame(DATASET, extract_frame(rows))
    report.raise_for_blocking()
    content = encrypt_files(
        {
            "research-extract.csv": _csv(rows),
            "README.txt": _readme(name, len(rows), purpose, today),
        },
        password,
    )
    digest = hashlib.sha256(content).hexdigest()
    directory = get_settings().output_dir / "research" / slugify(key)
    path = directory / f"{today.isoformat()}-research-extract-{digest[:12]}.zip"
    _write_owner_only(path, content)
    shared_at = utc_now()
    try:
        with get_engine(url).begin() as conn:
            if account_ids:
                conn.execute(
                    insert(data_shares),
                    [
                        {
                            "account_id": account_id,
                            "recipient": name,
                            "dataset": DATASET,
                            "purpose": purpose[:200],
                            "lawful_basis": get_settings().research_extract_lawful_basis,
                            "pseudonymised": True,
                            "shared_at": shared_at,
                        }
                        for account_id in account_ids
                    ],
                )
            write_audit(
                conn,
                "research_extract_shared",
                rule="consent_research",
                detail={
                    "recipient": slugify(key),
                    "people": len(account_ids),
                    "file_sha256": digest,
                    "file": path.name,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExtractResult(name, len(rows), path, digest, len(account_ids))

"""Subject access, step by step: register, start, extract, check, package, complete, report progress.

Each step is a plain typed function (tests and the CLI call them); `tasks.subject_access.flow_tasks`
wraps them for the Prefect flow. What a step returns to a caller that may log it (counts, ids, dates,
checksums) never holds personal data; the Extract itself holds it and never leaves the process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from steward.progress import ProgressCallback, no_progress
from steward.settings import get_settings
from tasks.artifacts import markdown_table, publish_markdown
from tasks.audit import normalise_email, write_audit
from tasks.calendar import today_local, utc_now
from tasks.contracts import ValidationReport
from tasks.personal_data import TableMap, personal_data_map
from tasks.requests import (
    RequestError,
    RequestView,
    complete_request,
    find_account_id,
    get_request,
    register_request,
    set_status,
    view_request,
)
from tasks.schema import metadata, request_register
from tasks.subject_access.describe import describe
from tasks.subject_access.extract import Extractor, TableRows, redact_rows
from tasks.subject_access.model import REDACTED, Category, Extract, SubjectIdentifiers
from tasks.subject_access.package import PackageResult, generate_password, write_package

EXTRACT_CONTRACT = "sar_extract"
ARTIFACT_PREFIX = "subject-access-request"


class NotReady(RequestError):
    """The request cannot be acted on yet (identity not checked) or any more (closed)."""


def artifact_key(request_id: int) -> str:
    return f"{ARTIFACT_PREFIX}-{request_id}"


# ------------------------------------------------------------------------------------------ register


def register_access_request(
    conn: Connection,
    email: str,
    *,
    account_id: int | None = None,
    received_on: date | None = None,
    identity_verified: bool = False,
) -> int:
    """Register a subject access request (the shared register, kind `access`); returns its id."""
    return register_request(
        conn,
        "access",
        email,
        account_id=account_id,
        received_on=received_on,
        identity_verified=identity_verified,
    )


def account_email(
    conn: Connection, account_id: int, entries: Mapping[str, TableMap] | None = None
) -> str | None:
    """The address on an account, read through the map (the `self` table's `email` link)."""
    entries = entries if entries is not None else personal_data_map()
    for entry in entries.values():
        keys = [link.column for link in entry.subject_links if link.kind == "self"]
        addresses = [link.column for link in entry.subject_links if link.kind == "email"]
        if keys and addresses:
            table = metadata.tables[entry.table]
            row = conn.execute(select(table.c[addresses[0]]).where(table.c[keys[0]] == account_id)).first()
            if row is not None and row[0]:
                return str(row[0])
    return None


def register_from_parameters(
    conn: Connection,
    email: str | None,
    *,
    account_id: int | None = None,
    received_on: date | None = None,
    identity_verified: bool = False,
) -> int:
    """Register a request from what the DPO gave: an address, an account id, or both."""
    if not email:
        if account_id is None:
            raise RequestError("a subject access request needs an email address or an account id")
        email = account_email(conn, account_id)
        if email is None:
            raise RequestError(f"no account {account_id}: give the person's email address instead")
    return register_access_request(
        conn, email, account_id=account_id, received_on=received_on, identity_verified=identity_verified
    )


def view(conn: Connection, request_id: int) -> RequestView:
    return view_request(conn, request_id)


RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = (".example", ".invalid", ".test", ".localhost")


def is_reserved_address(email: str) -> bool:
    """True for an address at a domain reserved for examples (RFC 2606, RFC 6761): nobody real."""
    domain = normalise_email(email).rpartition("@")[2]
    return domain in RESERVED_DOMAINS or domain.endswith(RESERVED_TLDS)


def demo_sample_account(conn: Connection, entries: Mapping[str, TableMap] | None = None) -> int | None:
    """The account of the nightly sample request: the first account, only when its address is at a
    reserved example domain (demo data). On real data there is none, so no sample runs."""
    entries = entries if entries is not None else personal_data_map()
    for entry in entries.values():
        keys = [link.column for link in entry.subject_links if link.kind == "self"]
        if not keys:
            continue
        table = metadata.tables[entry.table]
        first = conn.execute(select(func.min(table.c[keys[0]]))).scalar()
        if first is None:
            continue
        email = account_email(conn, int(first), entries)
        if email and is_reserved_address(email):
            return int(first)
    return None


def begin(conn: Connection, request_id: int) -> RequestView:
    """Check the request can be acted on and mark it in progress (a rerun after a crash continues).

    Raises NotReady for a request of another kind, a closed one, or one whose identity is unchecked:
    a package goes only to a person whose identity the DPO has confirmed.
    """
    view = view_request(conn, request_id)
    if view.kind != "access":
        raise NotReady(f"request {request_id} is a {view.kind} request, not subject access")
    if view.status in ("completed", "rejected"):
        raise NotReady(f"request {request_id} is already {view.status}")
    if view.status == "awaiting_identity_check":
        raise NotReady(
            f"request {request_id} awaits its identity check: record it with `steward sar verify "
            f"{request_id}` first"
        )
    if view.status != "in_progress":
        set_status(conn, request_id, "in_progress")
    return view_request(conn, request_id)


# ------------------------------------------------------------------------------------------- extract


def identifiers_of(conn: Connection, request: Mapping[str, Any]) -> SubjectIdentifiers:
    """The requester's identifiers from the register row (the account is looked up again by address
    when the register has none: it may have been created after the request)."""
    who = SubjectIdentifiers()
    if request.get("email"):
        who.emails.add(normalise_email(request["email"]))
    account_id = request.get("account_id")
    if account_id is None and request.get("email"):
        account_id = find_account_id(conn, request["email"])
    if account_id is not None:
        who.account_ids.add(int(account_id))
    return who


def _category(entry: TableMap, rows: TableRows, who: SubjectIdentifiers) -> Category:
    redacted = redact_rows(rows, who)
    text = describe(entry)
    return Category(
        table=entry.table,
        title=text.title,
        description=text.description,
        source=text.source,
        purpose=entry.purpose,
        legal_basis=entry.legal_basis or "",
        recipients=list(entry.recipients),
        retention_rule=entry.retention_rule,
        retention=text.retention,
        classifications=list(entry.categories),
        columns=list(redacted.records[0]) if redacted.records else [],
        records=redacted.records,
        redactions=redacted.redactions,
        record_keys=[str(key) for key in redacted.keys],
        reached_by=[";".join(sorted(rows.reached_by[key])) for key in redacted.keys],
        unowned_identifiers=redacted.unowned_identifiers,
        shared_free_text=redacted.shared_free_text,
    )


def _disclosures(categories: list[Category], entries: Mapping[str, TableMap]) -> list[dict[str, Any]]:
    log_table = get_settings().sar_disclosure_log
    for category in categories:
        if category.table == log_table:
            hidden = {link.column for link in entries[log_table].links} | set(entries[log_table].key)
            return [{k: v for k, v in record.items() if k not in hidden} for record in category.records]
    return []


def build_extract(
    conn: Connection,
    request_id: int,
    *,
    entries: Mapping[str, TableMap] | None = None,
    now: datetime | None = None,
) -> Extract:
    """Everything held about the requester of `request_id`, redacted (tasks.subject_access.extract)."""
    request = get_request(conn, request_id)
    entries = entries if entries is not None else personal_data_map()
    who = identifiers_of(conn, request)
    extractor = Extractor(conn, entries, metadata)
    found = extractor.find(who)
    # The register's row of this very request is the request, not data the person asks about; their
    # other requests (an earlier erasure request) are, and stay.
    this_request = found.get(request_register.name)
    if this_request is not None:
        this_request.rows.pop(request_id, None)
        this_request.reached_by.pop(request_id, None)
    categories = [_category(entries[name], rows, who) for name, rows in found.items() if rows.rows]
    reference = extractor.reference_rows(found)
    verified = request["identity_verified_on"]
    return Extract(
        request_id=request_id,
        received_on=_as_date(request["received_on"]),
        identity_verified_on=_as_date(verified) if verified else None,
        due_on=_as_date(request["due_on"]),
        generated_at=now or utc_now(),
        identifiers=who,
        categories=categories,
        reference=reference,
        reference_titles={name: describe(entries[name]).title for name in reference},
        disclosures=_disclosures(categories, entries),
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# -------------------------------------------------------------------------------------------- check


def extract_frame(extract: Extract) -> Any:
    """The extract as one row per record, for its contract (data_contracts/datasets/sar_extract.yaml):
    where each record came from, why it is held, and what redaction left. No record values."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for category in extract.categories:
        for index, record in enumerate(category.records):
            rows.append(
                {
                    "request_id": extract.request_id,
                    "category": category.table,
                    "record_key": category.record_keys[index],
                    "reached_by": category.reached_by[index],
                    "legal_basis": category.legal_basis,
                    "purpose": category.purpose,
                    "retention": category.retention,
                    "redacted_values": sum(1 for value in record.values() if value == REDACTED),
                    "unowned_identifiers": category.unowned_identifiers[index],
                }
            )
    dtypes = {
        "request_id": "int64",
        "category": "str",
        "record_key": "str",
        "reached_by": "str",
        "legal_basis": "str",
        "purpose": "str",
        "retention": "str",
        "redacted_values": "int64",
        "unowned_identifiers": "int64",
    }
    return pd.DataFrame(
        {col: pd.Series([row[col] for row in rows], dtype=dtype) for col, dtype in dtypes.items()}
    )


def check_extract(extract: Extract) -> ValidationReport:
    """Validate the extract against its contract; raises ContractViolation on a blocking failure, so
    no package is written from an extract that failed (another person's identifier left in it)."""
    from tasks.contracts import validate_frame

    report = validate_frame(EXTRACT_CONTRACT, extract_frame(extract))
    report.raise_for_blocking()
    return report


# ------------------------------------------------------------------------------------------ package


def package(extract: Extract, password: str, *, keep_plain: bool = False) -> PackageResult:
    settings = get_settings()
    return write_package(
        extract,
        settings.output_dir,
        password,
        controller=settings.sar_controller_name,
        dpo_contact=settings.sar_dpo_contact,
        keep_plain=keep_plain,
    )


def finish(conn: Connection, extract: Extract, result: PackageResult) -> RequestView:
    """Record completion and the package's checksum in the register, and the counts in the audit."""
    request = get_request(conn, extract.request_id)
    write_audit(
        conn,
        "sar_package_written",
        subject=request["subject_hash"],
        request_id=extract.request_id,
        detail={
            "records": extract.counts(),
            "redacted": extract.redaction_counts(),
            "package_sha256": result.sha256,
        },
    )
    complete_request(conn, extract.request_id, result.sha256)
    return view_request(conn, extract.request_id)


# ------------------------------------------------------------------------------------------ progress


@dataclass
class Progress:
    """What the request's artifact shows: ids, dates, status and counts, never personal data."""

    view: RequestView
    counts: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    shared_free_text: int = 0
    data_held: bool | None = None
    package_sha256: str | None = None
    contract: dict[str, Any] | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.view.id,
            "status": self.view.status,
            "received_on": self.view.received_on.isoformat(),
            "identity_verified_on": (
                self.view.identity_verified_on.isoformat() if self.view.identity_verified_on else None
            ),
            "due_on": self.view.due_on.isoformat(),
            "extended": self.view.extended,
            "data_held": self.data_held,
            "records": sum(self.counts.values()),
            "categories": len(self.counts),
            "package_sha256": self.package_sha256,
        }


def progress_markdown(progress: Progress, today: date | None = None) -> str:
    view = progress.view
    today = today or today_local()
    left = view.days_left(today)
    lines = [
        markdown_table(
            ("request", "status", "received", "identity checked", "due", "days left", "extended"),
            [
                (
                    view.id,
                    view.status,
                    view.received_on,
                    view.identity_verified_on or "not yet",
                    view.due_on,
                    left if view.status != "completed" else "-",
                    "yes" if view.extended else "no",
                )
            ],
        )
    ]
    if progress.note:
        lines += ["", progress.note]
    if progress.data_held is not None:
        lines += ["", "Data held: " + ("yes" if progress.data_held else "no (a 'no data held' response)")]
    if progress.counts:
        rows = [(table, count, progress.redacted.get(table, 0)) for table, count in progress.counts.items()]
        lines += ["", markdown_table(("category", "records", "values redacted"), rows)]
    if progress.shared_free_text:
        lines += [
            "",
            f"{progress.shared_free_text} free-text value(s) sit in records shared with another person "
            "(for example the details of a report on the person's post): read them before sending.",
        ]
    if progress.contract:
        c = progress.contract
        lines += [
            "",
            f"Extract contract `{c['contract']}`: {c['rules_passed']} of {c['rules']} rules passed.",
        ]
    if progress.package_sha256:
        lines += ["", f"Package SHA-256: `{progress.package_sha256}`"]
    return "\n".join(lines)


def publish_progress(progress: Progress) -> Path:
    """The keyed artifact `subject-access-request-<id>` (and its file under output_dir/reports)."""
    return publish_markdown(
        artifact_key(progress.view.id),
        progress_markdown(progress),
        f"Subject access request {progress.view.id}",
    )


# --------------------------------------------------------------------------------------- whole run


@dataclass(frozen=True)
class RunResult:
    """The outcome of producing one package: safe to print and log (no personal data, no password)."""

    request_id: int
    status: str
    data_held: bool
    records: dict[str, int]
    redacted: dict[str, int]
    zip_path: Path
    sha256: str
    manifest_sha256: str
    plain_directory: Path | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "data_held": self.data_held,
            "records": sum(self.records.values()),
            "categories": len(self.records),
            "package": str(self.zip_path),
            "package_sha256": self.sha256,
        }


PRODUCE_STEPS = 5
"""Steps `produce_package` reports to its progress callback."""


def produce_package(
    request_id: int,
    *,
    announce_password: Callable[[int, str], None],
    keep_plain: bool = False,
    url: str | None = None,
    progress: ProgressCallback = no_progress,
) -> RunResult:
    """The whole request in one call (the CLI's `steward sar run`): begin, extract, check, package,
    complete, publish progress. The password goes to `announce_password` once and nowhere else."""
    from tasks.db import begin as begin_transaction

    with begin_transaction(url) as conn:
        begin(conn, request_id)
    progress(1)
    with begin_transaction(url) as conn:
        extract = build_extract(conn, request_id)
    progress(1)
    report = check_extract(extract)
    progress(1)
    password = generate_password()
    result = package(extract, password, keep_plain=keep_plain)
    progress(1)
    announce_password(request_id, password)
    with begin_transaction(url) as conn:
        view = finish(conn, extract, result)
    progress(1)
    publish_progress(
        Progress(
            view=view,
            counts=extract.counts(),
            redacted=extract.redaction_counts(),
            shared_free_text=extract.shared_free_text,
            data_held=extract.data_held,
            package_sha256=result.sha256,
            contract=report.summary(),
        )
    )
    return RunResult(
        request_id=request_id,
        status=view.status,
        data_held=extract.data_held,
        records=extract.counts(),
        redacted=extract.redaction_counts(),
        zip_path=result.zip_path,
        sha256=result.sha256,
        manifest_sha256=result.manifest_sha256,
        plain_directory=result.plain_directory,
    )

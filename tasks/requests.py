"""The register of data-subject requests (access, erasure and the other rights) and their deadlines.

One register serves every right. A request records who asked (email, and the account when there is
one), when it was received, when identity was checked, its statutory deadline (tasks.calendar) and its
status. Statuses:

- `awaiting_identity_check`: registered, identity not yet confirmed (the clock starts at the check
  when that comes later than receipt);
- `received`: identity confirmed (or not needed), waiting for the job that acts on it;
- `in_progress`: a job is working on it;
- `extended`: the deadline was extended by two months for a complex request;
- `deferred`: it cannot be completed yet, with the reason (an active CPD booking, a legal hold...);
- `completed`, `rejected`: closed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from steward.errors import StewardError
from tasks.audit import normalise_email, subject_hash, write_audit
from tasks.calendar import statutory_deadline, today_local, utc_now
from tasks.db import run_sql
from tasks.schema import request_register

KINDS = ("access", "erasure", "rectification", "restriction", "portability", "unsubscribe", "objection")
OPEN_STATUSES = ("awaiting_identity_check", "received", "in_progress", "extended", "deferred")
CLOSED_STATUSES = ("completed", "rejected")


class RequestError(StewardError):
    """A request id, kind or state change that is not valid."""


@dataclass(frozen=True)
class RequestView:
    """A request as the register shows it: no email, only ids, dates and status."""

    id: int
    kind: str
    status: str
    account_id: int | None
    received_on: date
    identity_verified_on: date | None
    due_on: date
    extended: bool
    deferred_reason: str | None

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days

    def is_overdue(self, today: date) -> bool:
        return today > self.due_on


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def find_account_id(conn: Connection, email: str) -> int | None:
    row = run_sql(conn, "requests__account_by_email", {"email_normalised": normalise_email(email)}).first()
    return int(row.id) if row else None


def register_request(
    conn: Connection,
    kind: str,
    email: str,
    *,
    account_id: int | None = None,
    received_on: date | None = None,
    identity_verified: bool = False,
    details: dict[str, Any] | None = None,
) -> int:
    """Record a new request and return its id. The account is found by email when not given."""
    if kind not in KINDS:
        raise RequestError(f"unknown request kind {kind!r}; one of {', '.join(KINDS)}")
    if "@" not in email:
        raise RequestError("the email address given for the request is not an address")
    received_on = received_on or today_local()
    if account_id is None:
        account_id = find_account_id(conn, email)
    verified_on = received_on if identity_verified else None
    status = "received" if identity_verified else "awaiting_identity_check"
    row = {
        "kind": kind,
        "status": status,
        "email": normalise_email(email),
        "account_id": account_id,
        "subject_hash": subject_hash(email),
        "received_on": received_on,
        "identity_verified_on": verified_on,
        "due_on": statutory_deadline(received_on, verified_on),
        "extended": False,
        "details": json.dumps(details or {}, sort_keys=True),
        "created_at": utc_now(),
    }
    request_id = int(
        conn.execute(insert(request_register).returning(request_register.c.id), [row]).scalar_one()
    )
    write_audit(
        conn, "request_registered", subject=row["subject_hash"], request_id=request_id, detail={"kind": kind}
    )
    return request_id


def get_request(conn: Connection, request_id: int) -> dict[str, Any]:
    """The whole register row (it holds the requester's email: keep it out of logs)."""
    row = conn.execute(select(request_register).where(request_register.c.id == request_id)).mappings().first()
    if row is None:
        raise RequestError(f"no request with id {request_id}")
    return dict(row)


def _view(row: Mapping[str, Any]) -> RequestView:
    verified = row["identity_verified_on"]
    return RequestView(
        id=int(row["id"]),
        kind=row["kind"],
        status=row["status"],
        account_id=row["account_id"],
        received_on=_as_date(row["received_on"]),
        identity_verified_on=_as_date(verified) if verified else None,
        due_on=_as_date(row["due_on"]),
        extended=bool(row["extended"]),
        deferred_reason=row["deferred_reason"],
    )


def view_request(conn: Connection, request_id: int) -> RequestView:
    return _view(get_request(conn, request_id))


def open_requests(conn: Connection, kind: str | None = None) -> list[RequestView]:
    """Open requests, the nearest deadline first, so overdue ones lead."""
    views = [_view(row) for row in run_sql(conn, "requests__open_requests").mappings()]
    return [view for view in views if kind is None or view.kind == kind]


def _update(conn: Connection, request_id: int, **values: Any) -> None:
    result = conn.execute(
        update(request_register).where(request_register.c.id == request_id).values(**values)
    )
    if result.rowcount == 0:
        raise RequestError(f"no request with id {request_id}")


def _require_open(conn: Connection, request_id: int) -> dict[str, Any]:
    row = get_request(conn, request_id)
    if row["status"] in CLOSED_STATUSES:
        raise RequestError(f"request {request_id} is already {row['status']}")
    return row


def verify_identity(conn: Connection, request_id: int, verified_on: date | None = None) -> RequestView:
    """Record the identity check; the deadline runs from it when it is later than receipt."""
    row = _require_open(conn, request_id)
    verified_on = verified_on or today_local()
    received_on = _as_date(row["received_on"])
    if verified_on < received_on:
        raise RequestError(f"request {request_id}: the identity check cannot precede receipt ({received_on})")
    status = row["status"] if row["status"] != "awaiting_identity_check" else "received"
    due_on = statutory_deadline(received_on, verified_on, extended=bool(row["extended"]))
    _update(conn, request_id, identity_verified_on=verified_on, due_on=due_on, status=status)
    write_audit(conn, "request_identity_verified", subject=row["subject_hash"], request_id=request_id)
    return view_request(conn, request_id)


def extend_request(conn: Connection, request_id: int, reason: str) -> RequestView:
    """Extend the deadline by two months for a complex request, recording why."""
    row = _require_open(conn, request_id)
    if not reason.strip():
        raise RequestError("an extension needs a reason")
    if row["extended"]:
        raise RequestError(f"request {request_id} is already extended")
    verified = _as_date(row["identity_verified_on"]) if row["identity_verified_on"] else None
    due_on = statutory_deadline(_as_date(row["received_on"]), verified, extended=True)
    _update(
        conn, request_id, extended=True, extension_reason=reason.strip(), due_on=due_on, status="extended"
    )
    write_audit(conn, "request_extended", subject=row["subject_hash"], request_id=request_id)
    return view_request(conn, request_id)


def set_status(conn: Connection, request_id: int, status: str, deferred_reason: str | None = None) -> None:
    """Move an open request to another open status (a deferral needs its reason)."""
    if status not in OPEN_STATUSES:
        raise RequestError(f"{status!r} is not an open status; use complete_request or reject_request")
    if status == "deferred" and not deferred_reason:
        raise RequestError("a deferral needs its reason")
    row = _require_open(conn, request_id)
    _update(
        conn, request_id, status=status, deferred_reason=deferred_reason if status == "deferred" else None
    )
    write_audit(
        conn,
        f"request_{status}",
        subject=row["subject_hash"],
        request_id=request_id,
        detail={"reason": deferred_reason} if deferred_reason else None,
    )


def complete_request(conn: Connection, request_id: int, package_sha256: str | None = None) -> None:
    row = _require_open(conn, request_id)
    _update(conn, request_id, status="completed", completed_at=utc_now(), package_sha256=package_sha256)
    write_audit(conn, "request_completed", subject=row["subject_hash"], request_id=request_id)


def reject_request(conn: Connection, request_id: int, reason: str) -> None:
    row = _require_open(conn, request_id)
    _update(conn, request_id, status="rejected", completed_at=utc_now(), deferred_reason=reason)
    write_audit(conn, "request_rejected", subject=row["subject_hash"], request_id=request_id)

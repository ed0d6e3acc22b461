"""The one audit writer, and keyed hashes that identify a data subject without naming them.

An audit record outlives the erasure it records, so it never holds an email, a name or any other
personal data: subjects appear only as an HMAC of their normalised identifier, keyed with the secret
from settings, and `detail` carries tables, counts and reasons only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, insert

from steward.settings import get_settings
from tasks.calendar import utc_now
from tasks.schema import audit_log


class PersonalDataInAudit(ValueError):
    """An audit detail looked like it carried personal data; the record was not written."""


def normalise_email(email: str) -> str:
    """The form in which addresses are compared: surrounding space trimmed, lower-cased."""
    return email.strip().lower()


def keyed_hash(value: str, purpose: str = "subject", key: bytes | None = None) -> str:
    """HMAC-SHA256 of `value` under the settings' secret, separated by `purpose` (hex, 64 chars)."""
    secret = key if key is not None else get_settings().secret_key_bytes()
    message = f"{purpose}\x1f{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def subject_hash(email: str, key: bytes | None = None) -> str:
    """The audit identity of a data subject: the keyed hash of their normalised email address."""
    return keyed_hash(normalise_email(email), "subject", key)


def current_run_id() -> str | None:
    """The Prefect flow run id, when called inside a flow run."""
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.get_id()
    except Exception:
        return None
    return str(run_id) if run_id else None


def _check_detail(detail: Mapping[str, Any]) -> None:
    def walk(value: Any) -> None:
        if isinstance(value, str) and "@" in value:
            raise PersonalDataInAudit(
                "audit detail holds a string with '@'; audit records carry no addresses"
            )
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(detail)


def audit_row(
    event: str,
    *,
    subject: str | None = None,
    rule: str | None = None,
    plan_id: int | None = None,
    request_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """One audit record as a row; `subject` is already a keyed hash (see subject_hash)."""
    detail = dict(detail or {})
    _check_detail(detail)
    if subject is not None and (len(subject) != 64 or "@" in subject):
        raise PersonalDataInAudit("audit subject must be a keyed hash, not an identifier")
    return {
        "occurred_at": utc_now(),
        "run_id": run_id if run_id is not None else current_run_id(),
        "event": event,
        "subject_hash": subject,
        "rule": rule,
        "plan_id": plan_id,
        "request_id": request_id,
        "detail": json.dumps(detail, sort_keys=True, default=str),
    }


def write_audit(conn: Connection, event: str, **fields: Any) -> None:
    """Write one audit record in the caller's transaction."""
    conn.execute(insert(audit_log), [audit_row(event, **fields)])


def write_audit_rows(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write many records built with `audit_row`, in one batched statement; returns how many."""
    batch = list(rows)
    if batch:
        conn.execute(insert(audit_log), batch)
    return len(batch)

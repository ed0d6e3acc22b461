"""The request register: deadlines, identity checks, extensions and the open list."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, insert, select

from tasks.audit import subject_hash
from tasks.calendar import utc_now
from tasks.requests import (
    RequestError,
    complete_request,
    extend_request,
    open_requests,
    register_request,
    set_status,
    verify_identity,
)
from tasks.schema import accounts, audit_log


def _add_account(engine: Engine, email: str) -> int:
    now = utc_now()
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(accounts).returning(accounts.c.id),
                [
                    {
                        "account_type": "educator",
                        "email": email,
                        "first_name": "Ada",
                        "last_name": "Example",
                        "region": "London",
                        "registered_at": now,
                        "updated_at": now,
                    }
                ],
            ).scalar_one()
        )


def test_register_links_the_account_case_insensitively_and_sets_the_deadline(engine: Engine) -> None:
    account_id = _add_account(engine, "Ada.Example@school.example")
    with engine.begin() as conn:
        request_id = register_request(
            conn, "access", "  ada.example@SCHOOL.example ", received_on=date(2026, 1, 31)
        )
        (view,) = open_requests(conn)
    assert view.id == request_id
    assert view.account_id == account_id
    assert view.status == "awaiting_identity_check"
    assert view.due_on == date(2026, 3, 2)


def test_identity_check_and_extension_move_the_deadline(engine: Engine) -> None:
    with engine.begin() as conn:
        request_id = register_request(conn, "access", "nobody@example.org", received_on=date(2026, 11, 2))
        view = verify_identity(conn, request_id, date(2026, 11, 10))
        assert (view.status, view.due_on) == ("received", date(2026, 12, 10))
        view = extend_request(conn, request_id, "complex: several systems")
        assert (view.status, view.due_on, view.extended) == ("extended", date(2027, 2, 10), True)
        with pytest.raises(RequestError, match="already extended"):
            extend_request(conn, request_id, "again")


def test_open_list_puts_the_nearest_deadline_first_and_drops_completed(engine: Engine) -> None:
    with engine.begin() as conn:
        later = register_request(
            conn, "erasure", "a@example.org", received_on=date(2026, 10, 1), identity_verified=True
        )
        sooner = register_request(
            conn, "access", "b@example.org", received_on=date(2026, 9, 1), identity_verified=True
        )
        done = register_request(
            conn, "access", "c@example.org", received_on=date(2026, 8, 1), identity_verified=True
        )
        complete_request(conn, done)
        set_status(conn, later, "deferred", "active CPD booking")
        views = open_requests(conn)
        assert [v.id for v in views] == [sooner, later]
        assert views[1].deferred_reason == "active CPD booking"
        assert views[0].is_overdue(date(2026, 11, 21))
        assert [v.id for v in open_requests(conn, kind="erasure")] == [later]
        with pytest.raises(RequestError, match="already completed"):
            verify_identity(conn, done)


def test_audit_records_identify_the_requester_only_by_keyed_hash(engine: Engine) -> None:
    with engine.begin() as conn:
        register_request(conn, "access", "Private.Person@example.org")
        rows = conn.execute(select(audit_log)).mappings().all()
    assert rows and all(row["subject_hash"] == subject_hash("private.person@example.org") for row in rows)
    dumped = json.dumps([dict(row) for row in rows], default=str).lower()
    assert "private.person" not in dumped and "@" not in dumped


def test_bad_kind_and_missing_request_are_clear_errors(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(RequestError, match="unknown request kind"):
            register_request(conn, "teleport", "a@example.org")
        with pytest.raises(RequestError, match="no request with id 999"):
            verify_identity(conn, 999)

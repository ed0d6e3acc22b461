"""Erasure requests and the other rights, recorded in the register, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from bounces_erasure_people import (
    NOW,
    TODAY,
    add_account,
    add_course,
    add_hold,
    add_members,
    add_person,
    rows_about,
)
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from tasks import schema as s
from tasks.calendar import statutory_deadline
from tasks.requests import complete_request, get_request, register_request, verify_identity
from tasks.rights import (
    RightsError,
    process_erasure_requests,
    rectify,
    request_erasure,
    restrict,
    unsubscribe,
)

_register_commands()
runner = CliRunner()


def members(engine: Engine, n: int = 100) -> None:
    with engine.begin() as conn:
        add_members(conn, n)


def request_row(engine: Engine, request_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        return get_request(conn, request_id)


def test_an_erasure_request_waits_for_the_booking_then_completes(engine: Engine) -> None:
    members(engine)
    with engine.begin() as conn:
        course = add_course(conn, "SOON", TODAY + timedelta(days=3))
        person = add_person(conn, "booked.person@example.org", course_id=course, booking_status="booked")
        request_id = request_erasure(
            conn, "Booked.Person@example.org", received_on=TODAY, identity_verified=True
        )
    row = request_row(engine, request_id)
    assert row["account_id"] == person.account_id and row["due_on"] == statutory_deadline(TODAY)
    first = process_erasure_requests(engine=engine)
    assert first.deferred == {
        request_id: f"active CPD booking: course ends {(TODAY + timedelta(days=3)).isoformat()}"
    }
    row = request_row(engine, request_id)
    assert row["status"] == "deferred" and str(row["deferred_reason"]).startswith("active CPD booking")
    with engine.connect() as conn:
        assert rows_about(conn, person)["accounts"] == 1
    with engine.begin() as conn:  # the course has ended
        conn.execute(
            sa.update(s.cpd_courses)
            .where(s.cpd_courses.c.id == course)
            .values(ends_on=TODAY - timedelta(days=1))
        )
    second = process_erasure_requests(engine=engine)
    assert second.completed == [request_id]
    row = request_row(engine, request_id)
    assert row["status"] == "completed" and row["email"] is None  # the register row keeps no address
    with engine.connect() as conn:
        assert sum(rows_about(conn, person).values()) == 0
        audit = conn.execute(
            select(s.audit_log.c.subject_hash, s.audit_log.c.request_id).where(
                s.audit_log.c.event == "subject_erased"
            )
        ).one()
    assert audit == (row["subject_hash"], request_id)


def test_a_legal_hold_and_an_open_access_request_defer_erasure(engine: Engine) -> None:
    members(engine)
    with engine.begin() as conn:
        held = add_person(conn, "held@example.org")
        hold = add_hold(conn, email="HELD@example.org")
        asked = add_person(conn, "asked@example.org")
        sar = register_request(conn, "access", "asked@example.org", identity_verified=True)
        held_request = request_erasure(conn, "held@example.org", identity_verified=True)
        asked_request = request_erasure(conn, "asked@example.org", identity_verified=True)
        waiting = request_erasure(conn, "nobody@example.org")  # identity not checked yet
    run = process_erasure_requests(engine=engine)
    assert run.deferred == {
        held_request: f"legal hold: hold {hold}",
        asked_request: f"open subject access request: request {sar}",
    }
    assert run.awaiting_identity == [waiting]
    with engine.begin() as conn:
        conn.execute(sa.update(s.legal_holds).values(lifted_at=NOW))
        complete_request(conn, sar)
        verify_identity(conn, waiting)
    again = process_erasure_requests(engine=engine)
    assert sorted(again.completed) == sorted(
        [held_request, asked_request, waiting]
    )  # no data: still completed
    with engine.connect() as conn:
        assert rows_about(conn, held)["accounts"] == 0 and rows_about(conn, asked)["accounts"] == 0


def test_the_erasure_cli_registers_with_the_deadline(engine: Engine) -> None:
    members(engine, 3)
    result = runner.invoke(
        app, ["erasure", "request", "--email", "member1@example.org", "--received", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert (
        f"due {statutory_deadline(TODAY).isoformat()}" in result.output
        and "steward erasure verify" in result.output
    )
    listing = runner.invoke(app, ["erasure", "list"])
    assert "awaiting_identity_check" in listing.output and "member1" not in listing.output


def test_restriction_is_set_lifted_and_recorded(engine: Engine) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "quiet@example.org")
        first = restrict(conn, "quiet@example.org", None)
        restricted = conn.execute(
            select(s.accounts.c.restricted, s.accounts.c.restricted_at).where(s.accounts.c.id == account)
        ).one()
        second = restrict(conn, None, account, lift=True)
        lifted = conn.execute(select(s.accounts.c.restricted).where(s.accounts.c.id == account)).scalar_one()
        kinds = conn.execute(select(s.request_register.c.kind, s.request_register.c.status)).all()
    assert restricted[0] and restricted[1] is not None and not lifted
    assert first != second and [tuple(k) for k in kinds] == [("restriction", "completed")] * 2
    result = runner.invoke(app, ["rights", "restrict", "--account-id", str(account)])
    assert result.exit_code == 0 and "restricted" in result.output


def test_rectification_records_and_lists_the_recipients_to_tell(engine: Engine) -> None:
    with engine.begin() as conn:
        person = add_person(conn, "rect@example.org")
        conn.execute(
            sa.update(s.accounts)
            .where(s.accounts.c.id == person.account_id)
            .values(email_status="undeliverable")
        )
        add_account(conn, "taken@example.org")
        result = rectify(
            conn, "rect@example.org", None, {"last_name": "Byron", "email": "Rect.New@example.org"}
        )
        account = (
            conn.execute(select(s.accounts).where(s.accounts.c.id == person.account_id)).mappings().one()
        )
        with pytest.raises(RightsError, match="another account already has that email"):
            rectify(conn, None, person.account_id, {"email": "taken@example.org"})
        with pytest.raises(RightsError, match="cannot rectify"):
            rectify(conn, None, person.account_id, {"restricted": "0"})
        with pytest.raises(RightsError, match="longer than"):
            rectify(conn, None, person.account_id, {"postcode": "X" * 50})
    assert account["last_name"] == "Byron" and account["email"] == "Rect.New@example.org"
    assert account["email_status"] == "ok"  # a corrected address clears an undeliverable mark
    assert [r["recipient"] for r in result.recipients] == ["Research partner"]
    row = request_row(engine, result.request_id)
    assert row["kind"] == "rectification" and row["status"] == "completed" and "Byron" in str(row["details"])
    cli = runner.invoke(
        app,
        ["rights", "rectify", "--account-id", str(person.account_id), "--set", "job_title=Head of Physics"],
    )
    assert cli.exit_code == 0 and "Research partner" in cli.output


def test_unsubscribe_withdraws_marketing_consent(engine: Engine) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "news@example.org", consent_marketing=True)
        request_id = unsubscribe(conn, "NEWS@example.org ", None)
        consent = conn.execute(
            select(s.accounts.c.consent_marketing).where(s.accounts.c.id == account)
        ).scalar_one()
    assert consent is False or consent == 0
    assert request_row(engine, request_id)["kind"] == "unsubscribe"
    with engine.begin() as conn, pytest.raises(RightsError, match="no account"):
        unsubscribe(conn, "nobody@example.org", None)


def test_a_dry_run_erases_nothing_and_leaves_no_plan_to_apply(engine: Engine) -> None:
    members(engine, 60)
    with engine.begin() as conn:
        request_erasure(conn, "member3@example.org", identity_verified=True)
    dry = runner.invoke(app, ["erasure", "run", "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 60
        assert conn.execute(select(s.plans.c.status)).scalars().all() == ["rejected"]
    real = process_erasure_requests(engine=engine)
    assert len(real.completed) == 1 and real.earlier_plans == []

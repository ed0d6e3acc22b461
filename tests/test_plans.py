"""The plan lifecycle on the real database: blocks defer with their reason, the guard stops a plan
before anything is deleted, approval releases it, apply is idempotent and survives being killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from bounces_erasure_people import (
    TODAY,
    add_account,
    add_course,
    add_hold,
    add_job_application,
    add_members,
    add_person,
    rows_about,
)
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from tasks import schema as s
from tasks.plans import (
    PlanError,
    PlanItem,
    PlanNeedsApproval,
    apply_plan,
    approve_plan,
    check_plan,
    create_plan,
    get_plan,
    plan_summary,
    reject_plan,
)
from tasks.requests import register_request

_register_commands()
runner = CliRunner()


def erase(account_id: int, rule: str = "test_rule") -> PlanItem:
    return PlanItem("accounts", account_id, "erase_subject", rule, "because the test says so", account_id)


def members(engine: Engine, n: int) -> list[int]:
    with engine.begin() as conn:
        return add_members(conn, n)


def statuses(engine: Engine, plan_id: int) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                s.plan_items.c.subject_row_id, s.plan_items.c.status, s.plan_items.c.deferred_reason
            ).where(s.plan_items.c.plan_id == plan_id)
        )
        return {int(r[0]): (r[1], r[2]) for r in rows}


def test_blocks_defer_with_their_reason_and_the_rest_is_applied(engine: Engine) -> None:
    members(engine, 200)
    with engine.begin() as conn:
        free = add_person(conn, "free@example.org")
        course = add_course(conn, "NEXT", TODAY + timedelta(days=10))
        booked = add_person(conn, "booked@example.org", course_id=course, booking_status="booked")
        cancelled = add_person(conn, "cancelled@example.org", course_id=course, booking_status="cancelled")
        ended = add_person(
            conn,
            "ended@example.org",
            course_id=add_course(conn, "PAST", TODAY - timedelta(days=1)),
            booking_status="booked",
        )
        held = add_person(conn, "held@example.org")
        add_hold(conn, account_id=held.account_id)
        held_by_email = add_person(conn, "Held.ByEmail@example.org")
        add_hold(conn, email="held.byemail@EXAMPLE.org ")
        asked = add_person(conn, "asked@example.org")
        register_request(conn, "access", "ASKED@example.org", identity_verified=True)
        job = add_job_application(conn, "held.byemail@example.org")
        people = [free, booked, cancelled, ended, held, held_by_email, asked]
        plan_id = create_plan(
            conn,
            "test",
            [
                *(erase(p.account_id) for p in people),
                PlanItem("job_applications", job, "delete_row", "r", "old"),
            ],
        )
        check = check_plan(conn, plan_id)
    assert check.status == "ready"
    assert check.deferred_reasons == {
        "active CPD booking": 1,
        "legal hold": 3,
        "open subject access request": 1,
    }
    reasons = statuses(engine, plan_id)
    assert reasons[booked.account_id][1] is not None and reasons[booked.account_id][1].startswith(
        "active CPD booking: course ends "
    )
    assert reasons[job] == ("deferred", reasons[held_by_email.account_id][1])  # the hold covers the address
    result = apply_plan(plan_id, engine=engine)
    assert result.status == "applied" and result.subjects_erased == 3
    with engine.connect() as conn:
        for person in (free, cancelled, ended):
            assert sum(rows_about(conn, person).values()) == 0
        for person in (booked, held, held_by_email, asked):
            assert rows_about(conn, person)["accounts"] == 1


def test_the_guard_stops_a_large_plan_until_approved(engine: Engine) -> None:
    ids = members(engine, 100)
    with engine.begin() as conn:
        plan_id = create_plan(conn, "test", [erase(a) for a in ids[:3]])  # 3% > 2%
        check = check_plan(conn, plan_id)
    assert check.status == "awaiting_approval" and check.guard.tripped
    assert "3 of 100 accounts" in check.guard.explain()
    with pytest.raises(
        PlanNeedsApproval, match=f"plan {plan_id} is waiting for approval and nothing was deleted"
    ):
        apply_plan(plan_id, engine=engine)
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 100
    with engine.begin() as conn:
        with pytest.raises(PlanError):
            approve_plan(conn, plan_id, "  ")
        approve_plan(conn, plan_id, "Dee P. O.")
        assert check_plan(conn, plan_id).status == "approved"  # a re-check keeps the approval
    assert apply_plan(plan_id, engine=engine).subjects_erased == 3
    with engine.begin() as conn:
        small = create_plan(conn, "test", [erase(ids[10])])
        assert check_plan(conn, small, max_subjects=0).status == "awaiting_approval"
        reject_plan(conn, small)
    with pytest.raises(PlanError, match="rejected"):
        apply_plan(small, engine=engine)


def test_the_cli_stops_names_the_plan_and_releases_it_after_approval(engine: Engine) -> None:
    ids = members(engine, 40)
    with engine.begin() as conn:
        for account in ids[:3]:
            register_request(
                conn, "erasure", f"member{ids.index(account)}@example.org", identity_verified=True
            )
    first = subprocess.run(
        [str(Path(sys.executable).parent / "steward"), "erasure", "run"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert first.returncode == 3, first.stderr
    assert "is waiting for approval and nothing was deleted" in first.stderr
    plan_id = int(first.stderr.split("plan ")[1].split(" ")[0])
    shown = runner.invoke(app, ["plans", "show", str(plan_id)])
    assert shown.exit_code == 0 and "awaiting_approval" in shown.output and "guard" in shown.output
    assert "member" not in shown.output  # no address in the explanation
    approved = runner.invoke(app, ["plans", "approve", str(plan_id), "--by", "Dee"])
    assert approved.exit_code == 0 and "next run" in approved.output
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 40  # not yet
    second = runner.invoke(app, ["erasure", "run"])
    assert second.exit_code == 0, second.output
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.accounts)).scalar_one() == 37
        assert get_plan(conn, plan_id)["status"] == "applied"
        statuses_now = (
            conn.execute(select(s.request_register.c.status).where(s.request_register.c.kind == "erasure"))
            .scalars()
            .all()
        )
    assert statuses_now == ["completed"] * 3
    listing = runner.invoke(app, ["plans", "list"])
    assert listing.exit_code == 0 and str(plan_id) in listing.output


def test_apply_is_idempotent(engine: Engine) -> None:
    members(engine, 100)
    with engine.begin() as conn:
        person = add_person(conn, "once@example.org")
        plan_id = create_plan(conn, "test", [erase(person.account_id)])
        check_plan(conn, plan_id)
    first = apply_plan(plan_id, engine=engine)
    again = apply_plan(plan_id, engine=engine)
    assert first.subjects_erased == 1 and again.already_applied and again.items_done == 0
    with engine.connect() as conn:
        audits = conn.execute(
            select(sa.func.count()).select_from(s.audit_log).where(s.audit_log.c.event == "subject_erased")
        ).scalar_one()
    assert audits == 1


def test_an_unchecked_plan_is_not_applied(engine: Engine) -> None:
    with engine.begin() as conn:
        plan_id = create_plan(conn, "test", [])
    with pytest.raises(PlanError, match="check_plan first"):
        apply_plan(plan_id, engine=engine)
    with engine.begin() as conn, pytest.raises(PlanError, match="anonymise_row on 'posts'"):
        create_plan(conn, "test", [PlanItem("posts", 1, "anonymise_row", "r", "x")])


def test_restricted_accounts_are_not_removed_by_a_job(engine: Engine) -> None:
    members(engine, 100)
    with engine.begin() as conn:
        person = add_person(conn, "restricted@example.org")
        conn.execute(
            sa.update(s.accounts).where(s.accounts.c.id == person.account_id).values(restricted=True)
        )
        plan_id = create_plan(conn, "bounce_removal", [erase(person.account_id)])
        check = check_plan(conn, plan_id)
    assert check.deferred_reasons == {"restriction of processing": 1}


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import tasks.plans as plans
    calls = {"n": 0}
    real = plans._mark_done
    def mark_done_then_die(conn, item_ids):
        real(conn, item_ids)
        calls["n"] += 1
        if calls["n"] == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)  # inside the batch's transaction, before its commit
    plans._mark_done = mark_done_then_die
    plans.apply_plan(int(sys.argv[1]), batch_size=3)
    """
)


def test_a_run_killed_mid_apply_is_completed_by_the_next_without_doing_anything_twice(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        people = [add_person(conn, f"p{i}@example.org") for i in range(10)]
        plan_id = create_plan(conn, "test", [erase(p.account_id) for p in people])
        check_plan(conn, plan_id, max_active_share=1.0)
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed = subprocess.run(
        [sys.executable, str(script), str(plan_id), "2"], env=env, capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    with engine.connect() as conn:
        state = statuses(engine, plan_id)
        done = {a for a, (status, _) in state.items() if status == "done"}
        assert len(done) == 3  # the first batch committed, the second died before its commit
        for person in people:
            counts = rows_about(conn, person)
            erased = sum(counts.values()) == 0
            assert erased == (person.account_id in done), "a subject is half-erased"
            if not erased:
                assert all(v >= 1 for v in counts.values()), counts
        audited = conn.execute(
            select(sa.func.count()).select_from(s.audit_log).where(s.audit_log.c.event == "subject_erased")
        ).scalar_one()
        assert audited == 3
        assert get_plan(conn, plan_id)["status"] == "applying"
    result = apply_plan(plan_id, engine=engine)
    assert result.status == "applied" and result.subjects_erased == 7
    with engine.connect() as conn:
        for person in people:
            assert sum(rows_about(conn, person).values()) == 0
        records = conn.execute(
            select(s.audit_log.c.subject_hash, s.audit_log.c.detail).where(
                s.audit_log.c.event == "subject_erased"
            )
        ).all()
    assert len(records) == 10 and len({r[0] for r in records}) == 10  # one record per subject, none lost
    from tasks.erasure import read_journal

    journal = [e for e in read_journal() if e["plan_id"] == plan_id]
    assert len(journal) == 10 and {e["record"] for e in journal} == {
        json.loads(r[1])["record"] for r in records
    }
    with engine.connect() as conn:
        assert plan_summary(conn, plan_id)["items"] == {"done": 10}


def test_a_plan_failing_its_contract_is_refused(engine: Engine) -> None:
    from tasks.contracts import ContractViolation
    from tasks.plans import validate_plan

    with engine.begin() as conn:
        account = add_account(conn, "contract@example.org")
        plan_id = create_plan(conn, "bounce_removal", [erase(account)])
        assert validate_plan(conn, plan_id) == 1
        # a second item for the same subject, written behind create_plan's back
        conn.execute(
            sa.insert(s.plan_items),
            [
                {
                    "plan_id": plan_id,
                    "account_id": account,
                    "subject_table": "accounts",
                    "subject_row_id": account,
                    "action": "erase_subject",
                    "rule": "test_rule",
                    "reason": "duplicate",
                    "status": "pending",
                }
            ],
        )
        with pytest.raises(ContractViolation, match="erasure_plan"):
            validate_plan(conn, plan_id)

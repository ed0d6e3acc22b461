"""Bounce reconciliation on the real database (SQLite, then PostgreSQL): ingest, quarantine, marks,
clearing, removal plans; no address in what the job writes out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from bounces_erasure_people import NOW, add_account, add_course, add_members, add_person
from sqlalchemy import Engine, select

from tasks import schema as s
from tasks.bounces.ingest import ingest_file
from tasks.bounces.reconcile import Thresholds, account_states, plan_removals, reconcile_accounts
from tasks.bounces.run import (
    BounceRun,
    apply_removal_plan,
    bounce_report,
    plan_and_check_removals,
    reconcile_marks,
    state_report,
)
from tasks.plans import get_plan, plan_summary

HEADER = "email,event,smtp_status,enhanced_status,diagnostic,occurred_at\n"
T = Thresholds(score=2.5, half_life_days=7.0, window_days=30, grace_days=30)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def at(days: float) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(engine: Engine, account_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(
            select(s.accounts.c.email_status).where(s.accounts.c.id == account_id)
        ).scalar_one()


def reconcile(engine: Engine, now: datetime = NOW) -> object:
    with engine.begin() as conn:
        return reconcile_accounts(conn, thresholds=T, now=now)


# ------------------------------------------------------------------------------------ ingest


def test_bad_rows_are_quarantined_with_file_line_and_rule(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        [
            f"ok@example.org,bounce,550,5.1.1,smtp; 550 5.1.1 unknown,{at(-3)}",  # line 2
            f",bounce,550,5.1.1,x,{at(-3)}",  # 3: no address
            f"someone@example.org,opened,,,,{at(-3)}",  # 4: unknown event
            "someone@example.org,bounce,550,5.1.1,x,2024-02-30T10:00:00Z",  # 5: no such date
            "someone@example.org,bounce,550,5.1.1,x,31/01/2025 10:00",  # 6: not ISO 8601
            f"not-an-address,bounce,550,5.1.1,x,{at(-3)}",  # 7
            f"someone@example.org,bounce,55,5.1.1,x,{at(-3)}",  # 8: a reply code has 3 digits
            f"  Mixed@Example.ORG ,delivery,250,2.0.0,ok,{at(-2)}",  # 9: accepted, trimmed
        ],
    )
    result = ingest_file(path, engine=engine)
    assert (result.events, result.quarantined) == (2, 6)
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.bounce_quarantine.c.source_line, s.bounce_quarantine.c.reasons).order_by(
                s.bounce_quarantine.c.source_line
            )
        ).all()
        staged = conn.execute(select(s.email_events.c.email, s.email_events.c.source_line)).all()
    assert [tuple(r) for r in rows] == [
        (3, "bounce_export.email.required"),
        (4, "bounce_export.event.invalidValues"),
        (5, "bounce_export.occurred_at.type"),
        (6, "bounce_export.occurred_at.type"),
        (7, "bounce_export.email.pattern"),
        (8, "bounce_export.smtp_status.pattern"),
    ]
    assert sorted(tuple(r) for r in staged) == [("Mixed@Example.ORG", 9), ("ok@example.org", 2)]
    report = state_report(engine=engine)
    assert "export.csv, line 5: bounce_export.occurred_at.type" in report
    assert "someone@example.org" not in report


def test_reingesting_a_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", [f"a@example.org,bounce,550,5.1.1,x,{at(-3)}", "bad,row"])
    first = ingest_file(path, engine=engine)
    copy = tmp_path / "renamed-copy.csv"
    copy.write_bytes(path.read_bytes())
    again = ingest_file(path, engine=engine)
    renamed = ingest_file(copy, engine=engine)
    assert not first.already_ingested and again.already_ingested and renamed.already_ingested
    with engine.connect() as conn:
        counts = [
            conn.execute(select(sa.func.count()).select_from(t)).scalar_one()
            for t in (s.email_events, s.bounce_files, s.bounce_quarantine)
        ]
    assert counts == [1, 1, 1]


def test_ses_json_lines_are_staged_per_recipient(engine: Engine, tmp_path: Path) -> None:
    note = {
        "notificationType": "Bounce",
        "mail": {"timestamp": at(-1)},
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [
                {"emailAddress": "x@example.org", "status": "5.1.1"},
                {"emailAddress": "y@example.org", "status": "5.1.2"},
            ],
        },
    }
    path = tmp_path / "ses.jsonl"
    path.write_text(json.dumps(note) + "\n")
    result = ingest_file(path, engine=engine)
    assert result.events == 2 and result.by_class == {"bad_mailbox": 1, "bad_domain": 1}
    with engine.connect() as conn:
        files = sorted(conn.execute(select(s.email_events.c.source_file)).scalars())
    assert files[0].startswith("ses.jsonl#") and files[1].endswith("+r2")


# ------------------------------------------------------------------------------------ the rules


def events(*rows: tuple[str, str | None, float]) -> object:
    import pandas as pd

    return pd.DataFrame(
        {
            "account_id": [1] * len(rows),
            "event_type": [r[0] for r in rows],
            "smtp_status": [None] * len(rows),
            "enhanced_status": [r[1] for r in rows],
            "diagnostic": [None] * len(rows),
            "occurred_at": [NOW + timedelta(days=r[2]) for r in rows],
        }
    )


def state(*rows: tuple[str, str | None, float]) -> tuple[object, object]:
    result = account_states(events(*rows), T)  # type: ignore[arg-type]
    row = result.iloc[0]
    return row["undeliverable_since"], row["reason"]


def test_a_permanent_bad_address_bounce_makes_the_address_undeliverable() -> None:
    since, reason = state(("delivery", "2.0.0", -10), ("bounce", "5.1.1", -5))
    assert since == NOW - timedelta(days=5) and reason == "bad_mailbox"
    since, reason = state(("bounce", "5.1.10", -4))
    assert reason == "bad_domain"


def test_a_permanent_bounce_that_is_not_about_the_address_does_not() -> None:
    assert state(("bounce", "5.7.1", -5))[1] is None
    assert state(("bounce", None, -5))[1] is None  # undetermined
    assert state(("complaint", None, -5))[1] is None


def test_a_later_delivery_clears_earlier_bounces() -> None:
    assert state(("bounce", "5.1.1", -5), ("delivery", "2.0.0", -2))[1] is None


def test_transient_bounces_past_the_decaying_score() -> None:
    # three days in a row: 1 + 0.5^(1/7) + 0.5^(2/7) = 2.73 >= 2.5
    since, reason = state(("bounce", "4.2.2", -10), ("bounce", "4.4.1", -9), ("bounce", "4.2.2", -8))
    assert reason == "transient_score" and since == NOW - timedelta(days=8)


def test_at_most_one_transient_bounce_counts_per_day() -> None:
    rows = [("bounce", "4.2.2", -10 + hour / 24) for hour in range(0, 20, 2)]
    assert state(*rows)[1] is None


def test_transient_bounces_spread_out_decay_below_the_threshold() -> None:
    # weekly: 1 + 0.5 + 0.25 + ... never reaches 2.5 within the 30-day window
    assert state(*[("bounce", "4.2.2", -70 + 7 * week) for week in range(10)])[1] is None
    # three days in a row, but a delivery in between resets the count
    assert (
        state(
            ("bounce", "4.2.2", -10),
            ("bounce", "4.2.2", -9),
            ("delivery", None, -8.5),
            ("bounce", "4.2.2", -8),
        )[1]
        is None
    )


# ------------------------------------------------------------------------------- marks and clears


def test_mark_then_clear_by_a_later_delivery(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "ada@example.org")
    ingest_file(
        write_csv(tmp_path / "1.csv", [f"ADA@example.org ,bounce,550,5.1.1,x,{at(-5)}"]), engine=engine
    )
    first = reconcile(engine)
    assert first.newly_undeliverable == {"bad_mailbox": 1}  # type: ignore[attr-defined]
    assert status_of(engine, account) == "undeliverable"
    assert reconcile(engine).newly_undeliverable == {}  # type: ignore[attr-defined]  (idempotent)
    ingest_file(
        write_csv(tmp_path / "2.csv", [f"ada@example.org,delivery,250,2.0.0,ok,{at(-1)}"]), engine=engine
    )
    cleared = reconcile(engine)
    assert cleared.cleared == {"delivery": 1}  # type: ignore[attr-defined]
    assert status_of(engine, account) == "ok"
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(s.email_deliverability)).scalar_one() == 0


def test_marks_are_sticky_while_the_transient_score_decays(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "bea@example.org")
    rows = [f"bea@example.org,bounce,452,4.2.2,full,{at(d)}" for d in (-3, -2, -1)]
    ingest_file(write_csv(tmp_path / "t.csv", rows), engine=engine)
    assert reconcile(engine).newly_undeliverable == {"transient_score": 1}  # type: ignore[attr-defined]
    later = reconcile(engine, now=NOW + timedelta(days=90))
    assert later.cleared == {} and status_of(engine, account) == "undeliverable"  # type: ignore[attr-defined]


def test_a_changed_address_clears_the_mark(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "cy@example.org")
    ingest_file(write_csv(tmp_path / "1.csv", [f"cy@example.org,bounce,550,5.1.2,x,{at(-5)}"]), engine=engine)
    reconcile(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.update(s.accounts).where(s.accounts.c.id == account).values(email="cy@new.example.org")
        )
    assert reconcile(engine).cleared == {"address_changed": 1}  # type: ignore[attr-defined]
    assert status_of(engine, account) == "ok"


def test_marks_of_an_earlier_system_are_taken_over(engine: Engine) -> None:
    with engine.begin() as conn:
        account = add_account(
            conn, "di@example.org", email_status="bounced", email_status_changed_at=NOW - timedelta(days=40)
        )
    result = reconcile(engine)
    assert result.taken_over == 1 and status_of(engine, account) == "undeliverable"  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------- removal


def test_removal_is_planned_after_the_grace_period_and_blocked_by_an_active_booking(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        gone = add_person(conn, "gone@example.org")
        future = add_course(conn, "FUTURE", NOW.date() + timedelta(days=20))
        booked = add_person(conn, "booked@example.org", course_id=future, booking_status="booked")
        recent = add_account(conn, "recent@example.org")
        add_members(conn, 200)
    # (add_person staged a delivery 5 days ago: the bounces come after it)
    rows = [
        f"gone@example.org,bounce,550,5.1.1,x,{at(-4)}",
        f"booked@example.org,bounce,550,5.1.1,x,{at(-4)}",
        f"recent@example.org,bounce,550,5.1.1,x,{at(15)}",
    ]
    ingest_file(write_csv(tmp_path / "e.csv", rows), engine=engine)
    later = NOW + timedelta(days=40)  # the grace period (30 days) has ended for the first two only
    reconcile_marks(engine=engine, now=later)
    planned = plan_and_check_removals(engine=engine, now=later)
    assert planned.plan_id is not None and planned.check is not None
    assert planned.check.pending == 1 and planned.check.deferred_reasons == {"active CPD booking": 1}
    applied = apply_removal_plan(planned.plan_id, engine=engine)
    assert applied.subjects_erased == 1
    with engine.connect() as conn:
        remaining = set(conn.execute(select(s.accounts.c.id)).scalars())
        summary = plan_summary(conn, planned.plan_id)
        assert get_plan(conn, planned.plan_id)["status"] == "applied"
    assert gone.account_id not in remaining and {booked.account_id, recent} <= remaining
    assert summary["by_rule"] == {"undeliverable_address": {"done": 1, "deferred": 1}}
    # the next run plans the deferred account again (its booking may have ended), not the removed one
    with engine.begin() as conn:
        again = plan_removals(conn, thresholds=T, now=later)
    with engine.connect() as conn:
        items = (
            conn.execute(select(s.plan_items.c.account_id).where(s.plan_items.c.plan_id == again.plan_id))
            .scalars()
            .all()
        )
    assert items == [booked.account_id]


def test_an_account_cleared_after_planning_is_not_removed(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        account = add_account(conn, "eve@example.org")
        add_members(conn, 100)
    ingest_file(
        write_csv(tmp_path / "1.csv", [f"eve@example.org,bounce,550,5.1.1,x,{at(-40)}"]), engine=engine
    )
    reconcile_marks(engine=engine, now=NOW)
    planned = plan_and_check_removals(engine=engine, now=NOW)
    ingest_file(
        write_csv(tmp_path / "2.csv", [f"eve@example.org,delivery,250,2.0.0,ok,{at(-1)}"]), engine=engine
    )
    reconcile_marks(engine=engine, now=NOW)
    assert planned.plan_id is not None
    result = apply_removal_plan(planned.plan_id, engine=engine)
    assert result.subjects_erased == 0 and status_of(engine, account) == "ok"


def test_the_report_and_the_audit_carry_no_address(engine: Engine, tmp_path: Path) -> None:
    sentinel = "sentinel.person+bounce@example.org"
    with engine.begin() as conn:
        add_account(conn, sentinel)
        add_members(conn, 100)
    path = write_csv(
        tmp_path / "e.csv",
        [
            f"{sentinel},bounce,550,5.1.1,smtp; 550 5.1.1 <{sentinel}> unknown,{at(-40)}",
            f"{sentinel},opened,,,,x",
        ],
    )
    run = BounceRun(files=[ingest_file(path, engine=engine)])
    run.reconcile = reconcile_marks(engine=engine, now=NOW)
    run.planned = plan_and_check_removals(engine=engine, now=NOW)
    assert run.planned.plan_id is not None
    run.applied = apply_removal_plan(run.planned.plan_id, engine=engine)
    texts = [bounce_report(run), state_report(engine=engine), json.dumps(run.summary(), default=str)]
    with engine.connect() as conn:
        texts += [
            json.dumps([list(r) for r in conn.execute(select(t))], default=str)
            for t in (
                s.audit_log,
                s.plans,
                s.plan_items,
                s.bounce_quarantine,
                s.bounce_files,
                s.email_deliverability,
            )
        ]
    for text in texts:
        assert "sentinel" not in text.lower()
    assert "undeliverable before the removal" in texts[0]

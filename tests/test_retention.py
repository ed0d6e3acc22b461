"""The retention sweep on a real database (SQLite, then PostgreSQL): boundaries, holds, blocks, finance
records, the guard, verify before and after, and a sweep killed mid-apply and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from retention_rows import Rows
from sqlalchemy import Engine, func, select, update

from steward import PROJECT_ROOT
from steward.settings import get_settings, reset_settings_cache
from tasks.db import get_engine
from tasks.plans import approve_plan
from tasks.requests import register_request
from tasks.retention import (
    PLAN_KIND,
    Sweep,
    plan_retention,
    run_sweep,
    verify_retention,
)
from tasks.schema import (
    accounts,
    audit_log,
    invoices,
    job_applications,
    payments,
    plan_items,
    plans,
    survey_responses,
)

TODAY = date(2026, 6, 15)


@pytest.fixture
def no_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests about rules, not the guard: allow any share of accounts and any number of rows."""
    monkeypatch.setenv("STEWARD_GUARD_MAX_ACTIVE_SHARE", "1")
    monkeypatch.setenv("STEWARD_RETENTION_GUARD_MAX_ROWS", "100000000")
    reset_settings_cache()
    yield
    reset_settings_cache()


def _planned(engine: Engine, sweep: Sweep) -> dict[str, set[int]]:
    """Plan (without checking or applying) and return the planned row ids per rule."""
    with engine.begin() as conn:
        plan_id = plan_retention(conn, sweep)
        rows = conn.execute(
            select(plan_items.c.rule, plan_items.c.subject_row_id).where(plan_items.c.plan_id == plan_id)
        ).all()
    result: dict[str, set[int]] = {rule.id: set() for rule in sweep.rules.rules}
    for rule, row_id in rows:
        result[rule].add(int(row_id))
    return result


def _exists(engine: Engine, table: object, row_id: int) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(table).where(table.c.id == row_id)).scalar_one()
            == 1
        )  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------- boundaries


def test_every_rule_at_its_boundary(db_url: str) -> None:
    """For every rule: the record whose limit was yesterday is due, the one whose limit is today is not."""
    engine = get_engine(db_url)
    sweep = Sweep.for_today(today=TODAY)
    six = sweep.cutoffs["unsuccessful_job_applications"]  # first anchor date not due: a day inside
    two = sweep.cutoffs["survey_responses"]
    eight = sweep.cutoffs["cpd_bookings"]
    finance = sweep.cutoffs["invoices_regulatory"]
    assert (six, two, eight, finance) == (
        date(2025, 12, 15),
        date(2024, 6, 15),
        date(2018, 6, 15),
        date(2020, 4, 1),
    )
    day = timedelta(days=1)
    expect: dict[str, int] = {}
    with engine.begin() as conn:
        rows = Rows(conn)
        active = rows.active_account(TODAY)
        expect["unsuccessful_job_applications"] = rows.job_application(decided=six - day)
        rows.job_application(decided=six)
        rows.job_application(decided=six - day, outcome="successful")  # not the rule's rows
        rows.job_application(decided=None, outcome="pending")
        expect["closed_information_requests"] = rows.information_request(closed=six - day)
        rows.information_request(closed=six)
        rows.information_request(closed=None)  # still open: never due
        expect["email_events"] = rows.email_event(occurred=six - day)
        rows.email_event(occurred=six)
        expect["survey_responses"] = rows.survey_response(submitted=two - day, account_id=active)
        rows.survey_response(submitted=two, account_id=active)
        expect["never_signed_in_accounts"] = rows.account(registered=two - day)
        rows.account(registered=two)
        rows.account(registered=two - 300 * day, active=two)  # a later activity keeps it
        expect["inactive_accounts"] = rows.account(registered=two - 400 * day, signed_in=two - day)
        rows.account(registered=two - 400 * day, signed_in=two - 300 * day, active=two)
        ambassador_out = rows.active_account(TODAY)
        ambassador_in = rows.active_account(TODAY)
        ambassador_kept_by_activity = rows.active_account(TODAY)
        expect["inactive_ambassador_profiles"] = rows.ambassador_profile(
            ambassador_out, joined=two - 900 * day, last_activity=two - day
        )
        rows.ambassador_profile(ambassador_in, joined=two - 900 * day, last_activity=two)
        rows.ambassador_profile(ambassador_kept_by_activity, joined=two - 900 * day, last_activity=None)
        rows.ambassador_activity(ambassador_kept_by_activity, ended=two)
        expect["ambassador_activities"] = rows.ambassador_activity(ambassador_in, ended=eight - day)
        rows.ambassador_activity(ambassador_in, ended=eight)
        old_course, kept_course = rows.course(ends=eight - day), rows.course(ends=eight)
        expect["cpd_bookings"] = rows.booking(active, old_course)
        rows.booking(active, kept_course)
        expect["impact_records"] = rows.impact_record(active, ended=eight - day)
        rows.impact_record(active, ended=eight)
        # finance: the year ending 31 March 2020 ended its 6 years on 31 March 2026 (due); the next
        # year's records (from 1 April 2020) are kept until 31 March 2027
        expect["invoices_regulatory"] = rows.invoice(issued=finance - day, account_id=active)
        kept_invoice = rows.invoice(issued=finance, account_id=active)
        expect["payments_regulatory"] = rows.payment(kept_invoice, paid=finance - day)
        rows.payment(kept_invoice, paid=finance)
    planned = _planned(engine, sweep)
    assert {rule: ids for rule, ids in planned.items()} == {rule: {expect[rule]} for rule in planned}


def test_a_rules_items_are_planned_in_row_order(db_url: str) -> None:
    """The apply takes the plan a window of items at a time, in item order: items in the order of their
    rows make each window's rows neighbours in their table, whatever order the rule's anchors are in."""
    engine = get_engine(db_url)
    sweep = Sweep.for_today(today=TODAY)
    cutoff = sweep.cutoffs["email_events"]
    with engine.begin() as conn:
        rows = Rows(conn)
        # the newest event first: anchor order is the reverse of row order
        due = [rows.email_event(occurred=cutoff - timedelta(days=1 + n)) for n in range(12)]
        plan_id = plan_retention(conn, sweep)
        planned = conn.execute(
            select(plan_items.c.subject_row_id)
            .where(plan_items.c.plan_id == plan_id, plan_items.c.rule == "email_events")
            .order_by(plan_items.c.id)
        ).scalars()
        assert [int(row_id) for row_id in planned] == sorted(due)


def test_timestamps_count_in_london_dates(db_url: str) -> None:
    """A response at 23:30 UTC on 14 June 2024 was made on 15 June in London (BST): not yet due."""
    engine = get_engine(db_url)
    sweep = Sweep.for_today(today=TODAY)
    assert sweep.cutoffs["survey_responses"] == date(2024, 6, 15)
    with engine.begin() as conn:
        rows = Rows(conn)
        late_evening = rows.survey_response(submitted=datetime(2024, 6, 14, 22, 30), account_id=None)
        after_midnight = rows.survey_response(submitted=datetime(2024, 6, 14, 23, 30), account_id=None)
    planned = _planned(engine, sweep)["survey_responses"]
    assert late_evening in planned and after_midnight not in planned


def test_leap_day_and_month_end_arithmetic(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        rows = Rows(conn)
        leap = rows.survey_response(submitted=date(2024, 2, 29), account_id=None)
        month_end = rows.job_application(decided=date(2025, 8, 31))
    # 29 February 2024 + 2 years = 28 February 2026: kept that day, due the next
    assert leap not in _planned(engine, Sweep.for_today(today=date(2026, 2, 28)))["survey_responses"]
    assert leap in _planned(engine, Sweep.for_today(today=date(2026, 3, 1)))["survey_responses"]
    # 31 August 2025 + 6 months = 28 February 2026 (clamped): kept that day, due the next
    key = "unsuccessful_job_applications"
    assert month_end not in _planned(engine, Sweep.for_today(today=date(2026, 2, 28)))[key]
    assert month_end in _planned(engine, Sweep.for_today(today=date(2026, 3, 1)))[key]


# ----------------------------------------------------------------------------- holds and blocks


def test_holds_bookings_and_open_sars_defer_and_verify_accepts_them(db_url: str, no_guard: None) -> None:
    engine = get_engine(db_url)
    old = date(2019, 1, 1)
    with engine.begin() as conn:
        rows = Rows(conn)
        held_account = rows.account(registered=old, signed_in=old)
        held_response = rows.survey_response(submitted=old, account_id=held_account)
        held_application = rows.job_application(decided=old, email="Held.Applicant@Example.org")
        rows.hold(account_id=held_account)
        rows.hold(email="held.applicant@example.org")
        booked = rows.account(registered=old, signed_in=old)
        booked_response = rows.survey_response(submitted=old, account_id=booked)
        rows.booking(booked, rows.course(ends=TODAY + timedelta(days=30)), status="booked")
        asking = rows.account(registered=old, signed_in=old, email="asks@example.org")
        free = rows.account(registered=old, signed_in=old)
        free_response = rows.survey_response(submitted=old, account_id=free)
        register_request(conn, "access", "asks@example.org", received_on=TODAY - timedelta(days=3))
    sweep = Sweep.for_today(today=TODAY)
    before = verify_retention(sweep)
    # overdue and unprotected: the free account, its response, and the booked person's old response
    assert before.overdue == 3 and before.protected == 5 and not before.compliant
    assert {(r.rule, r.row_id) for r in before.records} == {
        ("inactive_accounts", free),
        ("survey_responses", free_response),
        ("survey_responses", booked_response),
    }
    outcome = run_sweep(sweep)
    assert outcome.report is not None
    lines = {line.rule: line for line in outcome.report.lines}
    assert lines["inactive_accounts"].held == 1  # the held account
    assert lines["inactive_accounts"].blocked == 2  # the booking, the open SAR
    assert lines["inactive_accounts"].done == 1
    assert lines["survey_responses"].held == 1 and lines["survey_responses"].done == 2
    assert lines["unsuccessful_job_applications"].held == 1
    # oldest left: the held records are the oldest the sweep leaves
    assert lines["unsuccessful_job_applications"].oldest_left == old
    # a hold wins over every rule; the booking only blocks removing the account, not its old rows
    assert _exists(engine, accounts, held_account) and _exists(engine, survey_responses, held_response)
    assert _exists(engine, job_applications, held_application)
    assert _exists(engine, accounts, booked) and not _exists(engine, survey_responses, booked_response)
    assert _exists(engine, accounts, asking)
    assert not _exists(engine, accounts, free) and not _exists(engine, survey_responses, free_response)
    after = outcome.verify
    assert after is not None and after.compliant and after.overdue == 0
    assert after.protected == 5  # held: account, response, application; blocked: booked and asking accounts
    # verify leaves nothing behind
    with engine.connect() as conn:
        kinds = set(conn.execute(select(plans.c.kind)).scalars())
    assert kinds == {PLAN_KIND}


# ---------------------------------------------------------------------------------------- finance


def test_an_invoice_inside_and_outside_its_regulatory_lifetime(db_url: str, no_guard: None) -> None:
    engine = get_engine(db_url)
    today = date(2025, 4, 1)  # the year ending 31 March 2019 has just ended its 6 years
    with engine.begin() as conn:
        rows = Rows(conn)
        customer = rows.active_account(today)
        course = rows.course(ends=date(2019, 3, 1))
        booking = rows.booking(customer, course)
        outside = rows.invoice(issued=date(2019, 3, 31), account_id=customer, booking_id=booking)
        inside = rows.invoice(issued=date(2019, 4, 1), account_id=customer)
        paid_outside = rows.payment(outside, paid=date(2019, 3, 31))
        paid_inside = rows.payment(inside, paid=date(2019, 4, 2))
    outcome = run_sweep(Sweep.for_today(today=today))
    assert outcome.verify is not None and outcome.verify.compliant
    with engine.connect() as conn:
        reduced = conn.execute(select(invoices).where(invoices.c.id == outside)).mappings().one()
        kept = conn.execute(select(invoices).where(invoices.c.id == inside)).mappings().one()
        reduced_payment = conn.execute(select(payments).where(payments.c.id == paid_outside)).mappings().one()
        kept_payment = conn.execute(select(payments).where(payments.c.id == paid_inside)).mappings().one()
    # past its lifetime: the accounting facts stay, nothing personal does
    assert (reduced["invoice_number"], reduced["amount_pence"], reduced["vat_pence"]) == (
        f"INV{outside}",
        12_000,
        2_400,
    )
    for column in ("account_id", "booking_id", "billing_name", "billing_email", "billing_address"):
        assert reduced[column] is None, column
    assert reduced_payment["payer_reference"] is None and reduced_payment["amount_pence"] == 14_400
    # inside its lifetime: untouched
    assert kept["billing_name"] == "Billing Person" and kept["account_id"] == customer
    assert kept_payment["payer_reference"] == "CARD-REF-1"
    # a second sweep finds nothing more to do
    again = run_sweep(Sweep.for_today(today=today))
    assert again.report is not None and again.report.totals["due"] == 0


# ----------------------------------------------------------------------- periods are data, not code


def test_a_changed_period_takes_effect_without_a_code_change(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        response = Rows(conn).survey_response(submitted=TODAY - timedelta(days=540), account_id=None)
    assert response not in _planned(engine, Sweep.for_today(today=TODAY))["survey_responses"]
    text = (PROJECT_ROOT / "data_contracts" / "retention_rules.yaml").read_text()
    block = text.split("  - id: survey_responses\n", 1)[1].split("\n\n", 1)[0]
    assert "    period: 2 years" in block
    changed = text.replace(block, block.replace("    period: 2 years", "    period: 1 year"))
    rules_file = tmp_path / "retention_rules.yaml"
    rules_file.write_text(changed)
    monkeypatch.setenv("STEWARD_RETENTION_RULES_FILE", str(rules_file))
    reset_settings_cache()
    sweep = Sweep.for_today(today=TODAY)
    assert str(sweep.rules.get("survey_responses").period) == "1 year"
    assert response in _planned(engine, sweep)["survey_responses"]


# ----------------------------------------------------------------------------------------- guard


def test_the_guard_stops_a_large_sweep_until_the_dpo_approves(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        rows = Rows(conn)
        for _ in range(3):
            rows.active_account(TODAY)
        stale = rows.account(registered=date(2019, 1, 1))
    sweep = Sweep.for_today(today=TODAY)
    first = run_sweep(sweep)  # 1 of 4 accounts is 25%, over the 2% guard
    assert first.plan_status == "awaiting_approval" and first.items_done == 0
    assert _exists(engine, accounts, stale)
    assert first.verify is not None and first.verify.overdue == 1
    # while it waits, no new plan is made and nothing is deleted
    waiting = run_sweep(sweep)
    assert waiting.waiting == [first.plan_id] and waiting.plan_id is None and waiting.needs_approval
    assert _exists(engine, accounts, stale)
    with engine.begin() as conn:
        approve_plan(conn, int(first.plan_id or 0), "dpo")
    second = run_sweep(sweep)
    assert second.resumed == [first.plan_id] and second.items_done == 1
    assert not _exists(engine, accounts, stale)
    assert second.verify is not None and second.verify.compliant
    with engine.connect() as conn:
        assert (
            conn.execute(select(plans.c.status).where(plans.c.id == first.plan_id)).scalar_one() == "applied"
        )


def test_a_dry_run_deletes_nothing_and_the_next_sweep_applies_it(db_url: str, no_guard: None) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        response = Rows(conn).survey_response(submitted=date(2019, 1, 2), account_id=None)
    sweep = Sweep.for_today(today=TODAY)
    first = run_sweep(sweep, apply=False)
    second = run_sweep(sweep, apply=False)
    assert second.superseded == [first.plan_id]  # the newest dry run is the one to apply
    assert second.report is not None and second.report.totals["to_apply"] == 1
    assert second.verify is None and _exists(engine, survey_responses, response)
    applied = run_sweep(sweep)
    assert applied.resumed == [second.plan_id] and not _exists(engine, survey_responses, response)
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(plans.c.id, plans.c.status)).all())
    assert statuses[first.plan_id] == "rejected" and statuses[second.plan_id] == "applied"


# ------------------------------------------------------------------------- kill and run again


def test_a_sweep_killed_mid_apply_is_completed_by_the_next_without_doing_anything_twice(
    db_url: str, no_guard: None
) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        rows = Rows(conn)
        stale_accounts = [rows.account(registered=date(2019, 1, 1)) for _ in range(60)]
        for account_id in stale_accounts:
            rows.survey_response(submitted=date(2019, 2, 1), account_id=account_id)
        for _ in range(240):
            rows.job_application(decided=date(2020, 1, 1))
    env = {
        **os.environ,
        "STEWARD_ERASURE_BATCH_SIZE": "1",  # one transaction per subject: many chances to be cut short
        "STEWARD_GUARD_MAX_ACTIVE_SHARE": "1",
        "STEWARD_RETENTION_GUARD_MAX_ROWS": "100000000",
    }
    command = [sys.executable, "-m", "steward.cli", "retention", "apply", "--today", TODAY.isoformat()]
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    done = 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            with engine.connect() as conn:
                done = conn.execute(
                    select(func.count()).select_from(plan_items).where(plan_items.c.status == "done")
                ).scalar_one()
            if done >= 30:
                break
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert 30 <= done < 360, f"the kill did not land mid-apply ({done} items done)"
    with engine.connect() as conn:
        status = conn.execute(select(plans.c.status)).scalar_one()
    assert status == "applying"
    outcome = run_sweep(Sweep.for_today(today=TODAY))
    assert outcome.resumed and outcome.verify is not None and outcome.verify.compliant
    with engine.connect() as conn:
        item_count = conn.execute(select(func.count()).select_from(plan_items)).scalar_one()
        statuses = set(conn.execute(select(plan_items.c.status)).scalars())
        erasures = (
            conn.execute(
                select(audit_log.c.detail).where(audit_log.c.event.in_(["subject_erased", "row_deleted"]))
            )
            .scalars()
            .all()
        )
        left = conn.execute(select(func.count()).select_from(accounts)).scalar_one()
    assert item_count == 360 and statuses == {"done"}
    # exactly one audit record per item: nothing done twice, nothing lost
    assert len(erasures) == 360
    assert len({json.loads(detail)["record"] for detail in erasures}) == 360
    assert left == 0


# -------------------------------------------------------------------------------- no personal data


def test_no_personal_data_in_audit_reports_or_plans(db_url: str, no_guard: None) -> None:
    sentinel = "zebedee.sentinel"
    engine = get_engine(db_url)
    with engine.begin() as conn:
        rows = Rows(conn)
        account = rows.account(
            registered=date(2019, 1, 1), email=f"{sentinel}@example.org", first_name=sentinel
        )
        rows.survey_response(submitted=date(2019, 1, 2), account_id=account)
        rows.job_application(decided=date(2019, 1, 1), email=f"{sentinel}.job@example.org")
    sweep = Sweep.for_today(today=TODAY)
    outcome = run_sweep(sweep)
    from tasks.retention import publish_plan_report, publish_verify_report

    assert outcome.report is not None and outcome.verify is not None
    texts = [
        publish_plan_report(outcome.report).read_text(),
        publish_verify_report(outcome.verify).read_text(),
    ]
    texts.append(json.dumps(outcome.as_dict(), default=str))
    with engine.connect() as conn:
        texts += [str(row) for row in conn.execute(select(audit_log))]
        texts += [str(row) for row in conn.execute(select(plan_items))]
        texts += [str(row) for row in conn.execute(select(plans))]
    journal = get_settings().output_dir / "audit" / "erasure-journal.jsonl"
    if journal.exists():
        texts.append(journal.read_text())
    assert not any(sentinel in text.lower() for text in texts)
    # one audit record per rule and subject, naming the rule; the subject only as a keyed hash
    with engine.connect() as conn:
        audits = conn.execute(
            select(audit_log.c.event, audit_log.c.rule, audit_log.c.subject_hash).where(
                audit_log.c.event.in_(["subject_erased", "row_deleted"])
            )
        ).all()
        planned = conn.execute(
            select(audit_log.c.detail).where(audit_log.c.event == "retention_planned")
        ).scalar_one()
    assert sorted((event, rule) for event, rule, _ in audits) == [
        ("row_deleted", "survey_responses"),
        ("row_deleted", "unsuccessful_job_applications"),
        ("subject_erased", "never_signed_in_accounts"),
    ]
    assert all(subject and len(subject) == 64 for _, _, subject in audits)
    assert json.loads(planned)["items_by_rule"]["survey_responses"] == 1


def test_a_plan_that_fails_its_contract_is_not_applied(db_url: str, no_guard: None) -> None:
    from tasks.contracts import ContractViolation
    from tasks.retention import check_retention_plan, validate_retention_plan

    engine = get_engine(db_url)
    with engine.begin() as conn:
        response = Rows(conn).survey_response(submitted=date(2019, 1, 2), account_id=None)
    sweep = Sweep.for_today(today=TODAY)
    with engine.begin() as conn:
        plan_id = plan_retention(conn, sweep)
        check_retention_plan(conn, plan_id, today=TODAY)
        conn.execute(update(plan_items).where(plan_items.c.plan_id == plan_id).values(rule="Not A Rule!"))
    with pytest.raises(ContractViolation) as violation:
        validate_retention_plan(plan_id, engine)
    assert "retention_plan" in str(violation.value) and "rule" in str(violation.value)
    assert _exists(engine, survey_responses, response)

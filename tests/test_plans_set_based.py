"""The set-based path for row items (tasks.erasure.scan_rows / erase_rows_set_based), on generated data
and on SQLite and PostgreSQL: it must find the same subjects, the same blocks and write the same audit
records and journal lines as the map walk (resolve_identities, erase_items) it stands in for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from retention_rows import Rows
from sqlalchemy import Engine, select

from steward.settings import get_settings, reset_settings_cache
from tasks.audit import PersonalDataInAudit, audit_row
from tasks.demo_data import generate_demo_data
from tasks.erasure import (
    Watchlist,
    erasure_map,
    read_journal,
    resolve_identities,
    scan_rows,
    set_based_rows,
)
from tasks.plans import (
    ItemGroup,
    apply_plan,
    approve_plan,
    blocked_items,
    check_plan,
    group_items,
    pending_groups,
    watchlist,
)
from tasks.requests import register_request
from tasks.retention import PLAN_KIND, Sweep, check_retention_plan, plan_retention
from tasks.schema import audit_log, cpd_bookings, invoices, plan_items

TODAY = date(2026, 1, 15)


@pytest.fixture
def no_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STEWARD_GUARD_MAX_ACTIVE_SHARE", "1")
    monkeypatch.setenv("STEWARD_RETENTION_GUARD_MAX_ROWS", "100000000")
    monkeypatch.setenv("STEWARD_ERASURE_ROW_BATCH_SIZE", "97")  # many windows, groups cut mid-rule
    reset_settings_cache()
    yield
    reset_settings_cache()


@pytest.fixture
def demo_engine(engine: Engine, db_url: str) -> Engine:
    generate_demo_data(accounts=300, seed=7, today=TODAY, url=db_url)
    return engine


def _groups(engine: Engine, plan_id: int) -> list[ItemGroup]:
    with engine.connect() as conn:
        return pending_groups(conn, plan_id, 0, 10_000_000)


def test_the_row_scan_finds_the_subjects_and_blocks_the_map_walk_finds(
    demo_engine: Engine, no_guard: None
) -> None:
    engine = demo_engine
    with engine.begin() as conn:
        plan_id = plan_retention(conn, Sweep.for_today(today=TODAY))
    groups = [g for g in _groups(engine, plan_id) if set_based_rows(g.subject_table, g.action)]
    assert {g.subject_table for g in groups} >= {
        "email_events",
        "survey_responses",
        "cpd_bookings",
        "payments",
    }
    compared = blocked_seen = 0
    with engine.connect() as conn:
        watch = watchlist(conn, PLAN_KIND, TODAY)
        assert watch.accounts and watch.emails  # the demo data has holds and open requests
        for group in groups:
            items = {item.id: item for item in group_items(conn, plan_id, group)}
            identities = resolve_identities(conn, list(items.values()))
            blocked = blocked_items(conn, list(items.values()), identities, PLAN_KIND, TODAY)
            scanned = scan_rows(
                conn, plan_id, group.subject_table, group.action, group.first_id, group.last_id, watch
            )
            assert [row.item_id for row in scanned] == sorted(items)
            for row in scanned:
                identity = identities[row.item_id]
                # the address the audit record is keyed by: the same, or none on both sides
                assert row.primary_email == (identity.primary_email if identity.emails else None)
                if row.item_id in blocked:
                    assert row.watched, (group.subject_table, blocked[row.item_id])
                    blocked_seen += 1
                compared += 1
            # with nothing watched, nothing is flagged
            quiet = scan_rows(
                conn, plan_id, group.subject_table, group.action, group.first_id, group.last_id, Watchlist()
            )
            assert not any(row.watched for row in quiet)
    assert compared > 500 and blocked_seen > 0


def test_a_sweep_applied_set_based_writes_the_records_the_encoder_would(
    demo_engine: Engine, no_guard: None
) -> None:
    engine = demo_engine
    with engine.begin() as conn:
        plan_id = plan_retention(conn, Sweep.for_today(today=TODAY))
        check = check_retention_plan(conn, plan_id, today=TODAY)
        if check.needs_approval:
            approve_plan(conn, plan_id, "test")
    result = apply_plan(plan_id, engine=engine, today=TODAY)
    assert result.status == "applied" and result.items_done > 500
    with engine.connect() as conn:
        records = conn.execute(
            select(audit_log.c.event, audit_log.c.subject_hash, audit_log.c.detail, audit_log.c.rule).where(
                audit_log.c.plan_id == plan_id,
                audit_log.c.event.in_(["row_deleted", "row_anonymised", "subject_erased"]),
            )
        ).all()
        done = conn.execute(
            select(plan_items.c.id).where(plan_items.c.plan_id == plan_id, plan_items.c.status == "done")
        ).all()
    assert len(records) == len(done) == result.items_done  # one record per item done
    for event, subject, detail, rule in records:
        assert detail == json.dumps(json.loads(detail), sort_keys=True)  # as audit_row encodes it
        parsed = json.loads(detail)
        assert rule and parsed["action"] and len(parsed["record"]) == 32
        assert subject is None or len(subject) == 64
        if event != "subject_erased":
            assert len(parsed["row"]) == 64 and parsed["table"] in erasure_map().tables
    with_subject = [r for r in records if r[0] == "row_deleted" and r[1] is not None]
    assert len(with_subject) > 100  # rows naming somebody are keyed by their address
    journal = [e for e in read_journal() if e["plan_id"] == plan_id]
    assert {e["record"] for e in journal} == {json.loads(r[2])["record"] for r in records}
    path = get_settings().output_dir / "audit" / "erasure-journal.jsonl"
    for line in path.read_text().splitlines():
        assert line == json.dumps(json.loads(line), sort_keys=True)  # as journal_lines encodes it
    by_record = {json.loads(r[2])["record"]: r for r in records}
    for entry in journal:
        event, subject, detail, rule = by_record[entry["record"]]
        assert (entry["event"], entry["subject_hash"], entry["rule"]) == (event, subject, rule)
        assert entry["tables"] == json.loads(detail)["tables"]


def test_a_row_others_point_at_goes_through_the_map(engine: Engine, no_guard: None) -> None:
    """A booking due for deletion that an invoice points at: the booking goes, the invoice stays and
    loses the link; bookings beside it nothing points at go the set-based way, in the same run."""
    old = TODAY - timedelta(days=365 * 9)
    with engine.begin() as conn:
        rows = Rows(conn)
        course = rows.course(ends=old)
        people = [rows.active_account(TODAY) for _ in range(3)]
        bookings = [rows.booking(person, course) for person in people]
        invoice = rows.invoice(
            issued=TODAY - timedelta(days=30), account_id=people[0], booking_id=bookings[0]
        )
        plan_id = plan_retention(conn, Sweep.for_today(today=TODAY))
        check_plan(conn, plan_id, today=TODAY)
    result = apply_plan(plan_id, engine=engine, today=TODAY)
    assert result.status == "applied"
    with engine.connect() as conn:
        left = conn.execute(select(cpd_bookings.c.id).where(cpd_bookings.c.id.in_(bookings))).all()
        kept = conn.execute(select(invoices.c.booking_id).where(invoices.c.id == invoice)).one()
        details = [
            json.loads(d)
            for (d,) in conn.execute(
                select(audit_log.c.detail).where(
                    audit_log.c.plan_id == plan_id, audit_log.c.rule == "cpd_bookings"
                )
            )
        ]
    assert left == [] and kept.booking_id is None
    assert result.tables["cpd_bookings"]["deleted"] == 3 and result.tables["invoices"]["unlinked"] == 1
    assert sorted(d["tables"].get("invoices", {}).get("unlinked", 0) for d in details) == [0, 0, 1]


def test_a_hold_placed_after_the_check_defers_row_items_at_apply(engine: Engine, no_guard: None) -> None:
    old = TODAY - timedelta(days=365 * 3)
    with engine.begin() as conn:
        rows = Rows(conn)
        people = [rows.active_account(TODAY) for _ in range(2)]
        responses = [rows.survey_response(submitted=old, account_id=person) for person in people]
        plan_id = plan_retention(conn, Sweep.for_today(today=TODAY))
        check_plan(conn, plan_id, today=TODAY)
        rows.hold(account_id=people[1])  # after the check, before the apply
    result = apply_plan(plan_id, engine=engine, today=TODAY)
    with engine.connect() as conn:
        state: dict[int, str] = dict(
            conn.execute(
                select(plan_items.c.subject_row_id, plan_items.c.status).where(
                    plan_items.c.plan_id == plan_id, plan_items.c.subject_table == "survey_responses"
                )
            )
            .tuples()
            .all()
        )
    assert state == {responses[0]: "done", responses[1]: "deferred"}
    assert result.items_deferred == 1


def test_blocks_by_address_alone_defer_row_items(engine: Engine, db_url: str, no_guard: None) -> None:
    """A hold on an address nobody's account has, and an open subject access request from another:
    the rows naming those addresses (in any letter case) wait; the rows beside them go."""
    old = TODAY - timedelta(days=365)
    with engine.begin() as conn:
        rows = Rows(conn)
        held = rows.job_application(decided=old, email="Held.Person@Example.org ")
        asking = rows.information_request(closed=old, email="asker@example.org")
        free = [rows.job_application(decided=old), rows.information_request(closed=old)]
        rows.hold(email="held.person@example.org")
        register_request(conn, "access", "ASKER@example.org", received_on=TODAY - timedelta(days=3))
        plan_id = plan_retention(conn, Sweep.for_today(today=TODAY))
        check = check_plan(conn, plan_id, today=TODAY)
    assert check.deferred_reasons == {"legal hold": 1, "open subject access request": 1}
    apply_plan(plan_id, engine=engine, today=TODAY)
    with engine.connect() as conn:
        state: dict[int, str] = dict(
            conn.execute(
                select(plan_items.c.subject_row_id, plan_items.c.status).where(
                    plan_items.c.plan_id == plan_id
                )
            )
            .tuples()
            .all()
        )
    assert state == {held: "deferred", asking: "deferred", free[0]: "done", free[1]: "done"}


def test_an_audit_detail_with_an_address_is_refused() -> None:
    with pytest.raises(PersonalDataInAudit):
        audit_row("row_deleted", detail={"tables": {"x": {"note": "someone@example.org"}}})
    assert json.loads(audit_row("row_deleted", detail={"tables": {"x": {"deleted": 1}}})["detail"])

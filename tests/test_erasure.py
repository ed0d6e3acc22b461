"""The erasure engine on the real database: what the map says happens to every table, third parties,
foreign keys, audit records without personal data, the journal, and replay after a restore."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from bounces_erasure_people import NOW, add_account, add_job_application, add_person, rows_about
from sqlalchemy import Engine, select

from tasks import schema as s
from tasks.erasure import erasure_map, journal_path, read_journal, replay_erasures, row_hash, sync_journal
from tasks.plans import PlanItem, apply_plan, check_plan, create_plan

SENTINEL = "zz.sentinel+erase@example.org"


def run_plan(engine: Engine, items: list[PlanItem]) -> int:
    with engine.begin() as conn:
        plan_id = create_plan(conn, "test", items)
        check_plan(conn, plan_id, max_active_share=1.0)
    apply_plan(plan_id, engine=engine)
    return plan_id


def erase(account_id: int) -> PlanItem:
    return PlanItem("accounts", account_id, "erase_subject", "test_rule", "test", account_id)


def test_the_map_is_consistent_with_the_schema() -> None:
    emap = erasure_map()
    assert "accounts" in emap.self_tables
    order = list(emap.order)
    assert order.index("posts") < order.index("post_attachments") < len(order)
    assert emap.tables["invoices"].strategy == "retain"


def test_erasing_a_subject_follows_the_map(engine: Engine) -> None:
    with engine.begin() as conn:
        other = add_person(conn, "other@example.org")
        person = add_person(conn, SENTINEL, other_post_author=other.account_id)
        # the other person reported the subject's post; the subject reported the other's post
        conn.execute(
            sa.insert(s.content_reports),
            [
                {
                    "post_id": person.post_id,
                    "reporter_account_id": other.account_id,
                    "reporter_kind": "member",
                    "reason": "spam",
                    "created_at": NOW,
                },
                {
                    "post_id": other.post_id,
                    "reporter_account_id": person.account_id,
                    "reporter_kind": "member",
                    "reason": "spam",
                    "created_at": NOW,
                },
            ],
        )
        conn.execute(
            sa.insert(s.moderation_cases),
            [
                {
                    "post_id": person.post_id,
                    "status": "open",
                    "source": "member_report",
                    "opened_at": NOW,
                    "due_at": NOW,
                },
            ],
        )
        job = add_job_application(conn, SENTINEL.upper())
    run_plan(engine, [erase(person.account_id)])
    with engine.connect() as conn:
        assert sum(rows_about(conn, person).values()) == 0
        assert rows_about(conn, other)["posts"] == 2  # their reply in the subject's thread stays
        thread = (
            conn.execute(select(s.community_threads).where(s.community_threads.c.id == person.thread_id))
            .mappings()
            .one()
        )
        assert thread["author_account_id"] is None and thread["title"].startswith("pseudonym-")
        invoice = (
            conn.execute(select(s.invoices).where(s.invoices.c.id == person.invoice_id)).mappings().one()
        )
        assert (invoice["account_id"], invoice["booking_id"], invoice["billing_email"]) == (None, None, None)
        assert invoice["amount_pence"] == 5000  # kept for the finance rule
        assert (
            conn.execute(
                select(sa.func.count())
                .select_from(s.payments)
                .where(s.payments.c.invoice_id == person.invoice_id)
            ).scalar_one()
            == 1
        )
        reports = conn.execute(
            select(s.content_reports.c.post_id, s.content_reports.c.reporter_account_id)
        ).all()
        assert [tuple(r) for r in reports] == [
            (other.post_id, None)
        ]  # the subject's post's report went with it
        assert conn.execute(select(sa.func.count()).select_from(s.moderation_cases)).scalar_one() == 0
        assert (
            conn.execute(
                select(sa.func.count()).select_from(s.job_applications).where(s.job_applications.c.id == job)
            ).scalar_one()
            == 0
        )
        audit = (
            conn.execute(select(s.audit_log).where(s.audit_log.c.event == "subject_erased")).mappings().one()
        )
    detail = json.loads(audit["detail"])
    assert detail["tables"]["accounts"] == {"deleted": 1}
    assert detail["tables"]["invoices"] == {"retained": 1}
    assert detail["tables"]["content_reports"] == {"deleted": 1, "unlinked": 1}
    assert len(audit["subject_hash"]) == 64 and audit["rule"] == "test_rule" and audit["plan_id"] is not None


def test_no_personal_data_in_audit_plans_journal_or_logs(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with engine.begin() as conn:
        person = add_person(conn, SENTINEL)
        job = add_job_application(conn, SENTINEL)
    run_plan(engine, [erase(person.account_id), PlanItem("job_applications", job, "delete_row", "r", "old")])
    with engine.connect() as conn:
        dumps = [
            json.dumps([list(r) for r in conn.execute(select(t))], default=str)
            for t in (s.audit_log, s.plans, s.plan_items)
        ]
    dumps.append(journal_path().read_text())
    dumps.append(caplog.text)
    for text in dumps:
        assert "sentinel" not in text.lower() and "Lovelace" not in text


def test_deleting_a_row_takes_its_dependent_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        person = add_person(conn, "rows@example.org")
    run_plan(
        engine,
        [
            PlanItem("posts", person.post_id, "delete_row", "r", "old post"),
            PlanItem("cpd_bookings", person.booking_id, "delete_row", "r", "old"),
        ],
    )
    with engine.connect() as conn:
        counts = rows_about(conn, person)
        invoice = conn.execute(
            select(s.invoices.c.booking_id).where(s.invoices.c.id == person.invoice_id)
        ).scalar_one()
        audits = conn.execute(
            select(s.audit_log.c.event, s.audit_log.c.detail).where(s.audit_log.c.event == "row_deleted")
        ).all()
    assert counts["posts"] == 0 and counts["post_attachments"] == 0 and counts["cpd_bookings"] == 0
    assert counts["accounts"] == 1 and invoice is None  # the invoice stays, its booking link is cleared
    assert {json.loads(d)["row"] for _, d in audits} == {
        row_hash("posts", person.post_id),
        row_hash("cpd_bookings", person.booking_id),
    }


def test_anonymising_a_row_reduces_it_to_the_map_columns(engine: Engine) -> None:
    with engine.begin() as conn:
        person = add_person(conn, "anon@example.org")
    run_plan(
        engine,
        [PlanItem("invoices", person.invoice_id, "anonymise_row", "finance", "past its regulatory life")],
    )
    with engine.connect() as conn:
        invoice = (
            conn.execute(select(s.invoices).where(s.invoices.c.id == person.invoice_id)).mappings().one()
        )
        assert rows_about(conn, person)["accounts"] == 1
    assert invoice["billing_email"] is None and invoice["account_id"] is None and invoice["invoice_number"]


def _backup(engine: Engine, tmp_path: Path) -> object:
    """SQLite: a copy of the database file. PostgreSQL: every table's rows (a logical dump)."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        backup = tmp_path / "backup.db"
        shutil.copy(engine.url.database or "", backup)
        return backup
    with engine.connect() as conn:
        return {
            t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in s.metadata.sorted_tables
        }


def _restore(engine: Engine, backup: object) -> None:
    if isinstance(backup, Path):
        engine.dispose()
        database = engine.url.database or ""
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        shutil.copy(backup, database)
        return
    assert isinstance(backup, dict)
    with engine.begin() as conn:
        for table in reversed(s.metadata.sorted_tables):
            conn.execute(sa.delete(table))
        for table in s.metadata.sorted_tables:
            if backup[table.name]:
                conn.execute(sa.insert(table), backup[table.name])


def test_replay_after_a_restore_erases_again(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        keep = add_person(conn, "keep@example.org")
        gone = add_person(conn, "gone@example.org")
        applicant = add_job_application(conn, "applicant@example.org")
        other_application = add_job_application(conn, "applicant2@example.org")
    backup = _backup(engine, tmp_path)  # the nightly backup, taken before the erasures
    run_plan(
        engine,
        [erase(gone.account_id), PlanItem("job_applications", applicant, "delete_row", "r", "6 months")],
    )
    _restore(engine, backup)  # the restore brings them back (and loses the audit records)
    with engine.connect() as conn:
        assert rows_about(conn, gone)["accounts"] == 1
        assert (
            conn.execute(
                select(sa.func.count())
                .select_from(s.audit_log)
                .where(s.audit_log.c.event == "subject_erased")
            ).scalar_one()
            == 0
        )
    result = replay_erasures(engine=engine)
    assert (result.subjects_found, result.rows_found) == (1, 1)
    with engine.connect() as conn:
        assert sum(rows_about(conn, gone).values()) == 0
        assert rows_about(conn, keep)["accounts"] == 1
        left = set(conn.execute(select(s.job_applications.c.id)).scalars())
    assert left == {other_application}
    again = replay_erasures(engine=engine)
    assert again.subjects_found == 0 and again.rows_found == 0 and again.plan_id is None


def test_the_journal_catches_up_after_a_crash_between_commit_and_append(engine: Engine) -> None:
    with engine.begin() as conn:
        person = add_person(conn, "journal@example.org")
        add_account(conn, "filler@example.org")
    run_plan(engine, [erase(person.account_id)])
    path = journal_path()
    path.write_text("")  # as if the process died after the commit, before the append
    assert sync_journal(engine) == 1
    assert sync_journal(engine) == 0
    entries = read_journal()
    assert len(entries) == 1 and entries[0]["event"] == "subject_erased"
    assert oct(path.stat().st_mode & 0o777) == "0o600"

"""Bounce reconciliation and the erasure engine at scale, on SQLite.

Targets (issue 4):
1. 1,000,000 bounce events ingested (parsed, checked against the contract, staged), classified and
   reconciled against 1,000,000 accounts in at most 30 s.
2. Applying an erasure plan of 100,000 subjects (with their related rows and audit records) at least
   5 times faster than erasing the same subjects one at a time through the same map and engine
   (batch size 1: one transaction and one set of statements per subject), measured in the same run
   on two copies of the same database.

Sizes: STEWARD_BENCH_EVENTS (1,000,000), STEWARD_BENCH_ACCOUNTS (1,000,000), STEWARD_BENCH_SUBJECTS
(100,000), STEWARD_BENCH_ONE_BY_ONE (how many of the same subjects to erase one at a time, on the
second copy: default 10,000, about a minute; set it to 100000 for all of them, about 10 minutes on
this machine). The ratio compares subjects per second.
Data is generated here with plain SQL (the demo generator is slower than needed for 1M accounts).
Databases in var/bench/, rebuilt each run.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from steward import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
BOUNCE_TARGET_SECONDS = 30.0
ERASURE_TARGET_RATIO = 5.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    """Resident memory now (Linux), to tell the phases apart (the peak covers the whole process)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def _fresh(name: str) -> tuple[Path, str]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / name
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    return path, f"sqlite:///{path}"


def _environment(url: str) -> None:
    from steward.settings import reset_settings_cache
    from tasks.db import dispose_engines

    os.environ["STEWARD_DATABASE_URL"] = url
    os.environ["STEWARD_OUTPUT_DIR"] = str(BENCH_DIR / "out")
    os.environ.setdefault("STEWARD_SECRET_KEY", "bench-secret")
    reset_settings_cache()
    dispose_engines()


def _accounts(path: Path, n: int, now: datetime) -> None:
    """n accounts with plain SQL: email user<i>@d<i % 97>.example.org."""
    stamp = (now - timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S.000000")
    conn = sqlite3.connect(path)
    conn.execute("pragma synchronous=off")
    rows = (
        (i, "educator", f"user{i}@d{i % 97}.example.org", "Ada", "Lovelace", "Yorkshire", stamp, stamp)
        for i in range(1, n + 1)
    )
    conn.executemany(
        "insert into accounts (id, account_type, email, first_name, last_name, region, registered_at, updated_at,"
        " email_status, consent_marketing, consent_research, consent_employer_sharing, restricted)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, 'ok', 0, 0, 0, 0)",
        rows,
    )
    conn.commit()
    conn.close()


# ------------------------------------------------------------------------------------------ bounces


def _export(path: Path, events: int, accounts: int, now: datetime, seed: int = 4) -> int:
    """A CSV export: deliveries, transient and permanent bounces, complaints, messy addresses, and
    about 0.5% broken rows. Returns the number of rows that should be quarantined."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    who = rng.integers(1, accounts + 1, events)
    unknown = rng.random(events) < 0.05
    emails = np.char.add(np.char.add("user", who.astype(str)), np.char.add("@d", (who % 97).astype(str)))
    emails = np.char.add(emails, ".example.org").astype(object)
    emails[unknown] = (
        np.char.add("stranger", who[unknown].astype(str)).astype(object) + "@elsewhere.example.org"
    )
    messy = rng.random(events)
    emails = np.where(messy < 0.03, np.char.upper(emails.astype(str)).astype(object), emails)
    emails = np.where((messy >= 0.03) & (messy < 0.05), " " + emails + " ", emails)
    kind = rng.choice(6, events, p=[0.70, 0.12, 0.08, 0.03, 0.04, 0.03])
    codes = [
        ("delivery", "250", "2.0.0", "smtp; 250 2.0.0 OK"),
        ("bounce", "452", "4.2.2", "smtp; 452 4.2.2 Mailbox full"),
        ("bounce", "550", "5.1.1", "smtp; 550 5.1.1 user unknown"),
        ("bounce", "554", "5.7.1", "smtp; 554 5.7.1 refused"),
        ("complaint", "", "", "abuse report"),
        ("bounce", "550", "", "smtp; 550 rejected"),
    ]
    table = np.array(codes, dtype=object)[kind]
    seconds = rng.integers(60, 60 * 86_400, events)
    when = (np.datetime64(now.replace(tzinfo=None), "s") - seconds.astype("timedelta64[s]")).astype(str)
    when = np.char.add(when.astype(str), "Z").astype(object)
    broken = rng.random(events) < 0.005
    when[broken] = "not-a-date"
    frame = pd.DataFrame(
        {
            "email": emails,
            "event": table[:, 0],
            "smtp_status": table[:, 1],
            "enhanced_status": table[:, 2],
            "diagnostic": table[:, 3],
            "occurred_at": when,
        }
    )
    frame.to_csv(path, index=False)
    return int(broken.sum())


def bench_bounces(events: int, accounts: int) -> bool:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    path, url = _fresh("bounces.db")
    _environment(url)
    from tasks.bounces.ingest import ingest_file
    from tasks.bounces.run import reconcile_marks
    from tasks.db import get_engine, upgrade_database

    upgrade_database(url)
    started = time.perf_counter()
    _accounts(path, accounts, now)
    export = BENCH_DIR / "bounce-export.csv"
    expected_quarantine = _export(export, events, accounts, now)
    print(
        f"setup: {accounts:,} accounts and a {export.stat().st_size / 2**20:,.0f} MiB export in {time.perf_counter() - started:.1f} s"
    )
    engine = get_engine(url)
    t0 = time.perf_counter()
    result = ingest_file(export, engine=engine)
    t1 = time.perf_counter()
    marks = reconcile_marks(engine=engine, now=now)
    t2 = time.perf_counter()
    again = ingest_file(export, engine=engine)
    t3 = time.perf_counter()
    total = t2 - t0
    print(
        f"events            {events:>12,}  (staged {result.events:,}, quarantined {result.quarantined:,}; expected {expected_quarantine:,})"
    )
    print(f"by class          {', '.join(f'{k} {v:,}' for k, v in sorted(result.by_class.items()))}")
    print(f"ingest            {t1 - t0:>12.1f} s  ({events / (t1 - t0):,.0f} rows/s)")
    print(
        f"reconcile         {t2 - t1:>12.1f} s  (newly undeliverable {sum(marks.newly_undeliverable.values()):,}, undeliverable {marks.undeliverable_total:,})"
    )
    print(f"re-ingest (seen)  {t3 - t2:>12.1f} s  (already ingested: {again.already_ingested})")
    print(f"total             {total:>12.1f} s  for {events:,} events against {accounts:,} accounts")
    print(f"peak RSS          {_peak_mib():>12,.0f} MiB")
    full = events >= 1_000_000 and accounts >= 1_000_000
    ok = total <= BOUNCE_TARGET_SECONDS
    note = "" if full else " (smaller than the target's 1,000,000 events and accounts)"
    print(f"target <= {BOUNCE_TARGET_SECONDS:.0f} s     {'met' if ok else 'NOT met'}{note}")
    return ok


# ------------------------------------------------------------------------------------------ erasure


_RELATED = [
    # one thread, two posts (one with an attachment), a booking with its invoice and payment, a survey
    # response, an impact record, a data share, two bounce events, a report by the next account
    "insert into community_threads (id, author_account_id, title, category, created_at) select id, id, 'Thread', 'physics', :t from accounts",
    "insert into posts (thread_id, author_account_id, body, created_at, updated_at, is_hidden) select id, id, 'Hello', :t, :t, 0 from accounts",
    "insert into posts (thread_id, author_account_id, body, created_at, updated_at, is_hidden) select id, id, 'Again', :t, :t, 0 from accounts",
    "insert into post_attachments (post_id, file_name, content_type, size_bytes, uploaded_at) select min(id), 'a.pdf', 'application/pdf', 10, :t from posts group by author_account_id",
    "insert into cpd_courses (id, code, title, subject, region, venue, delivery_mode, starts_on, ends_on) values (1, 'C1', 'Physics', 'physics', 'Yorkshire', 'York', 'in_person', '2024-01-01', '2024-01-02')",
    "insert into cpd_bookings (id, course_id, account_id, booked_at, status) select id, 1, id, :t, 'attended' from accounts",
    "insert into invoices (id, invoice_number, account_id, booking_id, issued_on, amount_pence, vat_pence, status, billing_name, billing_email, billing_address) select id, 'INV' || id, id, id, '2024-01-01', 5000, 1000, 'paid', 'Ada Lovelace', email, '1 High St' from accounts",
    "insert into payments (invoice_id, paid_on, amount_pence, method) select id, '2024-01-05', 6000, 'card' from invoices",
    "insert into surveys (id, title, purpose, opened_on) values (1, 'Feedback', 'evaluation', '2024-01-01')",
    "insert into survey_responses (survey_id, account_id, respondent_email, submitted_at, answers) select 1, id, email, :t, '{}' from accounts",
    "insert into impact_records (account_id, course_id, measure, score, activity_ended_on, recorded_at) select id, 1, 'confidence', 4.0, '2024-01-02', :t from accounts",
    "insert into data_shares (account_id, recipient, dataset, purpose, lawful_basis, pseudonymised, shared_at) select id, 'Partner', 'impact', 'research', 'consent', 0, :t from accounts",
    "insert into email_events (email, event_type, occurred_at, source_file, source_line, ingested_at) select email, 'delivery', :t, 'bench.csv', id, :t from accounts",
    "insert into email_events (email, event_type, enhanced_status, occurred_at, source_file, source_line, ingested_at) select email, 'bounce', '5.1.1', :t, 'bench2.csv', id, :t from accounts",
    "insert into content_reports (post_id, reporter_account_id, reporter_kind, reason, created_at) select min(id), min(author_account_id) + 1, 'member', 'spam', :t from posts group by author_account_id",
]


def _erasure_database(path: Path, accounts: int) -> int:
    now = datetime.now(UTC).replace(tzinfo=None)
    _accounts(path, accounts, now)
    conn = sqlite3.connect(path)
    conn.execute("pragma synchronous=off")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.000000")
    for statement in _RELATED:
        conn.execute(statement.replace(":t", f"'{stamp}'"))
    conn.commit()
    conn.execute("pragma wal_checkpoint(truncate)")
    rows = sum(
        conn.execute(f"select count(*) from {t}").fetchone()[0]  # noqa: S608 - table names are constants here
        for t in (
            "accounts",
            "community_threads",
            "posts",
            "post_attachments",
            "cpd_bookings",
            "invoices",
            "payments",
            "survey_responses",
            "impact_records",
            "data_shares",
            "email_events",
            "content_reports",
        )
    )
    conn.close()
    return rows


def _plan_and_apply(url: str, subject_ids: list[int], batch_size: int) -> tuple[float, float, Any]:
    from tasks.db import get_engine
    from tasks.plans import PlanItem, apply_plan, check_plan, create_plan

    _environment(url)
    engine = get_engine(url)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        plan_id = create_plan(
            conn,
            "bench",
            [PlanItem("accounts", a, "erase_subject", "bench", "benchmark", a) for a in subject_ids],
        )
        check_plan(conn, plan_id, max_active_share=1.0, max_subjects=len(subject_ids) + 1)
    t1 = time.perf_counter()
    result = apply_plan(plan_id, engine=engine, batch_size=batch_size)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, result


def bench_erasure(subjects: int, one_by_one: int) -> bool:
    accounts = subjects + subjects // 10
    shutil.rmtree(BENCH_DIR / "out" / "audit", ignore_errors=True)  # the erasure journal of earlier runs
    base, _ = _fresh("erasure-base.db")
    from tasks.db import upgrade_database

    _environment(f"sqlite:///{base}")
    upgrade_database(f"sqlite:///{base}")
    _environment(f"sqlite:///{base}")  # closes the engine: the copies below must hold everything
    started = time.perf_counter()
    rows = _erasure_database(base, accounts)
    print(f"setup: {accounts:,} accounts, {rows:,} rows in {time.perf_counter() - started:.1f} s")
    batched_path, batched_url = _fresh("erasure-batched.db")
    single_path, single_url = _fresh("erasure-single.db")
    shutil.copy(base, batched_path)
    shutil.copy(base, single_path)
    # Every 10th account is a subject's neighbour that stays (it reported a subject's post).
    subject_ids = [a for a in range(1, accounts + 1) if a % 11 != 0][:subjects]

    print(f"RSS before the erasures: {_rss_mib():,.0f} MiB")
    check_b, apply_b, result_b = _plan_and_apply(batched_url, subject_ids, batch_size=500)
    print(f"RSS after the batched plan: {_rss_mib():,.0f} MiB")
    print(
        f"batched (500 subjects per transaction): check {check_b:.1f} s, apply {apply_b:.1f} s "
        f"({len(subject_ids) / apply_b:,.0f} subjects/s); {result_b.subjects_erased:,} erased"
    )
    print(f"  rows: {', '.join(f'{t} {sum(c.values()):,}' for t, c in sorted(result_b.tables.items()))}")
    sample = subject_ids[:one_by_one]
    check_s, apply_s, result_s = _plan_and_apply(single_url, sample, batch_size=1)
    print(
        f"one at a time (1 subject per transaction): check {check_s:.1f} s, apply {apply_s:.1f} s "
        f"({len(sample) / apply_s:,.0f} subjects/s); {result_s.subjects_erased:,} erased"
    )
    batched_rate = len(subject_ids) / apply_b
    single_rate = len(sample) / apply_s
    ratio = batched_rate / single_rate
    measured = (
        ""
        if len(sample) == len(subject_ids)
        else f" (one at a time measured on {len(sample):,} of the {len(subject_ids):,} subjects)"
    )
    print(f"ratio             {ratio:>12.1f}x{measured}")
    if len(sample) < len(subject_ids):
        print(
            f"  one at a time, all {len(subject_ids):,} subjects at that rate: {len(subject_ids) / single_rate:,.0f} s"
        )
    conn = sqlite3.connect(batched_path)
    audits = conn.execute("select count(*) from audit_log where event = 'subject_erased'").fetchone()[0]
    left = conn.execute("select count(*) from accounts").fetchone()[0]
    conn.close()
    print(f"audit records     {audits:>12,}  accounts left {left:,} of {accounts:,}")
    print(f"RSS now           {_rss_mib():>12,.0f} MiB (peak of the whole process {_peak_mib():,.0f} MiB)")
    ok = ratio >= ERASURE_TARGET_RATIO and audits == len(subject_ids)
    print(f"target >= {ERASURE_TARGET_RATIO:.0f}x        {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    events = int(os.environ.get("STEWARD_BENCH_EVENTS", "1000000"))
    accounts = int(os.environ.get("STEWARD_BENCH_ACCOUNTS", "1000000"))
    subjects = int(os.environ.get("STEWARD_BENCH_SUBJECTS", "100000"))
    one_by_one = int(os.environ.get("STEWARD_BENCH_ONE_BY_ONE", "10000"))
    print("-- bounce reconciliation")
    bench_bounces(events, accounts)
    print("-- erasure: batched plan against one subject at a time")
    bench_erasure(subjects, min(one_by_one, subjects))

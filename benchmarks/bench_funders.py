"""Funder statistics at scale (issue 6), on SQLite.

Targets:
- 10,000,000 activity and booking rows aggregated into a release in at most 20 s: 5,000,000 CPD bookings
  and 5,000,000 STEM Ambassador activities, all in 2025, released as the year 2025 for one funder
  (compile in SQL, primary and secondary suppression, the audit, the output contract, the files).
- suppression and the audit of a 2,000-cell table in at most 10 s.

The database is generated once, quickly, with SQL (not the demo generator, which would take minutes at
this size) into var/bench/funders-10m.db and reused; every run releases on a copy. Size:
STEWARD_BENCH_FUNDER_ROWS (default 10,000,000: half bookings, half activities).
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import time
from datetime import date

import numpy as np

from steward import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
RELEASE_TARGET_SECONDS = 20.0
TABLE_TARGET_SECONDS = 10.0
FUNDER = "Royal Academy Trust"
FUNDERS = (
    "Royal Academy Trust",
    "Northern Powerhouse STEM Fund",
    "Wellcome-like Foundation",
    "Brightfield Engineering Foundation",
    "Midlands Maths Trust",
    "Coastal Energy Futures Fund",
)
REGIONS = (
    "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales", "Scotland", "Northern Ireland",
)  # fmt: skip
SUBJECTS = (
    "Biology", "Chemistry", "Physics", "Mathematics", "Computing", "Design and Technology", "Engineering",
    "Science (primary)", "Electronics", "Statistics", "Environmental Science", "Geology",
)  # fmt: skip
PHASES = ("primary", "secondary", "post-16", "special", "all-through")
ACTIVITY_TYPES = (
    "school talk", "careers fair", "STEM club", "workshop", "mentoring", "competition judge",
    "online session", "work experience host", "teacher CPD support", "science week event",
)  # fmt: skip
GENDERS = ("Female", "Male", "Non-binary", "Prefer not to say")
ETHNICITIES = (
    "White: English, Welsh, Scottish, Northern Irish or British",
    "Asian or Asian British: Indian",
    "Black, Black British, Caribbean or African: African",
    "Mixed or Multiple ethnic groups: White and Asian",
    "Other ethnic group: Arab",
    "Prefer not to say",
)
MEASURES = ("teacher_confidence", "subject_knowledge", "pupil_engagement", "career_awareness")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    """The machine's 1-minute load average (2 cores here): other work slows every figure below."""
    return f"load average {os.getloadavg()[0]:.1f}"


# The generator builds its SQL from this module's constants and numbers only (no input reaches it).
# ruff: noqa: S608


def _lookup(conn: sqlite3.Connection, name: str, values: tuple[str, ...]) -> None:
    conn.execute(f"create temp table {name} (i integer primary key, v text)")
    conn.executemany(f"insert into {name} values (?, ?)", list(enumerate(values)))


def _pick(table: str, expression: str, size: int) -> str:
    """SQL choosing a value of a lookup table by a deterministic hash of the row number."""
    return f"(select v from {table} where i = ({expression}) % {size})"


def _skewed(table: str, expression: str, size: int) -> str:
    """Like _pick, but the first values are more frequent than the last (a square law), as in real
    data where some regions, subjects and activity types are rare. (Modulo a prime, so that one
    person's rows, spread by a stride, do not all fall on one value.)"""
    h = f"(({expression}) % 997)"
    return f"(select v from {table} where i = ({h} * {h} * {size}) / 994009)"


def _generate(path: str, rows: int) -> None:
    """Bulk-insert the synthetic CRM: accounts, profiles, courses, bookings, activities, impact."""
    from tasks.db import dispose_engines, get_engine, upgrade_database
    from tasks.schema import ambassador_activities, cpd_bookings

    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = get_engine(url)
    heavy = [*cpd_bookings.indexes, *ambassador_activities.indexes]
    with engine.begin() as conn:
        for index in heavy:
            index.drop(conn)
    dispose_engines()

    bookings = activities = rows // 2
    # About 4 bookings per educator and 25 activities per ambassador a year.
    educators, ambassadors, courses = max(1000, rows // 8), max(500, rows // 50), max(200, rows // 500)
    conn = sqlite3.connect(path)
    conn.execute("pragma journal_mode=off")
    conn.execute("pragma synchronous=off")
    conn.execute("pragma cache_size=-500000")
    conn.execute("pragma temp_store=memory")
    for name, values in (
        ("b_regions", REGIONS),
        ("b_subjects", SUBJECTS),
        ("b_phases", PHASES),
        ("b_types", ACTIVITY_TYPES),
        ("b_genders", GENDERS),
        ("b_ethnicities", ETHNICITIES),
        ("b_funders", FUNDERS),
        ("b_measures", MEASURES),
    ):
        _lookup(conn, name, values)
    people = educators + ambassadors
    # Skewed choices (see _skewed) make some regions, subjects and types rare, as in real data.
    conn.execute(
        f"""
        insert into accounts (id, account_type, email, first_name, last_name, region, school_phase,
            subject, registered_at, consent_research, restricted, updated_at, email_status,
            consent_marketing, consent_employer_sharing)
        with recursive n(x) as (select 1 union all select x + 1 from n where x < {people})
        select x, case when x <= {educators} then 'educator' else 'ambassador' end,
            'bench' || x || '@bench.invalid', 'Bench', 'Person',
            {_skewed("b_regions", "x * 7919", 12)},
            case when x <= {educators} then {_pick("b_phases", "x * 31", 5)} end,
            'Science', '2020-01-01 00:00:00', (x % 3 = 0), (x % 997 = 0), '2025-01-01 00:00:00', 'ok', 0, 0
        from n
        """
    )
    conn.execute(
        f"""
        insert into ambassador_profiles (account_id, date_of_birth, gender, ethnicity, joined_on)
        with recursive n(x) as (select {educators + 1} union all select x + 1 from n where x < {people})
        select x, date('1950-01-01', '+' || ((x * 104729) % 18000) || ' days'),
            {_skewed("b_genders", "x * 13", 4)},
            {_skewed("b_ethnicities", "x * 17", 6)}, '2019-01-01'
        from n
        """
    )
    conn.execute(
        f"""
        insert into cpd_courses (id, code, title, subject, region, venue, delivery_mode, sponsor,
            starts_on, ends_on)
        with recursive n(x) as (select 1 union all select x + 1 from n where x < {courses})
        select x, 'B' || x, 'Bench course ' || x,
            {_skewed("b_subjects", "x * 37", 12)},
            {_pick("b_regions", "x * 11", 12)}, 'Venue', 'online',
            case when x % 5 = 0 then {_pick("b_funders", "x / 5", 6)} end,
            date('2025-01-01', '+' || (x % 360) || ' days'),
            date('2025-01-01', '+' || (x % 360 + 1) || ' days')
        from n
        """
    )
    conn.execute(
        f"""
        insert into cpd_bookings (id, course_id, account_id, booked_at, status)
        with recursive n(x) as (select 1 union all select x + 1 from n where x < {bookings})
        select x, 1 + (x * 2654435761) % {courses}, 1 + (x * 40503) % {educators},
            '2024-12-01 10:00:00', case when x % 10 < 8 then 'attended' else 'cancelled' end
        from n
        """
    )
    # An ambassador volunteers mostly in their home region (85%) and at their favourite kind of
    # activity (70%), as real ambassadors do; the rest is spread over every region and type.
    home_region = _skewed("b_regions", "account * 7919", 12)
    favourite = _skewed("b_types", "account * 7", 10)
    conn.execute(
        f"""
        insert into ambassador_activities (id, account_id, activity_type, region, started_on, ended_on,
            hours)
        with recursive n(x) as (select 1 union all select x + 1 from n where x < {activities}),
        rows as (select x, {educators} + 1 + (x * 2654435761) % {ambassadors} as account from n)
        select x, account,
            case
                when x % 200003 = 0 then 'space camp'
                when x % 10 < 7 then {favourite}
                else {_skewed("b_types", "x * 7", 10)}
            end,
            case when x % 100 < 85 then {home_region} else {_skewed("b_regions", "x * 19", 12)} end,
            date('2025-01-01', '+' || (x % 365) || ' days'), date('2025-01-01', '+' || (x % 365) || ' days'),
            0.5 + (x % 12) * 0.5
        from rows
        """
    )
    conn.execute(
        f"""
        insert into impact_records (id, account_id, measure, score, activity_ended_on, recorded_at)
        with recursive n(x) as (select 1 union all select x + 1 from n where x < {max(1000, rows // 20)})
        select x, 1 + (x * 7) % {educators}, {_pick("b_measures", "x", 4)}, 1 + (x * 13) % 5,
            date('2025-01-01', '+' || (x % 365) || ' days'), '2025-12-31 00:00:00'
        from n
        """
    )
    conn.commit()
    conn.close()
    engine = get_engine(url)
    with engine.begin() as sa_conn:
        for index in heavy:
            index.create(sa_conn)
        sa_conn.exec_driver_sql("analyze")
    dispose_engines()


def _source_database(rows: int) -> str:
    name = "funders-10m.db" if rows == 10_000_000 else f"funders-{rows}.db"
    path = BENCH_DIR / name
    marker = path.with_name(path.name + ".building")
    if path.exists() and not marker.exists():
        return str(path)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    print(
        f"generating {rows:,} booking and activity rows into {path} (once; reused by later runs)", flush=True
    )
    started = time.perf_counter()
    _generate(str(path), rows)
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    marker.unlink()
    return str(path)


def _bench_release(rows: int) -> None:
    source = _source_database(rows)
    work = BENCH_DIR / "funders-work.db"
    for leftover in (work, work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(source, work)
    os.environ["STEWARD_DATABASE_URL"] = f"sqlite:///{work}"
    os.environ["STEWARD_OUTPUT_DIR"] = str(BENCH_DIR / "funders-out")
    os.environ.setdefault("STEWARD_SECRET_KEY", "bench-secret")
    shutil.rmtree(BENCH_DIR / "funders-out", ignore_errors=True)

    from steward.settings import reset_settings_cache
    from tasks.db import dispose_engines, get_engine
    from tasks.funders import (
        FRAME_COLUMNS,
        fetch_general_rows_in_parallel,
        parse_period,
        release_statistics,
        rules_from_settings,
    )

    reset_settings_cache()
    dispose_engines()
    # Great Expectations is imported and set up once per process (2-3 s), not once per release: a
    # worker or the nightly process pays it once. It is warmed up here, outside the timings.
    import pandas as pd

    from tasks.contracts import validate_frame

    started = time.perf_counter()
    validate_frame("funder_table", pd.DataFrame({column: [] for column in FRAME_COLUMNS}))
    print(
        f"  Great Expectations set up (once per process, not timed below): {time.perf_counter() - started:.1f} s"
    )
    with get_engine().connect() as conn:
        counts = conn.exec_driver_sql(
            "select (select count(*) from cpd_bookings), (select count(*) from ambassador_activities)"
        ).one()
    print(f"  rows: {counts[0]:,} bookings + {counts[1]:,} activities = {counts[0] + counts[1]:,}")

    started = time.perf_counter()
    rows_by_statement = fetch_general_rows_in_parallel(
        get_engine(), parse_period("2025"), rules_from_settings()
    )
    compile_seconds = time.perf_counter() - started
    groups = sum(len(rows) for rows in rows_by_statement.values())
    print(
        f"  SQL aggregation alone (4 statements on 2 connections, {groups} aggregate rows): {compile_seconds:.1f} s"
    )

    started, cpu = time.perf_counter(), _cpu_seconds()
    outcome = release_statistics(FUNDER, "2025", today=date(2026, 2, 1))
    release_seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    print(
        f"  release {outcome.funder} 2025: {outcome.tables} tables, {outcome.cells} cells, "
        f"{outcome.suppressed_cells} suppressed, {outcome.sensitive_statistics_audited} sensitive audited"
    )
    print(
        f"  release end to end (compile, protect, audit, contract, files): {release_seconds:.1f} s "
        f"({(counts[0] + counts[1]) / release_seconds:,.0f} rows/s; {cpu:.1f} s of CPU; {_load()}): "
        f"target <= {RELEASE_TARGET_SECONDS:.0f} s {_verdict(release_seconds <= RELEASE_TARGET_SECONDS)}"
    )
    started = time.perf_counter()
    second = release_statistics(FUNDERS[1], "2025", today=date(2026, 2, 1))
    print(
        f"  a second funder, same year (general tables repeated as first published): "
        f"{time.perf_counter() - started:.1f} s ({second.outcome})"
    )
    dispose_engines()


def _table(rows: int, cols: int, small_share: float, seed: int) -> tuple[object, int]:
    from tasks.disclosure import TOTAL, CellData, StatTable

    rng = np.random.default_rng(seed)
    values = rng.negative_binomial(3, 0.06, size=(rows, cols))
    small = rng.random((rows, cols)) < small_share
    values[small] = rng.integers(1, 10, int(small.sum()))
    row_labels = [f"r{i:02d}" for i in range(rows)]
    col_labels = [f"c{j:02d}" for j in range(cols)]
    cells = {}
    for i, r in enumerate(row_labels):
        for j, c in enumerate(col_labels):
            cells[(r, c)] = CellData(float(values[i, j]), int(values[i, j]))
        cells[(r, TOTAL)] = CellData(float(values[i].sum()), int(values[i].sum()))
    for j, c in enumerate(col_labels):
        cells[(TOTAL, c)] = CellData(float(values[:, j].sum()), int(values[:, j].sum()))
    cells[(TOTAL, TOTAL)] = CellData(float(values.sum()), int(values.sum()))
    table = StatTable(
        name="bench",
        title="bench",
        measure="m",
        period="2025",
        unit="people",
        row_dim="a",
        row_title="a",
        rows=row_labels,
        cells=cells,
        col_dim="b",
        col_title="b",
        cols=col_labels,
    )
    return table, len(cells)


def _bench_table() -> None:
    from tasks.disclosure import DisclosureProblem, DisclosureRules, protect

    for small_share in (0.02, 0.08, 0.20):
        table, cells = _table(40, 48, small_share, seed=6)
        started = time.perf_counter()
        result = protect(DisclosureProblem([table], DisclosureRules()))  # type: ignore[list-item]
        seconds = time.perf_counter() - started
        primary = sum(1 for s in result.pattern.values() if s == "primary")
        secondary = sum(1 for s in result.pattern.values() if s == "secondary")
        print(
            f"  {cells:,}-cell table, {small_share:.0%} small cells: {primary} primary + {secondary} secondary, "
            f"{result.rounds} rounds, {result.audit.linear_programs} LPs in the proof; {seconds:.2f} s: "
            f"target <= {TABLE_TARGET_SECONDS:.0f} s {_verdict(seconds <= TABLE_TARGET_SECONDS)}"
        )


def main() -> None:
    rows = int(os.environ.get("STEWARD_BENCH_FUNDER_ROWS", "10000000"))
    print("suppression and audit of a 2,000-cell table (40 x 48 with margins):")
    _bench_table()
    print(f"a release over {rows:,} booking and activity rows (SQLite):")
    _bench_release(rows)
    print(f"  peak memory (RSS): {_peak_rss_mib():,.0f} MiB")

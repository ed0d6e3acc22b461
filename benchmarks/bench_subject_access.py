"""One subject access request against the 1,000,000-account database, with and without its indexes.

Target (issue 7): from start to written package in at most 2 seconds of flow work, excluding Prefect's
start-up. The bench runs the real `subject_access` flow on Prefect's temporary local server: a first,
trivial flow starts the server (excluded), then requests for a few demo accounts (the first one in the
process also pays Great Expectations' import and context, a once-per-process cost that it prints
apart), each timed from the flow call to its return, with the steps (extract, contract, package,
register) timed through the plain functions as well. Then the same request through the plain functions
on a copy of the database whose secondary indexes are dropped, to show the indexes are what make it fast.

The database is generated once with the demo generator (seed 42, today 2026-11-02) into
var/bench/sar-1m.db (sar-<N>.db for other sizes, STEWARD_BENCH_ACCOUNTS) and reused; requests add a few
rows to its register. The copy without indexes is made in var/bench and deleted afterwards.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

from steward import PROJECT_ROOT

# The flow's task-by-task INFO lines would drown the figures; warnings and errors still show.
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
BENCH_TODAY = date(2026, 11, 2)
TARGET_SECONDS = 2.0


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _source_database(accounts: int) -> Path:
    """The generated database for `accounts`, built on first use (then reused)."""
    from tasks.db import dispose_engines, upgrade_database
    from tasks.demo_data import generate_demo_data

    path = BENCH_DIR / ("sar-1m.db" if accounts == 1_000_000 else f"sar-{accounts}.db")
    marker = path.with_name(path.name + ".building")
    if path.exists() and not marker.exists():
        upgrade_database(f"sqlite:///{path}")  # the indexes of migrations newer than the file
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade_database(url)
    print(f"generating {accounts:,} accounts into {path} (once; reused by later runs)", flush=True)
    started = time.perf_counter()
    generate_demo_data(accounts=accounts, seed=42, today=BENCH_TODAY, url=url)
    dispose_engines()
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    marker.unlink()
    return path


def _use_database(path: Path, output_dir: Path) -> None:
    from steward.settings import reset_settings_cache
    from tasks.db import dispose_engines

    os.environ["STEWARD_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["STEWARD_OUTPUT_DIR"] = str(output_dir)
    os.environ.setdefault("STEWARD_SECRET_KEY", "benchmark-key")
    reset_settings_cache()
    dispose_engines()


def _subjects(path: Path) -> list[tuple[str, int]]:
    """Accounts to request for: the first, one in the middle, and the most active poster; by id only."""
    with sqlite3.connect(path) as conn:
        first = conn.execute("select min(id) from accounts").fetchone()[0]
        middle = conn.execute("select id from accounts order by id limit 1 offset (select count(*) / 2 from accounts)").fetchone()[0]  # fmt: skip
        busiest = conn.execute(
            "select author_account_id from posts where author_account_id is not null "
            "group by author_account_id order by count(*) desc limit 1"
        ).fetchone()[0]
    return [("first account", first), ("middle account", middle), ("most posts", busiest)]


def _quiet(request_id: int, password: str) -> None:
    """The bench does not print passwords."""


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _steps(account_id: int) -> dict[str, float]:
    """The same request through the plain functions, step by step (seconds)."""
    from tasks.db import begin
    from tasks.subject_access import service
    from tasks.subject_access.package import generate_password

    timings: dict[str, float] = {}
    started = time.perf_counter()
    with begin() as conn:
        request_id = service.register_from_parameters(
            conn, None, account_id=account_id, identity_verified=True
        )
        service.begin(conn, request_id)
    timings["register"] = time.perf_counter() - started
    seconds, extract = _timed(lambda: _extract(request_id))
    timings["extract"] = seconds
    timings["contract"], report = _timed(lambda: service.check_extract(extract))
    timings["package"], result = _timed(lambda: service.package(extract, generate_password()))
    started = time.perf_counter()
    with begin() as conn:
        service.finish(conn, extract, result)
    timings["complete"] = time.perf_counter() - started
    timings["records"] = sum(extract.counts().values())
    return timings


def _extract(request_id: int) -> Any:
    from tasks.db import begin
    from tasks.subject_access import service

    with begin() as conn:
        return service.build_extract(conn, request_id)


def _plain_request(account_id: int) -> tuple[float, int]:
    from tasks.db import begin
    from tasks.subject_access import service

    started = time.perf_counter()
    with begin() as conn:
        request_id = service.register_from_parameters(
            conn, None, account_id=account_id, identity_verified=True
        )
    result = service.produce_package(request_id, announce_password=_quiet)
    return time.perf_counter() - started, sum(result.records.values())


def _copy_without_indexes(source: Path) -> tuple[Path, int]:
    copy = source.with_name("sar-noindex.db")
    for leftover in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with sqlite3.connect(source) as src:
        src.execute("pragma wal_checkpoint(truncate)")
    shutil.copyfile(source, copy)
    with sqlite3.connect(copy) as conn:
        names = [
            row[0]
            for row in conn.execute("select name from sqlite_master where type = 'index' and sql is not null")
        ]
        for name in names:
            conn.execute(f'drop index "{name}"')  # names read from sqlite_master, not input
    return copy, len(names)


def main() -> None:
    accounts = int(os.environ.get("STEWARD_BENCH_ACCOUNTS", "1000000"))
    source = _source_database(accounts)
    output = Path(tempfile.mkdtemp(prefix="sar-bench-"))
    _use_database(source, output)
    subjects = _subjects(source)
    print(
        f"subject access, {accounts:,} accounts, SQLite ({source.name}, {source.stat().st_size / 1e9:.1f} GB)"
    )

    from prefect import flow

    from flows.subject_access import subject_access

    @flow(name="bench_warm_up")
    def warm_up() -> int:
        return 1

    prefect_start, _ = _timed(warm_up)
    print(f"  Prefect start-up (temporary server, excluded): {prefect_start:.1f} s")

    flow_seconds: list[float] = []
    for index, (label, account_id) in enumerate(subjects):
        with open(os.devnull, "w") as sink, redirect_stdout(sink):  # the password is printed by the flow
            started = time.perf_counter()
            result = subject_access(account_id=account_id, identity_verified=True)
            seconds = time.perf_counter() - started
        note = " (includes Great Expectations' once-per-process import and context)" if index == 0 else ""
        print(
            f"  flow, {label}: {result['records']} records in {result['categories']} categories, "
            f"{seconds:.2f} s{note}"
        )
        if index > 0:
            flow_seconds.append(seconds)
    steps = _steps(subjects[-1][1])
    step_text = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in steps.items() if k != "records")
    print(f"  steps (plain functions, {subjects[-1][0]}, {steps['records']:.0f} records): {step_text}")
    plain_seconds, records = _plain_request(subjects[-1][1])
    print(f"  plain functions (steward sar run), {subjects[-1][0]}: {plain_seconds:.2f} s")
    worst = max(flow_seconds)
    print(
        f"  target: one request in <= {TARGET_SECONDS:.0f} s of flow work: {worst:.2f} s, {_verdict(worst <= TARGET_SECONDS)}"
    )

    copy, dropped = _copy_without_indexes(source)
    try:
        _use_database(copy, output)
        no_index_seconds, no_index_records = _plain_request(subjects[-1][1])
        print(
            f"  without indexes ({dropped} secondary indexes dropped on a copy), {subjects[-1][0]}: "
            f"{no_index_seconds:.2f} s for {no_index_records} records, "
            f"{no_index_seconds / plain_seconds:.0f}x slower than with them"
        )
    finally:
        for leftover in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(output, ignore_errors=True)
    print(f"  peak memory: {_peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
    sys.exit(0)

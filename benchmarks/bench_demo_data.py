"""How fast `steward demo-data` fills a fresh SQLite database, and how much memory it needs.

Targets: 1,000,000 accounts (about 10 million rows) in at most 10 minutes, peak memory under 2 GB.
Size: STEWARD_BENCH_ACCOUNTS (default 1,000,000). The database is var/bench/demo_data.db, rebuilt
each run.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from datetime import date

from steward import PROJECT_ROOT

TARGET_SECONDS = 600
TARGET_BYTES = 2_000_000_000
BENCH_DIR = PROJECT_ROOT / "var" / "bench"


def _peak_rss_bytes() -> tuple[int, int]:
    """Peak resident set size of this process and of its (waited-for) children; ru_maxrss is KiB on Linux."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return own, children


def main() -> None:
    from tasks.db import dispose_engines, upgrade_database
    from tasks.demo_data import generate_demo_data

    accounts = int(os.environ.get("STEWARD_BENCH_ACCOUNTS", "1000000"))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "demo_data.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade_database(url)

    done = 0
    step = max(accounts // 10, 1)
    started = time.perf_counter()

    def report(count: int) -> None:
        nonlocal done
        before, done = done, done + count
        if done // step != before // step or done == accounts:
            print(
                f"  {done:>10,} accounts  {time.perf_counter() - started:7.1f} s", file=sys.stderr, flush=True
            )

    summary = generate_demo_data(
        accounts=accounts, seed=42, today=date(2026, 1, 15), url=url, export_dir=BENCH_DIR, progress=report
    )
    elapsed = time.perf_counter() - started
    dispose_engines()
    own, children = _peak_rss_bytes()
    peak = max(own, children)
    rows = summary.total_rows
    print(f"accounts          {accounts:>14,}")
    print(f"rows              {rows:>14,}  ({rows / accounts:.2f} per account)")
    for name, count in summary.rows.items():
        print(f"  {name:<22}{count:>12,}")
    print(f"wall time         {elapsed:>14.1f} s")
    print(f"rows/s            {rows / elapsed:>14,.0f}")
    print(f"peak RSS          {own / 2**20:>14,.0f} MiB (children {children / 2**20:,.0f} MiB)")
    print(f"database file     {path.stat().st_size / 2**20:>14,.0f} MiB  {path}")
    scale = 1_000_000 / accounts
    time_ok = elapsed * scale <= TARGET_SECONDS
    memory_ok = peak < TARGET_BYTES
    note = (
        ""
        if accounts == 1_000_000
        else f" (time scaled linearly to 1,000,000 accounts: {elapsed * scale:.0f} s)"
    )
    print(f"target <= {TARGET_SECONDS} s  {'met' if time_ok else 'NOT met'}{note}")
    print(f"target < 2 GB    {'met' if memory_ok else 'NOT met'}")


if __name__ == "__main__":
    main()

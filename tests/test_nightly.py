"""The nightly flow under the Prefect test harness: it runs on demo data, and stops at a bad contract."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from steward.settings import get_settings
from tasks.db import get_engine
from tasks.demo_data import generate_demo_data
from tasks.schema import accounts, plans, scan_state

TODAY = date(2026, 11, 20)


@pytest.mark.flow
def test_nightly_runs_on_demo_data(db_url: str, prefect_harness: None) -> None:
    from flows.nightly import nightly

    generate_demo_data(accounts=150, seed=7, today=TODAY)
    result = nightly()
    quality = result["data_quality"]
    assert quality["tables"] >= 19
    assert quality["rows"] > 150
    report = get_settings().output_dir / "reports" / "data-quality-summary.md"
    assert report.is_file()
    assert "accounts" in report.read_text()


@pytest.mark.flow
def test_nightly_stops_before_any_job_when_a_blocking_rule_fails(
    sqlite_url: str, prefect_harness: None
) -> None:
    from flows.nightly import nightly
    from tasks.data_quality import DataQualityFailure

    generate_demo_data(accounts=50, seed=7, today=TODAY)
    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id <= 3).values(account_type="not-a-type"))
    with pytest.raises(DataQualityFailure) as failure:
        nightly()
    message = str(failure.value)
    assert "accounts" in message and "account_type" in message and "3" in message
    # nothing downstream ran: no scan progress, no plan
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scan_state)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(plans)).scalar_one() == 0

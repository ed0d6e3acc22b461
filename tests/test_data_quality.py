"""The data-quality stage on real databases (SQLite and PostgreSQL) and as a Prefect flow."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.settings import get_settings
from tasks.contracts import ContractViolation, load_contract, run_suite_on_table, validate_table
from tasks.data_quality import SUMMARY_ARTIFACT_KEY, DataQualityFailure, check_tables, summary_markdown
from tasks.db import get_engine
from tasks.schema import SOURCE_TABLES, accounts, ambassador_profiles

SENTINEL = "leak-sentinel-7731"


def _account(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "account_type": "ambassador",
        "email": f"person{i}@example.org",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "region": "Yorkshire",
        "registered_at": dt.datetime(2024, 1, 1, 9, 30),
        "last_activity_at": dt.datetime(2025, 6, 1, 12, 0),
        "updated_at": dt.datetime(2025, 6, 1, 12, 0),
    }
    return {**row, **overrides}


def _insert_accounts(url: str, rows: list[dict[str, Any]]) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(sa.insert(accounts), rows)


def test_validate_table_on_both_databases(db_url: str) -> None:
    _insert_accounts(db_url, [_account(i) for i in range(3)])
    with get_engine(db_url).begin() as conn:
        conn.execute(
            sa.insert(ambassador_profiles),
            [{"account_id": 1, "date_of_birth": dt.date(1990, 5, 17), "joined_on": dt.date(2024, 1, 2)}],
        )
    report = validate_table("accounts", db_url)
    assert report.passed, [r.describe() for r in report.blocking_failures]
    assert (report.row_count, report.source, report.warnings) == (3, "table", ())
    assert validate_table("ambassador_profiles", db_url).passed

    _insert_accounts(db_url, [_account(7, account_type=SENTINEL, email=f"{SENTINEL}@example")])
    report = validate_table("accounts", db_url)
    failed = {r.rule_id: r for r in report.results if r.status == "failed"}
    assert set(failed) == {"accounts.account_type.invalidValues", "accounts.email.pattern"}
    assert failed["accounts.account_type.invalidValues"].unexpected_count == 1
    assert failed["accounts.email.pattern"].severity == "warning"
    assert [r.rule_id for r in report.blocking_failures] == ["accounts.account_type.invalidValues"]
    with pytest.raises(ContractViolation) as caught:
        report.raise_for_blocking()
    gx_results = json.dumps(
        run_suite_on_table(load_contract("accounts"), get_engine(db_url)).to_json_dict(), default=str
    )
    for text in (
        repr(report),
        report.to_markdown(),
        str(caught.value),
        summary_markdown([report]),
        gx_results,
    ):
        assert SENTINEL not in text


def test_unreadable_timestamp_text_in_sqlite_is_a_type_failure(sqlite_url: str) -> None:
    _insert_accounts(sqlite_url, [_account(1)])
    with get_engine(sqlite_url).begin() as conn:
        conn.execute(sa.text("update accounts set last_activity_at = :value"), {"value": "last tuesday"})
    report = validate_table("accounts", sqlite_url)
    assert [r.rule_id for r in report.blocking_failures] == ["accounts.last_activity_at.type"]


def test_a_missing_table_fails_without_evaluating_its_rules(sqlite_url: str) -> None:
    with get_engine(sqlite_url).begin() as conn:
        conn.execute(sa.text("drop table legal_holds"))
    report = validate_table("legal_holds", sqlite_url)
    assert [r.rule_id for r in report.blocking_failures] == ["legal_holds.table"]
    assert all(r.status == "skipped" for r in report.results[1:])


def test_check_tables_covers_every_source_table(sqlite_url: str) -> None:
    ticks: list[int] = []
    reports = check_tables(progress=ticks.append)
    assert [r.contract for r in reports] == list(SOURCE_TABLES)
    assert len(ticks) == len(SOURCE_TABLES)
    assert all(r.passed for r in reports), "an empty database breaks no blocking rule"
    warned = {w.rule_id for r in reports for w in r.warnings}
    assert "accounts.rowCount" in warned and "posts.rowCount" in warned
    assert "legal_holds.rowCount" not in warned, "legal holds are normally none: no rowCount rule"


@pytest.mark.flow
def test_data_quality_flow_blocks_and_publishes_its_summary(sqlite_url: str, prefect_harness: None) -> None:
    from prefect.artifacts import Artifact

    from flows.data_quality import data_quality

    _insert_accounts(sqlite_url, [_account(1)])
    result = data_quality(tables=["accounts", "posts"])
    assert (result["tables"], result["rows"], result["warnings"]) == (2, 1, 1)

    _insert_accounts(sqlite_url, [_account(2, account_type=SENTINEL)])
    with pytest.raises(DataQualityFailure) as caught:
        data_quality()
    assert "accounts.account_type.invalidValues (1 row(s) failed" in str(caught.value)
    assert SENTINEL not in str(caught.value)

    artifact = Artifact.get(SUMMARY_ARTIFACT_KEY, _sync=True)  # type: ignore[call-arg]
    markdown = str(getattr(artifact, "data", ""))
    assert "1 of 19 table(s) failed blocking rules" in markdown
    assert "`accounts.account_type.invalidValues`" in markdown
    assert SENTINEL not in markdown
    report_file = Path(get_settings().output_dir) / "reports" / f"{SUMMARY_ARTIFACT_KEY}.md"
    assert "accounts.account_type.invalidValues" in report_file.read_text()

"""`steward retention` commands and the `retention` flow, as a user runs them (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from retention_rows import Rows
from sqlalchemy import func, select
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from steward.settings import get_settings, reset_settings_cache
from tasks.db import get_engine
from tasks.schema import accounts, job_applications, survey_responses

_register_commands()
runner = CliRunner(env={"COLUMNS": "200"})
TODAY = "2026-06-15"


@pytest.fixture
def no_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STEWARD_GUARD_MAX_ACTIVE_SHARE", "1")
    reset_settings_cache()
    yield
    reset_settings_cache()


def _count(table: object) -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _seed() -> None:
    with get_engine().begin() as conn:
        rows = Rows(conn)
        active = rows.active_account(date(2026, 6, 15))
        rows.survey_response(submitted=date(2019, 5, 1), account_id=active)
        rows.job_application(decided=date(2025, 1, 10))


def test_rules_lists_every_rule_with_its_cutoff(sqlite_url: str) -> None:
    result = runner.invoke(app, ["retention", "rules", "--today", TODAY])
    assert result.exit_code == 0, result.output
    for rule in ("unsuccessful_job_applications", "inactive_accounts", "cpd_bookings", "invoices_regulatory"):
        assert rule in result.output
    assert "2025-12-15" in result.output  # six months before the day
    bad = runner.invoke(app, ["retention", "rules", "--today", "15/06/2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in str(bad.exception)


def test_plan_verify_apply_verify(sqlite_url: str, no_guard: None) -> None:
    _seed()
    dry = runner.invoke(app, ["retention", "plan", "--today", TODAY])
    assert dry.exit_code == 0, dry.output
    assert "survey_responses" in dry.output and "Nothing was deleted" in dry.output
    assert _count(survey_responses) == 1 and _count(job_applications) == 1

    before = runner.invoke(app, ["retention", "verify", "--today", TODAY])
    assert before.exit_code == 1
    assert "2 record(s) past their limit" in before.output
    assert "unsuccessful_job_applications" in before.output

    swept = runner.invoke(app, ["retention", "apply", "--today", TODAY])
    assert swept.exit_code == 0, swept.output
    assert "compliant" in swept.output
    assert _count(survey_responses) == 0 and _count(job_applications) == 0 and _count(accounts) == 1

    after = runner.invoke(app, ["retention", "verify", "--today", TODAY])
    assert after.exit_code == 0, after.output
    assert "compliant" in after.output
    report = get_settings().output_dir / "reports" / "retention-verify.md"
    assert "compliant" in report.read_text()


def test_apply_stops_at_the_guard_and_names_the_plan(sqlite_url: str) -> None:
    from tasks.plans import PlanNeedsApproval

    with get_engine().begin() as conn:
        rows = Rows(conn)
        rows.active_account(date(2026, 6, 15))
        rows.account(registered=date(2019, 1, 1))
    result = runner.invoke(app, ["retention", "apply", "--today", TODAY])
    assert isinstance(result.exception, PlanNeedsApproval)
    assert "steward plans approve 1" in str(result.exception)
    assert _count(accounts) == 2


@pytest.mark.flow
def test_the_retention_flow_sweeps_and_publishes_its_artifacts(
    sqlite_url: str, no_guard: None, prefect_harness: None
) -> None:
    from flows.retention import retention

    _seed()
    result = retention(today=date(2026, 6, 15))
    assert result["approval"] == "not_needed"
    assert result["applied"]["items_done"] == 2
    assert result["verify"]["compliant"] is True and result["verify"]["overdue"] == 0
    reports = get_settings().output_dir / "reports"
    assert "survey_responses" in (reports / "retention-plan.md").read_text()
    assert "compliant" in (reports / "retention-verify.md").read_text()
    assert _count(survey_responses) == 0

"""The data-quality stage: every source table checked against its contract before anything acts on it.

Plain functions (check_tables, summary_markdown, raise_for_blocking) for the CLI and tests, with thin
Prefect tasks beside them for flows/data_quality.py. Reports carry counts only, never row values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from steward.errors import StewardError
from steward.progress import ProgressCallback, no_progress
from tasks.contracts import ContractError, ValidationReport, load_contract, table_contracts, validate_table

if TYPE_CHECKING:
    from sqlalchemy import Engine

SUMMARY_ARTIFACT_KEY = "data-quality-summary"


class DataQualityFailure(StewardError):
    """One or more source tables broke a blocking rule: nothing downstream may run on them."""

    exit_code = 1

    def __init__(self, reports: Sequence[ValidationReport]) -> None:
        self.reports = tuple(reports)
        failed = [r for r in self.reports if not r.passed]
        details = "; ".join(
            f"{r.contract}: " + ", ".join(result.describe() for result in r.blocking_failures) for r in failed
        )
        super().__init__(
            f"data quality: {len(failed)} of {len(self.reports)} table(s) failed blocking rules: {details}"
        )


def source_tables(tables: Sequence[str] | None = None) -> list[str]:
    """The tables to check: `tables` (each must have a table contract), or every source table."""
    from tasks.schema import SOURCE_TABLES

    if not tables:
        return list(SOURCE_TABLES)
    known = table_contracts()
    unknown = [name for name in tables if name not in known]
    if unknown:
        raise ContractError(
            "data_contracts/tables", "", f"no table contract for {', '.join(map(repr, unknown))}"
        )
    return list(dict.fromkeys(tables))


def load_all_contracts() -> int:
    """Parse every contract and the personal-data map (a broken contract fails here, before any data)."""
    from tasks.contracts import dataset_contracts
    from tasks.personal_data import personal_data_map

    count = len(table_contracts()) + len(dataset_contracts())
    personal_data_map()
    return count


def check_tables(
    tables: Sequence[str] | None = None,
    engine: Engine | str | None = None,
    progress: ProgressCallback = no_progress,
) -> list[ValidationReport]:
    """Validate each table (default: every source table) against its contract; one report each.

    Does not raise on a failed rule: the caller decides (raise_for_blocking). `progress` is called
    once per table.
    """
    reports = []
    for name in source_tables(tables):
        load_contract(name)
        reports.append(validate_table(name, engine))
        progress(1)
    return reports


def summary_rows(reports: Sequence[ValidationReport]) -> list[dict[str, Any]]:
    """One row per table: rows, rules passed, blocking failures, warnings (counts only)."""
    return [
        {
            "table": r.contract,
            "rows": r.row_count,
            "rules_passed": r.rules_passed,
            "rules": len(r.results),
            "blocking_failures": len(r.blocking_failures),
            "warnings": len(r.warnings),
            "passed": r.passed,
        }
        for r in reports
    ]


def summary_markdown(reports: Sequence[ValidationReport]) -> str:
    """The combined summary a person reads: a table of tables, then each table that did not pass cleanly."""
    failed = [r for r in reports if not r.passed]
    verdict = (
        f"**{len(failed)} of {len(reports)} table(s) failed blocking rules**: nothing downstream ran."
        if failed
        else f"All {len(reports)} table(s) passed their blocking rules."
    )
    lines = [
        "## Data quality",
        "",
        verdict,
        "",
        "| table | rows | rules passed | blocking failures | warnings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in reports:
        lines.append(
            f"| `{r.contract}` | {r.row_count:,} | {r.rules_passed} of {len(r.results)} | "
            f"{len(r.blocking_failures)} | {len(r.warnings)} |"
        )
    for r in reports:
        if r.blocking_failures or r.warnings or any(result.status == "error" for result in r.results):
            lines += ["", r.to_markdown()]
    return "\n".join(lines)


def raise_for_blocking(reports: Sequence[ValidationReport]) -> None:
    """Raise DataQualityFailure when any report has a blocking failure."""
    if any(not r.passed for r in reports):
        raise DataQualityFailure(reports)


def publish_summary(reports: Sequence[ValidationReport]) -> Path:
    """Write the summary report and, inside a flow run, publish it as the `data-quality-summary` artifact."""
    from tasks.artifacts import publish_markdown

    return publish_markdown(
        SUMMARY_ARTIFACT_KEY,
        summary_markdown(reports),
        description="Data quality: every source table against its contract",
    )


# ------------------------------------------------------------------------------------ Prefect tasks
# persist_result=False and no cache: the reports hold counts only, but these tasks read personal data.


@task(name="load-contracts", persist_result=False, cache_policy=NO_CACHE)
def load_contracts_task() -> int:
    return load_all_contracts()


@task(name="check-table", persist_result=False, cache_policy=NO_CACHE, task_run_name="check-{table}")
def check_table_task(table: str) -> ValidationReport:
    return check_tables([table])[0]


@task(name="publish-data-quality-summary", persist_result=False, cache_policy=NO_CACHE)
def publish_summary_task(reports: list[ValidationReport]) -> str:
    return str(publish_summary(reports))

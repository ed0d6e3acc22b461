"""The data-quality stage as a flow: every source table against its contract; a blocking failure stops it."""

from __future__ import annotations

from typing import Any

from prefect import flow

from tasks.data_quality import (
    check_table_task,
    load_contracts_task,
    publish_summary_task,
    raise_for_blocking,
    source_tables,
    summary_rows,
)


@flow(name="data_quality", log_prints=False)
def data_quality(tables: list[str] | None = None) -> dict[str, Any]:
    """Validate the source tables (default: all), publish the `data-quality-summary` artifact, and
    raise DataQualityFailure when a blocking rule failed, so that nothing downstream runs.

    Returns counts per table.
    """
    load_contracts_task()
    reports = [check_table_task(table) for table in source_tables(tables)]
    publish_summary_task(reports)
    raise_for_blocking(reports)
    rows = summary_rows(reports)
    return {
        "tables": len(rows),
        "rows": sum(row["rows"] for row in rows),
        "warnings": sum(row["warnings"] for row in rows),
        "per_table": rows,
    }

"""Funder statistics: release each funder's protected tables for a period (docs/funder-statistics.md)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from tasks.artifacts import markdown_table, publish_markdown
from tasks.funders import FunderReleaseFailed, funders_to_release_task, release_statistics_task


@flow(name="funder_statistics", log_prints=False)
def funder_statistics(
    funder: str | None = None, period: str = "previous-quarter", raise_on_failure: bool = True
) -> dict[str, Any]:
    """Compile, protect, audit and deliver the statistics of one funder (or every known funder).

    `period` is a quarter (2026-Q3), a year (2026), `previous-quarter` or `previous-year`. A release
    already delivered is left alone. A release whose disclosure audit or output contract fails is not
    delivered; the run fails after the other funders, naming the exposed cells or broken rules
    (with `raise_on_failure=False`, as in the nightly batch, the failures are logged and reported in
    the artifact and the result, and the run goes on).
    """
    logger = get_run_logger()
    outcomes: list[dict[str, Any]] = []
    failures: list[str] = []
    for name in funders_to_release_task(funder):
        state = release_statistics_task(name, period, return_state=True)
        if state.is_completed():
            outcomes.append(state.result())
        else:
            failures.append(f"{name}: {state.message}")
            logger.error("funder statistics for %s %s not delivered: %s", name, period, state.message)
    logger.info("funder statistics: %d release(s) done, %d failed", len(outcomes), len(failures))
    rows = [
        (o["funder"], o["period"], o["outcome"], o["tables"], o["suppressed_cells"], o["cells"])
        for o in outcomes
    ]
    rows += [(failure.split(":", 1)[0], period, "FAILED", "", "", "") for failure in failures]
    publish_markdown(
        "funder-statistics",
        markdown_table(["funder", "period", "outcome", "tables", "suppressed", "cells"], rows)
        + ("\n\n" + "\n".join(f"- {f}" for f in failures) if failures else ""),
        "Funder statistics releases",
    )
    if failures:
        raise FunderReleaseFailed(f"{len(failures)} funder release(s) failed: " + "; ".join(failures))
    return {
        "releases": len(outcomes),
        "delivered": sum(o["outcome"] != "already_delivered" for o in outcomes),
    }

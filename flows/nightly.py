"""The nightly batch: the data-quality stage first, then every job, in one process and one flow run."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.bounce_reconciliation import bounce_reconciliation
from flows.content_rescan import content_rescan
from flows.data_quality import data_quality
from flows.erasure_requests import erasure_requests
from flows.funder_statistics import funder_statistics
from flows.retention import retention
from flows.subject_access import subject_access_demo_sample


@flow(name="nightly", log_prints=False)
def nightly() -> dict[str, Any]:
    """Check every source table against its contract, then run the nightly jobs.

    The data-quality stage raises on a blocking failure, so no job below acts on data that failed
    its contract. Each job is a subflow that publishes its own keyed artifact.
    """
    results: dict[str, Any] = {"data_quality": data_quality()}
    # The jobs, in order (each issue adds its line here).
    results["content_rescan"] = content_rescan()
    # A plan past the guard stops (not pauses) here, so the jobs after it still run.
    results["bounce_reconciliation"] = bounce_reconciliation(pause_for_approval=False)
    results["erasure_requests"] = erasure_requests(pause_for_approval=False)  # deferred ones complete
    results["retention"] = retention(pause_for_approval=False)
    # Every funder's release for the quarter just ended (a no-op once delivered); a failed release is
    # reported in the artifact funder-statistics and does not stop the jobs after it.
    results["funder_statistics"] = funder_statistics(raise_on_failure=False)
    results["subject_access_sample"] = subject_access_demo_sample()  # demo data only
    return results

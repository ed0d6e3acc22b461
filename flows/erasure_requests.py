"""Erasure requests: register one (optional), then erase every open, identity-checked request that no
active CPD booking, legal hold or open subject access request blocks (docs/erasure.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger

from tasks.artifacts import publish_markdown
from tasks.plans import PlanNeedsApproval, seek_approval
from tasks.rights import (
    apply_erasure_plan_task,
    collect_outcomes_task,
    drop_plan_task,
    erasure_report,
    plan_erasure_requests_task,
    register_erasure_request_task,
)


@flow(name="erasure_requests", log_prints=False)
def erasure_requests(
    email: str | None = None,
    account_id: int | None = None,
    received: date | None = None,
    identity_verified: bool = False,
    apply: bool = True,
    pause_for_approval: bool = True,
    approval_timeout_hours: float = 24.0,
) -> dict[str, Any]:
    """Process the erasure requests of the register (the same as `steward erasure request` + `run`).

    With `email` and/or `account_id`, registers a new request first (`received` defaults to today;
    `identity_verified` when the requester's identity is already established). Then plans every open,
    identity-checked request, checks the plan (an active CPD booking, a legal hold or an open subject
    access request defers the request with the reason; the guard pauses a large plan for the DPO on a
    Prefect server, or stops it), applies it and completes the requests. Deferred requests complete on
    the first run after the block ends (the nightly run processes them). Artifact `erasure-requests`.
    `pause_for_approval` false (the nightly batch) stops instead of pausing, so the jobs after it run.
    """
    logger = get_run_logger()
    new_request = register_erasure_request_task(email, account_id, received, identity_verified)
    run = plan_erasure_requests_task()
    if run.plan_id is not None and run.check is not None:
        if not apply:
            run.approval = "dry_run"  # reported, then dropped so that no later run applies it
            drop_plan_task(run.plan_id)
        elif run.check.needs_approval:
            why = run.check.guard.explain()
            run.approval = (
                seek_approval(run.plan_id, why, timeout_seconds=int(approval_timeout_hours * 3600))
                if pause_for_approval
                else "stopped"
            )
            if run.approval == "stopped":
                logger.warning(str(PlanNeedsApproval(run.plan_id, why)))
        else:
            run.approval = "not_needed"
        if run.approval in ("approved", "not_needed"):
            run = apply_erasure_plan_task(run)
    run = collect_outcomes_task(run)
    publish_markdown("erasure-requests", erasure_report(run), "Erasure requests")
    return {"registered_request": new_request, **run.summary()}

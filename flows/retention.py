"""The retention sweep as a flow: plan every rule, check the plan, apply it, verify nothing is left over."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger

from tasks.plans import PlanNeedsApproval, seek_approval
from tasks.retention import (
    apply_plan_task,
    check_plan_task,
    load_sweep_task,
    plan_report_task,
    plan_task,
    resume_plans_task,
    validate_plan_task,
    verify_task,
    waiting_plans_task,
)


@flow(name="retention", log_prints=False)
def retention(
    today: date | None = None,
    apply: bool = True,
    pause_for_approval: bool = True,
    approval_timeout_hours: float = 24.0,
    verify_limit: int = 100,
) -> dict[str, Any]:
    """Enforce the retention rules of data_contracts/retention_rules.yaml (docs/retention.md).

    1. finish the plans an earlier run left (approved by the DPO, or cut short by a crash);
    2. unless a plan still waits for the DPO, plan every rule's due rows, check the plan (legal holds,
       active CPD bookings, open subject access requests and restrictions defer items; the guard
       stops a plan that removes too much: on a Prefect server the run pauses for the DPO's decision,
       otherwise it stops and names the plan) and validate it against its contract (a blocking
       failure raises: nothing is applied);
    3. apply it (unless `apply` is false: a dry run, which supersedes older unapplied plans);
    4. verify: every record past its limit with no hold or block, published as the keyed artifact
       `retention-verify` (with `retention-plan`, the plan per rule).

    `today` (default: today in Europe/London) is the day the limits are counted to.
    `pause_for_approval` false (the nightly batch) stops instead of pausing, so the jobs after it run.
    Returns counts, ids and dates only.
    """
    logger = get_run_logger()
    sweep = load_sweep_task(today)
    resumed = resume_plans_task(sweep) if apply else {"plans": [], "items_done": 0, "items_deferred": 0}
    waiting = waiting_plans_task() if apply else []
    plan_id: int | None = None
    approval = None
    applied: dict[str, Any] | None = None
    deferred: dict[str, int] = {}
    if waiting:
        logger.warning(
            "retention plan(s) %s wait for the DPO's approval (`steward plans show ID`); no new plan is made",
            ", ".join(str(p) for p in waiting),
        )
    else:
        plan_id = plan_task(sweep)
        check = check_plan_task(plan_id, sweep, dry_run=not apply)
        validate_plan_task(plan_id)
        deferred = check.deferred_reasons
        if check.needs_approval:
            why = check.guard.explain()
            if apply and pause_for_approval:
                approval = seek_approval(plan_id, why, timeout_seconds=int(approval_timeout_hours * 3600))
            else:
                approval = "stopped"
            if approval == "stopped":
                logger.warning(str(PlanNeedsApproval(plan_id, why)))
        else:
            approval = "not_needed"
        if apply and approval in ("approved", "not_needed"):
            applied = apply_plan_task(plan_id, sweep)
    summarised = plan_id if plan_id is not None else waiting[-1]
    planned = plan_report_task(summarised, sweep)
    verified = verify_task(sweep, verify_limit)
    return {
        "today": sweep.today.isoformat(),
        "plan_id": plan_id,
        "waiting_plans": waiting,
        "approval": approval,
        "resumed": resumed,
        "planned": planned,
        "deferred": deferred,
        "applied": {k: applied[k] for k in ("items_done", "items_deferred", "batches")} if applied else None,
        "verify": verified,
    }

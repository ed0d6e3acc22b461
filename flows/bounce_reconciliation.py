"""Bounce reconciliation: ingest the provider's exports, mark undeliverable accounts, remove those
that stayed undeliverable past the grace period (docs/bounce-reconciliation.md)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from tasks.bounces.run import (
    BounceRun,
    apply_released_plans_task,
    apply_removal_plan_task,
    drop_plan_task,
    ingest_inbox_task,
    plan_and_check_removals_task,
    reconcile_marks_task,
    waiting_plans_task,
    write_report_task,
)
from tasks.plans import PlanNeedsApproval, seek_approval


@flow(name="bounce_reconciliation", log_prints=False)
def bounce_reconciliation(
    paths: list[str] | None = None,
    apply: bool = True,
    pause_for_approval: bool = True,
    approval_timeout_hours: float = 24.0,
) -> dict[str, Any]:
    """Reconcile the email provider's bounce, complaint and delivery reports with the accounts.

    1. ingest each new export file in `paths` (files or folders; default: the bounce inbox setting):
       rows failing the bounce_export contract are quarantined, a file seen before changes nothing;
    2. mark accounts undeliverable (a bad-address bounce, or transient bounces past the score), clear
       those delivered to since or whose address changed;
    3. apply removal plans the DPO approved since the last run;
    4. plan the removal of accounts undeliverable past the grace period and check the plan (holds,
       active CPD bookings and open subject access requests defer; the guard stops a large plan: on a
       Prefect server the run pauses for the DPO's decision, otherwise it stops and names the plan);
    5. apply it (unless `apply` is false: a dry run) and publish the report (artifact
       `bounce-reconciliation`).
    `pause_for_approval` false (the nightly batch) stops instead of pausing, so the jobs after it run.
    Returns counts and ids only.
    """
    logger = get_run_logger()
    run = BounceRun()
    run.files = ingest_inbox_task(paths)
    run.reconcile = reconcile_marks_task()
    if apply:
        run.earlier_plans = apply_released_plans_task()
    run.waiting_plan_ids = waiting_plans_task()
    if not run.waiting_plan_ids:
        run.planned = plan_and_check_removals_task()
        check = run.planned.check if run.planned else None
        if run.planned is not None and run.planned.plan_id is not None and check is not None:
            plan_id = run.planned.plan_id
            if not apply:
                # A dry run: the plan is reported, then dropped so that no later run applies it.
                run.approval = "dry_run"
                drop_plan_task(plan_id)
            elif check.needs_approval:
                run.approval = (
                    seek_approval(
                        plan_id, check.guard.explain(), timeout_seconds=int(approval_timeout_hours * 3600)
                    )
                    if pause_for_approval
                    else "stopped"
                )
                if run.approval == "stopped":
                    run.message = str(PlanNeedsApproval(plan_id, check.guard.explain()))
                    logger.warning(run.message)
            else:
                run.approval = "not_needed"
            if run.approval in ("approved", "not_needed"):
                run.applied = apply_removal_plan_task(plan_id)
    else:
        logger.warning(
            "removal plan(s) %s wait for the DPO's approval (`steward plans show ID`); no new plan is made",
            ", ".join(str(p) for p in run.waiting_plan_ids),
        )
    write_report_task(run)
    return run.summary()

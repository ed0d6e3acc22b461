"""The retention sweep as a flow: plan every rule, check the plan, apply it, verify nothing is left over."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger

from tasks.retention import (
    apply_plan_task,
    check_plan_task,
    load_sweep_task,
    plan_report_task,
    plan_task,
    resume_plans_task,
    validate_plan_task,
    verify_task,
)


@flow(name="retention", log_prints=False)
def retention(today: date | None = None, apply: bool = True, verify_limit: int = 100) -> dict[str, Any]:
    """Enforce the retention rules of data_contracts/retention_rules.yaml.

    1. finish plans an earlier run left (approved by the DPO, or cut short);
    2. plan every rule's due rows; check the plan (legal holds, active CPD bookings and open subject
       access requests defer items; the guard stops a plan that removes too much) and validate it
       against its contract (a blocking failure raises: nothing is applied);
    3. apply it, unless the guard stopped it (then `steward plans approve ID` releases it for the
       next run) or `apply` is false (a dry run);
    4. verify: every record past its limit with no hold or block, published as the keyed artifact
       `retention-verify` (and `retention-plan` for the plan per rule).

    `today` (default: today in Europe/London) is the day the limits are counted to.
    Returns counts, ids and dates only.
    """
    logger = get_run_logger()
    sweep = load_sweep_task(today)
    resumed = resume_plans_task(sweep) if apply else {"plans": [], "items_done": 0, "items_deferred": 0}
    plan_id = plan_task(sweep)
    check = check_plan_task(plan_id, sweep)
    contract = validate_plan_task(plan_id)
    applied: dict[str, Any] | None = None
    if check["status"] == "awaiting_approval":
        logger.warning(
            "retention plan %s is waiting for approval and nothing was deleted: %s. "
            "Review it with `steward plans show %s`; `steward plans approve %s --by NAME` releases it "
            "for the next run.",
            plan_id,
            check["guard"]["why"],
            plan_id,
            plan_id,
        )
    elif apply:
        applied = apply_plan_task(plan_id, sweep)
    planned = plan_report_task(plan_id, sweep)
    verified = verify_task(sweep, verify_limit)
    return {
        "today": sweep.today.isoformat(),
        "plan_id": plan_id,
        "plan_status": planned["status"],
        "resumed": resumed,
        "planned": planned,
        "deferred": check["deferred_reasons"],
        "contract_rows": contract["rows"],
        "applied": {k: applied[k] for k in ("items_done", "items_deferred", "batches")} if applied else None,
        "verify": verified,
    }

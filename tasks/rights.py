"""The data subject's other rights: erasure on request, restriction, rectification, marketing unsubscribe.

Every request goes into the one register (tasks.requests) with its statutory deadline, and every change
leaves an audit record (keyed hashes, never an address).

- Erasure (`request_erasure`, then `process_erasure_requests`): each open request whose identity is
  checked becomes an item of an `erasure_request` plan (action erase_subject on the register row: the
  requester's account, found by id or address, and every row the map links to either). The plan is
  checked like any other: an active CPD booking, a legal hold or an open subject access request defers
  the request (status `deferred`, with the reason); the first run after the block ends completes it.
- Restriction (`restrict` / `lift_restriction`): accounts.restricted. Jobs honour it: no job removes or
  reduces a restricted account (tasks.plans), statistics and research extracts leave it out.
- Rectification (`rectify`): corrects account fields (checked against the accounts contract), records
  the correction in the register, and lists the recipients from the data-share log who must be told
  (UK GDPR art. 19). A corrected address clears an undeliverable mark.
- Unsubscribe (`unsubscribe`): withdraws marketing consent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from steward.errors import StewardError
from steward.progress import ProgressCallback
from tasks.audit import normalise_email, subject_hash, write_audit
from tasks.calendar import utc_now
from tasks.db import get_engine, sql
from tasks.plans import (
    ERASURE_REQUEST_KIND,
    ApplyResult,
    PlanCheck,
    PlanItem,
    apply_plan,
    check_plan,
    create_plan,
    drop_plan,
    open_plans,
    reject_plan,
    validate_plan,
)
from tasks.requests import (
    RequestError,
    complete_request,
    find_account_id,
    get_request,
    open_requests,
    register_request,
)
from tasks.schema import accounts, email_deliverability

ERASURE_RULE = "erasure_request"
RECTIFIABLE = (
    "first_name",
    "last_name",
    "email",
    "job_title",
    "organisation_name",
    "region",
    "school_phase",
    "subject",
    "interests",
    "postcode",
    "phone",
)


class RightsError(StewardError):
    """A request that cannot be carried out as asked (names the field or the id, never a value)."""


# ------------------------------------------------------------------------------------------ lookups


def resolve_account(conn: Connection, email: str | None, account_id: int | None) -> tuple[int, str]:
    """The account named by an address and/or an id (both must agree when both are given)."""
    if account_id is None and not email:
        raise RightsError("name the person: --email, --account-id, or both")
    if account_id is None:
        assert email is not None
        found = find_account_id(conn, email)
        if found is None:
            raise RightsError("no account has that email address")
        account_id = found
    row = conn.execute(select(accounts.c.id, accounts.c.email).where(accounts.c.id == account_id)).first()
    if row is None:
        raise RightsError(f"no account with id {account_id}")
    if email and normalise_email(row.email) != normalise_email(email):
        raise RightsError(f"account {account_id} has a different email address from the one given")
    return int(row.id), str(row.email)


# ------------------------------------------------------------------------------------------ erasure


def request_erasure(
    conn: Connection,
    email: str,
    *,
    account_id: int | None = None,
    received_on: date | None = None,
    identity_verified: bool = False,
) -> int:
    """Register an erasure request (the account is found by address when no id is given)."""
    if account_id is not None:
        resolve_account(conn, email, account_id)
    return register_request(
        conn,
        "erasure",
        email,
        account_id=account_id,
        received_on=received_on,
        identity_verified=identity_verified,
    )


@dataclass
class ErasureRun:
    """What processing the erasure requests did: ids and counts only."""

    awaiting_identity: list[int] = field(default_factory=list)
    earlier_plans: list[ApplyResult] = field(default_factory=list)
    waiting_plan_ids: list[int] = field(default_factory=list)
    plan_id: int | None = None
    check: PlanCheck | None = None
    applied: ApplyResult | None = None
    completed: list[int] = field(default_factory=list)
    deferred: dict[int, str] = field(default_factory=dict)
    approval: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "completed": self.completed,
            "deferred": self.deferred,
            "awaiting_identity_check": self.awaiting_identity,
            "waiting_plans": self.waiting_plan_ids,
            "approval": self.approval,
            "subjects_erased": (self.applied.subjects_erased if self.applied else 0)
            + sum(r.subjects_erased for r in self.earlier_plans),
        }


def plan_erasure_requests(conn: Connection, run: ErasureRun) -> int | None:
    """A plan with one erase_subject item per open, identity-checked erasure request not already
    pending in an open plan; checked (deferrals recorded on the requests). None when nothing is due."""
    requests = open_requests(conn, "erasure")
    run.awaiting_identity = [r.id for r in requests if r.identity_verified_on is None]
    pending = {int(row.subject_row_id) for row in conn.execute(sql("rights__requests_in_open_plans", conn))}
    due = [r for r in requests if r.identity_verified_on is not None and r.id not in pending]
    if not due:
        return None
    items = [
        PlanItem(
            subject_table="request_register",
            subject_row_id=r.id,
            action="erase_subject",
            rule=ERASURE_RULE,
            reason=f"erasure request {r.id}, received {r.received_on.isoformat()}, due {r.due_on.isoformat()}",
            account_id=r.account_id,
        )
        for r in due
    ]
    plan_id = create_plan(conn, ERASURE_REQUEST_KIND, items, summary={"requests": len(items)})
    for r in due:
        if r.status == "received":
            from tasks.requests import set_status

            set_status(conn, r.id, "in_progress")
    run.check = check_plan(conn, plan_id)
    validate_plan(conn, plan_id)  # a plan failing its contract is never applied
    return plan_id


def collect_outcomes(conn: Connection, plan_ids: list[int], run: ErasureRun) -> None:
    """Which requests of these plans completed and which were deferred (with the reason)."""
    for plan_id in plan_ids:
        for row in conn.execute(sql("rights__plan_request_outcomes", conn), {"plan_id": plan_id}).mappings():
            if row["item_status"] == "done" and row["request_status"] == "completed":
                run.completed.append(int(row["request_id"]))
            elif row["item_status"] == "deferred":
                run.deferred[int(row["request_id"])] = str(row["deferred_reason"])


def process_erasure_requests(
    *, engine: Engine | None = None, apply: bool = True, progress: ProgressCallback | None = None
) -> ErasureRun:
    """Plan, check and apply the open erasure requests (the CLI's `steward erasure run`; the flow does
    the same steps with a pause for approval). Raises PlanNeedsApproval when the guard stops the plan."""
    from tasks.plans import PlanNeedsApproval

    engine = engine or get_engine()
    run = ErasureRun()
    run.earlier_plans = apply_released_erasure_plans(engine=engine) if apply else []
    with engine.begin() as conn:
        run.plan_id = plan_erasure_requests(conn, run)
    plan_ids = [r.plan_id for r in run.earlier_plans]
    if run.plan_id is not None and run.check is not None:
        plan_ids.append(run.plan_id)
        if run.check.needs_approval:
            run.approval = "stopped"
            with engine.connect() as conn:
                collect_outcomes(conn, plan_ids, run)
            raise PlanNeedsApproval(run.plan_id, run.check.guard.explain())
        run.approval = "not_needed"
        if apply:
            run.applied = apply_plan(run.plan_id, engine=engine, progress=progress)
        else:
            with engine.begin() as conn:  # a dry run: dropped, so that no later run applies it
                reject_plan(conn, run.plan_id, "dry run")
            run.approval = "dry_run"
    with engine.connect() as conn:
        collect_outcomes(conn, plan_ids, run)
    return run


def apply_released_erasure_plans(*, engine: Engine | None = None) -> list[ApplyResult]:
    """Apply erasure-request plans an earlier run left approved, ready or half-applied."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        plans = [
            p
            for p in open_plans(conn, ERASURE_REQUEST_KIND)
            if p["status"] in ("ready", "approved", "applying")
        ]
    return [apply_plan(int(p["id"]), engine=engine) for p in plans]


# ------------------------------------------------------------------------------------- restriction


def restrict(conn: Connection, email: str | None, account_id: int | None, *, lift: bool = False) -> int:
    """Restrict processing of an account (or lift the restriction); recorded in the register as a
    completed `restriction` request. Returns the request id."""
    account, address = resolve_account(conn, email, account_id)
    request_id = register_request(
        conn,
        "restriction",
        address,
        account_id=account,
        identity_verified=True,
        details={"lift": lift},
    )
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account)
        .values(restricted=not lift, restricted_at=None if lift else utc_now(), updated_at=utc_now())
    )
    write_audit(
        conn,
        "restriction_lifted" if lift else "processing_restricted",
        subject=subject_hash(address),
        request_id=request_id,
    )
    complete_request(conn, request_id)
    return request_id


# ------------------------------------------------------------------------------------ rectification


@dataclass(frozen=True)
class Rectification:
    request_id: int
    account_id: int
    fields: tuple[str, ...]
    recipients: tuple[dict[str, Any], ...]  # recipient, dataset, last shared: who must be told


def _check_value(column: str, value: str) -> str | None:
    """Why `value` does not fit the accounts contract's rules for `column` (never echoes the value)."""
    from tasks.contracts import load_contract

    prop = next(p for p in load_contract("accounts").properties if p.name == column)
    if prop.required and not value.strip():
        return f"{column} is required"
    if prop.max_length is not None and len(value) > prop.max_length:
        return f"{column} is longer than {prop.max_length} characters"
    if prop.pattern is not None and value and not re.fullmatch(prop.pattern, value):
        return f"{column} does not match the contract's pattern"
    for rule in prop.quality:
        if rule.valid_values and value not in rule.valid_values:
            return f"{column} must be one of {', '.join(map(str, rule.valid_values))}"
    return None


def rectify(
    conn: Connection,
    email: str | None,
    account_id: int | None,
    changes: Mapping[str, str],
    *,
    received_on: date | None = None,
) -> Rectification:
    """Correct account fields, record the correction, and list the recipients who must be told."""
    if not changes:
        raise RightsError("nothing to correct: give one or more --set FIELD=VALUE")
    unknown = sorted(set(changes) - set(RECTIFIABLE))
    if unknown:
        raise RightsError(f"cannot rectify {', '.join(unknown)}; fields: {', '.join(RECTIFIABLE)}")
    for column, value in changes.items():
        problem = _check_value(column, value)
        if problem:
            raise RightsError(f"rectification refused: {problem}")
    account, address = resolve_account(conn, email, account_id)
    new_address = changes.get("email")
    if new_address is not None:
        other = find_account_id(conn, new_address)
        if other is not None and other != account:
            raise RightsError("rectification refused: another account already has that email address")
    request_id = register_request(
        conn,
        "rectification",
        address,
        account_id=account,
        received_on=received_on,
        identity_verified=True,
        details={"fields": dict(changes)},
    )
    values: dict[str, Any] = {column: (value if value != "" else None) for column, value in changes.items()}
    values["updated_at"] = utc_now()
    if new_address is not None and normalise_email(new_address) != normalise_email(address):
        # A new address is deliverable until the provider says otherwise.
        values.update(email_status="ok", email_status_changed_at=utc_now())
        conn.execute(delete(email_deliverability).where(email_deliverability.c.account_id == account))
    conn.execute(update(accounts).where(accounts.c.id == account).values(values))
    recipients = tuple(
        dict(row)
        for row in conn.execute(sql("rights__share_recipients", conn), {"account_id": account}).mappings()
    )
    write_audit(
        conn,
        "account_rectified",
        subject=subject_hash(address),
        request_id=request_id,
        detail={"fields": sorted(changes), "recipients_to_tell": len(recipients)},
    )
    complete_request(conn, request_id)
    return Rectification(request_id, account, tuple(sorted(changes)), recipients)


# -------------------------------------------------------------------------------------- unsubscribe


def unsubscribe(conn: Connection, email: str | None, account_id: int | None) -> int:
    """Withdraw marketing consent; recorded in the register. Returns the request id."""
    account, address = resolve_account(conn, email, account_id)
    request_id = register_request(conn, "unsubscribe", address, account_id=account, identity_verified=True)
    conn.execute(
        update(accounts).where(accounts.c.id == account).values(consent_marketing=False, updated_at=utc_now())
    )
    write_audit(conn, "marketing_unsubscribed", subject=subject_hash(address), request_id=request_id)
    complete_request(conn, request_id)
    return request_id


def request_summary(conn: Connection, request_id: int) -> dict[str, Any]:
    """A register row without the address (for CLI output)."""
    try:
        row = get_request(conn, request_id)
    except RequestError as error:
        raise RightsError(str(error)) from error
    return {
        key: row[key]
        for key in ("id", "kind", "status", "account_id", "received_on", "due_on", "deferred_reason")
    }


# ------------------------------------------------------------------------------ Prefect task wrappers


def register_erasure_request(
    email: str | None, account_id: int | None, received_on: date | None, identity_verified: bool
) -> int | None:
    """Register the request given to the flow (None when the run only processes open requests)."""
    if not email and account_id is None:
        return None
    with get_engine().begin() as conn:
        if not email:
            assert account_id is not None
            _account, email = resolve_account(conn, None, account_id)
        return request_erasure(
            conn, email, account_id=account_id, received_on=received_on, identity_verified=identity_verified
        )


def plan_erasure_requests_step() -> ErasureRun:
    run = ErasureRun()
    run.earlier_plans = apply_released_erasure_plans()
    with get_engine().begin() as conn:
        run.plan_id = plan_erasure_requests(conn, run)
    return run


def apply_erasure_plan_step(run: ErasureRun) -> ErasureRun:
    if run.plan_id is not None:
        run.applied = apply_plan(run.plan_id)
    return run


def collect_outcomes_step(run: ErasureRun) -> ErasureRun:
    plan_ids = [r.plan_id for r in run.earlier_plans] + ([run.plan_id] if run.plan_id is not None else [])
    with get_engine().connect() as conn:
        collect_outcomes(conn, plan_ids, run)
    return run


def erasure_report(run: ErasureRun) -> str:
    """The run's report: request ids, statuses and reasons; no address."""
    lines = []
    if run.completed:
        lines.append(f"Completed: requests {', '.join(map(str, sorted(run.completed)))}.")
    if run.deferred:
        lines += [f"- request {rid} deferred: {reason}" for rid, reason in sorted(run.deferred.items())]
    if run.awaiting_identity:
        lines.append(
            f"Waiting for an identity check: requests {', '.join(map(str, run.awaiting_identity))} "
            "(`steward erasure verify ID`)."
        )
    if run.waiting_plan_ids or run.approval == "stopped":
        plan = run.plan_id
        lines.append(
            f"Plan {plan} waits for the DPO's approval: `steward plans show {plan}`, then "
            f"`steward plans approve {plan} --by NAME`."
        )
    return "\n\n".join(lines) or "No erasure request was due."


def _task(fn: Any, name: str) -> Any:
    from prefect import task

    return task(fn, name=name, persist_result=False)


register_erasure_request_task = _task(register_erasure_request, "register the erasure request")
plan_erasure_requests_task = _task(plan_erasure_requests_step, "plan and check erasure requests")
apply_erasure_plan_task = _task(apply_erasure_plan_step, "apply the erasure plan")
collect_outcomes_task = _task(collect_outcomes_step, "record the requests' outcomes")
drop_plan_task = _task(drop_plan, "drop the dry run's plan")

"""Decisions before actions: the plan lifecycle every destructive job shares (bounces, retention, erasure).

A plan lists what will be removed or reduced, row by row or subject by subject, with the rule or request
behind each item. Its life:

    create_plan -> draft
    check_plan  -> ready                 (blocked items deferred with their reason)
                -> awaiting_approval     (the guard tripped: nothing is deleted until the DPO approves)
    approve_plan: awaiting_approval -> approved          reject_plan: -> rejected
    apply_plan  : ready | approved | applying -> applying -> applied

Items (`plan_items.action`):
- `erase_subject`: a data subject and everything the personal-data map links to them (deleted,
  anonymised or retained per the map's erasure spec), in one transaction. The subject is named by a row:
  `accounts` + the account id; `request_register` + the request id (the requester: their account, if
  any, and their address); or a row of a table linked by email only (a job application...), whose
  address names the subject.
- `delete_row`: one row, with the rows that depend on it (the map's parent links and the foreign keys).
- `anonymise_row`: one row reduced by its table's erasure columns (the row stays).

Blocks (checked when the plan is checked and again, per batch, when it is applied): a legal hold on the
subject (by account or address, not lifted) blocks every item about them; an open subject access
request blocks every item about them; an active CPD booking (course not ended, booking not cancelled)
blocks removing their account. A blocked item is deferred with the reason; an erasure request behind it
is deferred too, and completes on the first run after the block ends (a new plan picks it up).

Checking and applying read a plan window by window (setting erasure_row_batch_size), as groups of one
table and action. Row items of tables that hold no accounts go the set-based way (tasks.erasure.scan_rows,
erase_rows_set_based): only rows naming an account or address on the blocks' watchlist are resolved and
checked one by one, rows others point at go through the map walk, the rest are deleted or reduced with
one statement, in one transaction per group. Every other item goes through the map walk in batches of
subjects (erasure_batch_size), one transaction per batch. Either way the rows are erased, the items
marked done and one audit record per item written in the same transaction, so a run killed at any point
leaves whole subjects and rows erased or untouched, and the next run completes the rest without touching
anything twice. After each commit the batch's audit records are appended to the erasure journal
(tasks.erasure), which `steward erasure replay` reads after a database restore.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Date, Engine, bindparam, insert, select, update

from steward.errors import StewardError
from steward.memory import release_free_memory, without_cyclic_gc
from steward.progress import ProgressCallback, no_progress
from steward.settings import get_settings
from tasks.audit import current_run_id, normalise_email, subject_hash, write_audit
from tasks.calendar import today_local, utc_now
from tasks.db import get_engine, sql, sqlite_bulk_writes, sqlite_page_cache
from tasks.erasure import ErasureConflict, set_based_rows
from tasks.schema import plan_items, plans

Action = Literal["erase_subject", "delete_row", "anonymise_row"]
ACTIONS: tuple[str, ...] = get_args(Action)
PlanStatus = Literal["draft", "ready", "awaiting_approval", "approved", "applying", "applied", "rejected"]
APPLICABLE = ("ready", "approved", "applying")
ERASURE_REQUEST_KIND = "erasure_request"
OPEN_PLAN_STATUSES = ("draft", "ready", "awaiting_approval", "approved", "applying")

REASON_HOLD = "legal hold"
REASON_ACCESS = "open subject access request"
REASON_BOOKING = "active CPD booking"
REASON_CONFLICT = "rows of other people depend on it"
REASON_RESTRICTED = "restriction of processing"


class PlanError(StewardError):
    """A plan id, state change or item that is not valid."""


class PlanNeedsApproval(StewardError):
    """The guard stopped a plan before it deleted anything; the DPO must approve it first."""

    exit_code = 3

    def __init__(self, plan_id: int, why: str) -> None:
        self.plan_id = plan_id
        self.why = why
        super().__init__(
            f"plan {plan_id} is waiting for approval and nothing was deleted: {why}. "
            f"Review it with `steward plans show {plan_id}`, then release it with "
            f"`steward plans approve {plan_id} --by NAME` (the next run applies it) or drop it with "
            f"`steward plans reject {plan_id}`."
        )


@dataclass(frozen=True)
class PlanItem:
    """One thing a plan will do. `reason` says why, in words, with no personal data."""

    subject_table: str
    subject_row_id: int
    action: Action
    rule: str
    reason: str
    account_id: int | None = None


@dataclass(frozen=True)
class GuardResult:
    accounts_total: int
    accounts_removed: int
    removals: int
    max_active_share: float
    max_subjects: int

    @property
    def share(self) -> float:
        return self.accounts_removed / self.accounts_total if self.accounts_total else 0.0

    @property
    def tripped(self) -> bool:
        over_share = self.accounts_removed > 0 and self.share > self.max_active_share
        return over_share or self.removals > self.max_subjects

    def explain(self) -> str:
        reasons = []
        if self.accounts_removed > 0 and self.share > self.max_active_share:
            reasons.append(
                f"it removes {self.accounts_removed:,} of {self.accounts_total:,} accounts "
                f"({self.share:.1%}; the guard allows {self.max_active_share:.1%})"
            )
        if self.removals > self.max_subjects:
            reasons.append(
                f"it removes {self.removals:,} subjects or rows (the guard allows {self.max_subjects:,})"
            )
        return "; ".join(reasons) or "within the guard"


@dataclass(frozen=True)
class PlanCheck:
    plan_id: int
    status: str
    pending: int
    deferred: int
    newly_deferred: int
    deferred_reasons: dict[str, int]
    guard: GuardResult

    @property
    def needs_approval(self) -> bool:
        return self.status == "awaiting_approval"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["guard"] = {**asdict(self.guard), "tripped": self.guard.tripped, "why": self.guard.explain()}
        return data


@dataclass
class ApplyResult:
    plan_id: int
    status: str
    items_done: int = 0
    items_deferred: int = 0
    subjects_erased: int = 0
    batches: int = 0
    already_applied: bool = False
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------- create


def create_plan(
    conn: Connection, kind: str, items: Iterable[PlanItem], *, summary: Mapping[str, Any] | None = None
) -> int:
    """Write a plan and its items (status draft) and return its id. Duplicate items are kept once."""
    from tasks.erasure import validate_item_targets

    if not kind or len(kind) > 30:
        raise PlanError(f"plan kind {kind!r} must be 1 to 30 characters")
    unique: dict[tuple[str, int, str], PlanItem] = {}
    for item in items:
        if item.action not in ACTIONS:
            raise PlanError(f"unknown plan action {item.action!r}; one of {', '.join(ACTIONS)}")
        if not item.rule or not item.reason:
            raise PlanError("every plan item needs its rule and its reason")
        unique.setdefault((item.subject_table, int(item.subject_row_id), item.action), item)
    batch = list(unique.values())
    validate_item_targets({(item.subject_table, item.action) for item in batch})
    now = utc_now()
    plan_summary_json = {"created": dict(summary or {}), "items": _count_items(batch)}
    plan_id = int(
        conn.execute(
            insert(plans).returning(plans.c.id),
            [
                {
                    "kind": kind,
                    "status": "draft",
                    "created_at": now,
                    "created_by_run": current_run_id(),
                    "summary": json.dumps(plan_summary_json, sort_keys=True, default=str),
                }
            ],
        ).scalar_one()
    )
    rows = [
        {
            "plan_id": plan_id,
            "account_id": item.account_id,
            "subject_table": item.subject_table,
            "subject_row_id": int(item.subject_row_id),
            "action": item.action,
            "rule": item.rule,
            "reason": item.reason,
            "status": "pending",
            "deferred_reason": None,
            "applied_at": None,
        }
        for item in batch
    ]
    for start in range(0, len(rows), 10_000):
        conn.execute(insert(plan_items), rows[start : start + 10_000])
    write_audit(conn, "plan_created", plan_id=plan_id, detail={"kind": kind, "items": len(rows)})
    return plan_id


def _count_items(items: Sequence[PlanItem]) -> dict[str, int]:
    counts: Counter[str] = Counter(f"{item.rule}/{item.subject_table}/{item.action}" for item in items)
    return dict(sorted(counts.items()))


# -------------------------------------------------------------------------------------- plan access


def get_plan(conn: Connection, plan_id: int) -> dict[str, Any]:
    row = conn.execute(select(plans).where(plans.c.id == plan_id)).mappings().first()
    if row is None:
        raise PlanError(f"no plan with id {plan_id}")
    return dict(row)


def _set_plan(conn: Connection, plan_id: int, **values: Any) -> None:
    conn.execute(update(plans).where(plans.c.id == plan_id).values(**values))


def _merge_summary(conn: Connection, plan_id: int, key: str, value: Any) -> None:
    row = get_plan(conn, plan_id)
    summary = json.loads(row["summary"] or "{}")
    summary[key] = value
    _set_plan(conn, plan_id, summary=json.dumps(summary, sort_keys=True, default=str))


@dataclass(frozen=True)
class ItemRow:
    """A plan item as stored (ids and names only)."""

    id: int
    account_id: int | None
    subject_table: str
    subject_row_id: int
    action: str
    rule: str


def pending_items(conn: Connection, plan_id: int, ids: Sequence[int]) -> list[ItemRow]:
    """The items among `ids` still pending in a plan, in id order (a plan's pending items as a whole are
    read window by window: pending_groups, group_items)."""
    statement = sql("plans__pending_items_among", conn).bindparams(bindparam("item_ids", expanding=True))
    result: list[ItemRow] = []
    for chunk in _chunks(list(ids), 500):
        result += [
            ItemRow(**row)
            for row in conn.execute(statement, {"plan_id": plan_id, "item_ids": chunk}).mappings()
        ]
    return result


@dataclass(frozen=True)
class ItemGroup:
    """The pending items of one table and action in a window of a plan: those with ids in [first, last]."""

    subject_table: str
    action: str
    first_id: int
    last_id: int
    items: int


def pending_groups(conn: Connection, plan_id: int, after: int, size: int) -> list[ItemGroup]:
    """The next window of `size` pending items with ids above `after`, as groups of one table and action."""
    params = {"plan_id": plan_id, "after": after, "window": size}
    rows = conn.execute(sql("plans__pending_window_groups", conn), params)
    return [ItemGroup(*row) for row in rows]  # the query's columns are ItemGroup's fields, in order


def group_items(conn: Connection, plan_id: int, group: ItemGroup) -> list[ItemRow]:
    """The pending items of a group, in id order."""
    params = {
        "plan_id": plan_id,
        "subject_table": group.subject_table,
        "action": group.action,
        "first_id": group.first_id,
        "last_id": group.last_id,
    }
    return [ItemRow(*row) for row in conn.execute(sql("plans__pending_items_between", conn), params)]


def _chunks(values: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


# --------------------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Blocks:
    """What stops items now: active holds, open subject access requests, active bookings."""

    hold_accounts: dict[int, int]
    hold_emails: dict[str, int]
    access_accounts: dict[int, int]
    access_hashes: dict[str, int]
    booking_ends: dict[int, date]
    restricted: frozenset[int] = frozenset()
    access_emails: frozenset[str] = frozenset()  # the addresses of open requests, where their hash matches
    access_by_hash_only: bool = False  # an open request whose address is not on record (hash only)


def load_blocks(
    conn: Connection,
    account_ids: Iterable[int],
    today: date | None = None,
    booking_accounts: Iterable[int] | None = None,
) -> Blocks:
    """The blocks that apply today; restrictions are looked up for `account_ids` only, bookings for
    `booking_accounts` (default: the same), the accounts an item would delete."""
    today = today or today_local()
    account_ids = sorted(set(account_ids))
    booking_ids = account_ids if booking_accounts is None else sorted(set(booking_accounts))
    hold_accounts: dict[int, int] = {}
    hold_emails: dict[str, int] = {}
    for row in conn.execute(sql("plans__active_holds", conn)).mappings():
        if row["account_id"] is not None:
            hold_accounts.setdefault(int(row["account_id"]), int(row["id"]))
        if row["email_normalised"]:
            hold_emails.setdefault(row["email_normalised"], int(row["id"]))
    access_accounts: dict[int, int] = {}
    access_hashes: dict[str, int] = {}
    access_emails: set[str] = set()
    by_hash_only = False
    for row in conn.execute(sql("plans__open_access_requests", conn)).mappings():
        if row["account_id"] is not None:
            access_accounts.setdefault(int(row["account_id"]), int(row["id"]))
        access_hashes.setdefault(row["subject_hash"], int(row["id"]))
        if row["email"] and subject_hash(row["email"]) == row["subject_hash"]:
            access_emails.add(normalise_email(row["email"]))
        else:
            by_hash_only = True
    booking_ends: dict[int, date] = {}
    restricted: set[int] = set()
    bookings = sql("plans__active_bookings", conn).bindparams(
        bindparam("account_ids", expanding=True), bindparam("today", type_=Date())
    )
    restrictions = sql("plans__restricted_accounts", conn).bindparams(
        bindparam("account_ids", expanding=True)
    )
    for chunk in _chunks(booking_ids, 500):
        for row in conn.execute(bookings, {"account_ids": chunk, "today": today}).mappings():
            ends = row["last_course_ends_on"]
            booking_ends[int(row["account_id"])] = (
                ends if isinstance(ends, date) else date.fromisoformat(ends)
            )
    for chunk in _chunks(account_ids, 500):
        restricted.update(int(row.id) for row in conn.execute(restrictions, {"account_ids": chunk}))
    return Blocks(
        hold_accounts,
        hold_emails,
        access_accounts,
        access_hashes,
        booking_ends,
        frozenset(restricted),
        frozenset(access_emails),
        by_hash_only,
    )


def watchlist(conn: Connection, kind: str, today: date | None = None) -> Any:
    """Every account and address a block names today (tasks.erasure.Watchlist): holds, open subject
    access requests and, unless the plan carries out erasure requests, restricted accounts. Row items
    that name none of them are not blocked; those that do are checked one by one."""
    from tasks.erasure import close_watchlist

    blocks = load_blocks(conn, (), today, booking_accounts=())
    accounts = set(blocks.hold_accounts) | set(blocks.access_accounts)
    if kind != ERASURE_REQUEST_KIND:
        accounts |= {int(row.id) for row in conn.execute(sql("plans__restricted_all", conn))}
    emails = set(blocks.hold_emails) | set(blocks.access_emails)
    return close_watchlist(conn, accounts, emails, hash_all=blocks.access_by_hash_only)


def blocked_reason(
    item: ItemRow,
    account_ids: frozenset[int],
    emails: frozenset[str],
    blocks: Blocks,
    plan_kind: str | None = None,
) -> str | None:
    """Why an item cannot be applied now, or None. The reason names ids and dates, never a person.

    A restricted account (UK GDPR art. 18: the person asked that their data be kept but not used) is
    not removed or reduced by any job, unless the person asked for the erasure themselves."""
    for account_id in sorted(account_ids):
        if account_id in blocks.hold_accounts:
            return f"{REASON_HOLD}: hold {blocks.hold_accounts[account_id]}"
    for email in sorted(emails):
        if email in blocks.hold_emails:
            return f"{REASON_HOLD}: hold {blocks.hold_emails[email]}"
    for account_id in sorted(account_ids):
        if account_id in blocks.access_accounts:
            return f"{REASON_ACCESS}: request {blocks.access_accounts[account_id]}"
    for email in sorted(emails):
        request_id = blocks.access_hashes.get(subject_hash(email))
        if request_id is not None:
            return f"{REASON_ACCESS}: request {request_id}"
    if plan_kind != ERASURE_REQUEST_KIND:
        for account_id in sorted(account_ids):
            if account_id in blocks.restricted:
                return f"{REASON_RESTRICTED}: account restricted"
    if removes_account(item):
        for account_id in sorted(account_ids):
            if account_id in blocks.booking_ends:
                return f"{REASON_BOOKING}: course ends {blocks.booking_ends[account_id].isoformat()}"
    return None


def blocked_items(
    conn: Connection,
    items: Sequence[ItemRow],
    identities: Mapping[int, Any],
    kind: str | None,
    today: date | None = None,
) -> dict[int, str]:
    """The items blocked now, with the reason (see blocked_reason)."""
    if not items:
        return {}
    accounts = {a for item in items for a in identities[item.id].account_ids}
    removing = {a for item in items if removes_account(item) for a in identities[item.id].account_ids}
    blocks = load_blocks(conn, accounts, today, booking_accounts=removing)
    deferrals = {}
    for item in items:
        identity = identities[item.id]
        reason = blocked_reason(item, identity.account_ids, identity.emails, blocks, kind)
        if reason:
            deferrals[item.id] = reason
    return deferrals


def removes_account(item: ItemRow) -> bool:
    """Whether applying the item deletes an account (so an active booking blocks it)."""
    from tasks.erasure import is_self_table

    if item.action == "erase_subject":
        return True
    return item.action == "delete_row" and is_self_table(item.subject_table)


def reason_category(reason: str | None) -> str:
    return (reason or "").split(":", 1)[0]


def _defer(conn: Connection, deferrals: Mapping[int, str], items: Mapping[int, ItemRow]) -> None:
    """Mark items deferred with their reason; an erasure request behind an item is deferred too."""
    from tasks.requests import set_status

    by_reason: dict[str, list[int]] = defaultdict(list)
    for item_id, reason in deferrals.items():
        by_reason[reason].append(item_id)
    statement = (
        update(plan_items)
        .where(plan_items.c.id.in_(bindparam("item_ids", expanding=True)))
        .where(plan_items.c.status == "pending")
        .values(status="deferred", deferred_reason=bindparam("why"))
    )
    for reason, ids in by_reason.items():
        for chunk in _chunks(sorted(ids), 500):
            conn.execute(statement, {"item_ids": chunk, "why": reason[:200]})
    for item_id, reason in deferrals.items():
        item = items[item_id]
        if item.subject_table == "request_register":
            request = _open_request(conn, item.subject_row_id)
            if request is not None and (
                request["status"] != "deferred" or request["deferred_reason"] != reason
            ):
                set_status(conn, item.subject_row_id, "deferred", reason[:200])


def defer_items(conn: Connection, plan_id: int, item_ids: Sequence[int], reason: str) -> None:
    """Defer pending items of a plan with a reason (a job's own precondition that no longer holds)."""
    items = {item.id: item for item in pending_items(conn, plan_id, item_ids)}
    _defer(conn, dict.fromkeys(items, reason), items)


def _open_request(conn: Connection, request_id: int) -> dict[str, Any] | None:
    from tasks.requests import CLOSED_STATUSES, RequestError, get_request

    try:
        request = get_request(conn, request_id)
    except RequestError:
        return None
    return None if request["status"] in CLOSED_STATUSES else request


# --------------------------------------------------------------------------------------- check


@without_cyclic_gc
def check_plan(
    conn: Connection,
    plan_id: int,
    *,
    max_active_share: float | None = None,
    max_subjects: int | None = None,
    today: date | None = None,
) -> PlanCheck:
    """Defer blocked items with their reason, then apply the guard.

    Status afterwards: `ready`, or `awaiting_approval` when the pending removals pass the guard (more
    than `max_active_share` of the accounts, or more than `max_subjects` subjects or rows); an approved
    plan stays approved. Nothing is deleted here.
    """
    settings = get_settings()
    share = settings.guard_max_active_share if max_active_share is None else max_active_share
    limit = settings.guard_max_subjects if max_subjects is None else max_subjects
    plan = get_plan(conn, plan_id)
    if plan["status"] not in ("draft", "ready", "awaiting_approval", "approved"):
        raise PlanError(f"plan {plan_id} is {plan['status']}; only a plan not yet applied can be checked")
    kind = plan["kind"]
    # window by window, so that a plan of millions of items is never held in memory whole
    with sqlite_page_cache(conn):
        newly_deferred, removals, accounts_removed = _check_windows(conn, plan_id, kind, today)
    guard = GuardResult(
        accounts_total=int(conn.execute(sql("plans__account_count", conn)).scalar_one()),
        accounts_removed=len(accounts_removed),
        removals=removals,
        max_active_share=share,
        max_subjects=limit,
    )
    counts = _status_counts(conn, plan_id)
    status = "awaiting_approval" if guard.tripped else "ready"
    if plan["status"] == "approved":
        status = "approved"
    _set_plan(conn, plan_id, status=status)
    check = PlanCheck(
        plan_id=plan_id,
        status=status,
        pending=counts.get("pending", 0),
        deferred=counts.get("deferred", 0),
        newly_deferred=newly_deferred,
        deferred_reasons=_deferred_reason_counts(conn, plan_id),
        guard=guard,
    )
    _merge_summary(conn, plan_id, "check", check.as_dict())
    write_audit(
        conn,
        "plan_checked",
        plan_id=plan_id,
        detail={
            "status": status,
            "pending": check.pending,
            "deferred": check.deferred,
            "guard_tripped": guard.tripped,
        },
    )
    return check


def _check_windows(
    conn: Connection, plan_id: int, kind: str, today: date | None
) -> tuple[int, int, set[int]]:
    """Defer the blocked pending items of a plan, window by window; returns how many were deferred, the
    removals left and the accounts they remove (for the guard)."""
    from tasks.erasure import resolve_identities, scan_rows

    newly_deferred = removals = 0
    accounts_removed: set[int] = set()
    watch = None
    after = 0
    while groups := pending_groups(conn, plan_id, after, get_settings().erasure_row_batch_size):
        after = max(group.last_id for group in groups)
        for group in groups:
            table, action = group.subject_table, group.action
            if set_based_rows(table, action):
                # rows of tables that hold no accounts: only those naming somebody a block names are
                # resolved and checked one by one; the others cannot be blocked
                watch = watch or watchlist(conn, kind, today)
                first, last = group.first_id, group.last_id
                rows = scan_rows(conn, plan_id, table, action, first, last, watch, with_addresses=False)
                watched = [row.item(table, action) for row in rows if row.watched]
                deferrals = blocked_items(conn, watched, resolve_identities(conn, watched), kind, today)
                if action != "anonymise_row":
                    removals += len(rows) - len(deferrals)
                by_id = {item.id: item for item in watched}
                _defer(conn, deferrals, by_id)
                newly_deferred += len(deferrals)
                continue
            # subjects are resolved a batch at a time, as apply does: a window's identities at once
            # would hold every address and account of up to a window of subjects
            for items in _chunks(group_items(conn, plan_id, group), get_settings().erasure_batch_size):
                identities = resolve_identities(conn, items)
                deferrals = blocked_items(conn, items, identities, kind, today)
                for item in items:
                    if item.id in deferrals:
                        continue
                    if item.action != "anonymise_row":
                        removals += 1
                    if removes_account(item):
                        accounts_removed |= identities[item.id].account_ids
                _defer(conn, deferrals, {item.id: item for item in items})
                newly_deferred += len(deferrals)
    return newly_deferred, removals, accounts_removed


def _status_counts(conn: Connection, plan_id: int) -> dict[str, int]:
    rows = conn.execute(sql("plans__item_counts", conn), {"plan_id": plan_id}).mappings()
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row["status"]] += int(row["items"])
    return dict(counts)


def _deferred_reason_counts(conn: Connection, plan_id: int) -> dict[str, int]:
    rows = conn.execute(sql("plans__item_counts", conn), {"plan_id": plan_id}).mappings()
    counts: Counter[str] = Counter()
    for row in rows:
        if row["status"] == "deferred":
            counts[row["deferred_category"] or "unknown"] += int(row["items"])
    return dict(sorted(counts.items()))


# ------------------------------------------------------------------------------ approve and reject


def approve_plan(conn: Connection, plan_id: int, approved_by: str) -> None:
    """Release a plan the guard stopped; the next run (or apply_plan) applies it."""
    approved_by = approved_by.strip()
    if not approved_by:
        raise PlanError("an approval needs the approver's name (--by)")
    plan = get_plan(conn, plan_id)
    if plan["status"] != "awaiting_approval":
        raise PlanError(f"plan {plan_id} is {plan['status']}; only a plan awaiting approval can be approved")
    _set_plan(conn, plan_id, status="approved", approved_at=utc_now(), approved_by=approved_by[:100])
    write_audit(conn, "plan_approved", plan_id=plan_id, detail={"kind": plan["kind"]})


def reject_plan(conn: Connection, plan_id: int, rejected_by: str | None = None) -> None:
    """Drop a plan that is not applied yet; its items are never applied (a later run plans afresh)."""
    plan = get_plan(conn, plan_id)
    if plan["status"] not in ("draft", "ready", "awaiting_approval", "approved"):
        raise PlanError(f"plan {plan_id} is {plan['status']}; only a plan not yet applied can be rejected")
    _set_plan(conn, plan_id, status="rejected")
    write_audit(
        conn, "plan_rejected", plan_id=plan_id, detail={"kind": plan["kind"], "by_named": bool(rejected_by)}
    )


def drop_plan(plan_id: int, *, engine: Engine | None = None) -> None:
    """Reject a plan made by a dry run, so that no later run applies it."""
    with (engine or get_engine()).begin() as conn:
        reject_plan(conn, plan_id, "dry run")


# ----------------------------------------------------------------------------------------- apply


@without_cyclic_gc
def apply_plan(
    plan_id: int,
    *,
    engine: Engine | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int | None = None,
    today: date | None = None,
) -> ApplyResult:
    """Apply exactly the pending items of a checked (and, where needed, approved) plan.

    One transaction per batch of subjects: rows erased, items marked done, audit records written, all
    or nothing. Safe to call again after a crash (or on an applied plan): only pending items are done.
    Raises PlanNeedsApproval for a plan the guard stopped, PlanError for one not checked or rejected.
    """
    from tasks.erasure import sync_journal

    engine = engine or get_engine()
    progress = progress or no_progress
    size = batch_size or get_settings().erasure_batch_size
    with engine.begin() as conn:
        plan = get_plan(conn, plan_id)
        status = plan["status"]
        if status == "applied":
            return ApplyResult(plan_id=plan_id, status="applied", already_applied=True)
        if status == "awaiting_approval":
            check = json.loads(plan["summary"] or "{}").get("check", {})
            raise PlanNeedsApproval(plan_id, check.get("guard", {}).get("why", "the guard tripped"))
        if status not in APPLICABLE:
            raise PlanError(
                f"plan {plan_id} is {status}; only a checked plan (ready, approved) can be applied"
                + (" (run check_plan first)" if status == "draft" else "")
            )
        _set_plan(conn, plan_id, status="applying")
        kind = plan["kind"]
    sync_journal(engine, plan_id)
    release_free_memory()  # what planning and checking freed, before the batches take their own
    result = ApplyResult(plan_id=plan_id, status="applying")
    run_id = current_run_id()
    window_size = get_settings().erasure_row_batch_size
    after = 0
    # One connection for every transaction of the apply, so its page cache stays warm between them.
    with engine.connect() as conn, sqlite_bulk_writes(conn):
        while True:
            with conn.begin():
                groups = pending_groups(conn, plan_id, after, window_size)
            if not groups:
                break
            after = max(group.last_id for group in groups)
            for group in groups:
                if set_based_rows(group.subject_table, group.action):
                    try:
                        done = _apply_rows(conn, plan_id, kind, group, run_id, today)
                    except ErasureConflict:
                        with conn.begin():
                            items = group_items(conn, plan_id, group)
                        done = _apply_one_by_one(conn, plan_id, items, run_id, today)
                    _add_batch(result, done, progress)
                    continue
                with conn.begin():
                    items = group_items(conn, plan_id, group)
                for batch in _batches(items, size):
                    try:
                        done = _apply_batch(conn, plan_id, [item.id for item in batch], run_id, today)
                    except ErasureConflict:
                        done = _apply_one_by_one(conn, plan_id, batch, run_id, today)
                    _add_batch(result, done, progress)
    with engine.begin() as conn:
        # anything still pending? (one index probe; counting millions of items per status took seconds)
        if not pending_groups(conn, plan_id, 0, 1):
            _set_plan(conn, plan_id, status="applied", applied_at=utc_now())
            write_audit(
                conn,
                "plan_applied",
                plan_id=plan_id,
                detail={"items_done": result.items_done, "items_deferred": result.items_deferred},
            )
            result.status = "applied"
        else:
            result.status = "applying"
    return result


def _apply_one_by_one(
    conn: Connection, plan_id: int, items: Sequence[ItemRow], run_id: str | None, today: date | None
) -> _BatchDone:
    """Rare: deleting some row would take somebody else's rows with it. Apply the items one by one, so
    only those concerned are deferred (with the reason) and the rest go ahead."""
    done = _BatchDone()
    for item in items:
        try:
            one = _apply_batch(conn, plan_id, [item.id], run_id, today)
        except ErasureConflict as conflict:
            with conn.begin():
                reason = f"{REASON_CONFLICT}: {conflict.table}"
                _defer(conn, {item.id: reason}, {item.id: item})
            one = _BatchDone(claimed=1, deferred=1)
        done.add(one)
    return done


def _add_batch(result: ApplyResult, done: _BatchDone, progress: ProgressCallback) -> None:
    result.batches += 1
    result.items_done += done.done
    result.items_deferred += done.deferred
    result.subjects_erased += done.subjects
    add_table_counts(result.tables, done.tables)
    progress(done.claimed)


def _apply_rows(
    conn: Connection, plan_id: int, kind: str, group: ItemGroup, run_id: str | None, today: date | None
) -> _BatchDone:
    """One transaction for the row items of a group (a set_based_rows table): defer the blocked, erase
    the rows others depend on through the map (erase_items), delete or reduce the rest with one
    statement, mark them all done and write their audit records; then journal them."""
    from tasks.erasure import (
        EraseOutcome,
        append_journal_lines,
        erase_items,
        erase_rows_set_based,
        resolve_identities,
        rows_with_dependents,
        scan_rows,
    )

    table, action, lo, hi = group.subject_table, group.action, group.first_id, group.last_id
    with conn.begin():
        rows = scan_rows(conn, plan_id, table, action, lo, hi, watchlist(conn, kind, today))
        if not rows:
            return _BatchDone()
        watched = [row.item(table, action) for row in rows if row.watched]
        deferrals = blocked_items(conn, watched, resolve_identities(conn, watched), kind, today)
        _defer(conn, deferrals, {item.id: item for item in watched})
        dependents = rows_with_dependents(conn, plan_id, table, action, lo, hi)
        todo = [row for row in rows if row.item_id not in deferrals]
        through_map = [row.item(table, action) for row in todo if row.present and row.row_id in dependents]
        outcome = EraseOutcome()
        if through_map:
            identities = resolve_identities(conn, through_map)
            outcome = erase_items(conn, through_map, identities, plan_id=plan_id, run_id=run_id)
            _mark_done(conn, [item.id for item in through_map])
        apart = {item.id for item in through_map}
        rest = [row for row in todo if row.item_id not in apart]
        set_based = erase_rows_set_based(conn, plan_id, table, action, lo, hi, rest, run_id=run_id)
        _mark_range_done(conn, plan_id, table, action, lo, hi)
    append_journal_lines(outcome.journal + set_based.journal)
    tables: dict[str, dict[str, int]] = {}
    add_table_counts(tables, outcome.table_counts)
    add_table_counts(tables, set_based.table_counts)
    return _BatchDone(claimed=len(rows), done=len(todo), deferred=len(deferrals), tables=tables)


def _mark_range_done(conn: Connection, plan_id: int, table: str, action: str, lo: int, hi: int) -> None:
    statement = (
        update(plan_items)
        .where(plan_items.c.plan_id == plan_id)
        .where(plan_items.c.status == "pending")
        .where(plan_items.c.subject_table == table)
        .where(plan_items.c.action == action)
        .where(plan_items.c.id.between(lo, hi))
        .values(status="done", applied_at=utc_now())
    )
    conn.execute(statement)


@dataclass
class _BatchDone:
    claimed: int = 0
    done: int = 0
    deferred: int = 0
    subjects: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, other: _BatchDone) -> None:
        self.claimed += other.claimed
        self.done += other.done
        self.deferred += other.deferred
        self.subjects += other.subjects
        add_table_counts(self.tables, other.tables)


def add_table_counts(into: dict[str, dict[str, int]], tables: Mapping[str, Mapping[str, int]]) -> None:
    """Add rows per table and action (`tables`) into `into`."""
    for table, counts in tables.items():
        target = into.setdefault(table, {})
        for key, value in counts.items():
            target[key] = target.get(key, 0) + value


def _apply_batch(
    conn: Connection, plan_id: int, item_ids: Sequence[int], run_id: str | None, today: date | None
) -> _BatchDone:
    """One transaction: claim the items still pending, defer the newly blocked, erase the rest, mark
    them done, write their audit records and complete the requests behind them; then journal them."""
    from tasks.erasure import append_journal_lines, erase_items, resolve_identities

    with conn.begin():
        current = pending_items(conn, plan_id, item_ids)
        if not current:
            return _BatchDone()
        kind = get_plan(conn, plan_id)["kind"]
        by_id = {item.id: item for item in current}
        identities = resolve_identities(conn, current)
        accounts = {a for identity in identities.values() for a in identity.account_ids}
        blocks = load_blocks(conn, accounts, today)
        deferrals = {}
        for item in current:
            identity = identities[item.id]
            reason = blocked_reason(item, identity.account_ids, identity.emails, blocks, kind)
            if reason:
                deferrals[item.id] = reason
        _defer(conn, deferrals, by_id)
        todo = [item for item in current if item.id not in deferrals]
        outcome = erase_items(conn, todo, identities, plan_id=plan_id, run_id=run_id)
        _mark_done(conn, [item.id for item in todo])
        _complete_requests(conn, todo)
    append_journal_lines(outcome.journal)
    return _BatchDone(
        claimed=len(current),
        done=len(todo),
        deferred=len(deferrals),
        subjects=sum(1 for item in todo if item.action == "erase_subject"),
        tables=outcome.table_counts,
    )


def _batches(items: Sequence[ItemRow], size: int) -> Iterator[list[ItemRow]]:
    """Batches of `size` subjects; every item of one account stays in the same batch."""
    groups: dict[Any, list[ItemRow]] = {}
    for item in items:
        key = ("account", item.account_id) if item.account_id is not None else ("item", item.id)
        groups.setdefault(key, []).append(item)
    batch: list[ItemRow] = []
    subjects = 0
    for group in groups.values():
        batch += group
        subjects += 1
        if subjects >= size:
            yield batch
            batch, subjects = [], 0
    if batch:
        yield batch


def _mark_done(conn: Connection, item_ids: Sequence[int]) -> None:
    statement = (
        update(plan_items)
        .where(plan_items.c.id.in_(bindparam("item_ids", expanding=True)))
        .values(status="done", applied_at=bindparam("now"))
    )
    now = utc_now()
    for chunk in _chunks(sorted(item_ids), 500):
        conn.execute(statement, {"item_ids": chunk, "now": now})


def _complete_requests(conn: Connection, items: Sequence[ItemRow]) -> None:
    from tasks.requests import complete_request

    for item in items:
        is_request = item.subject_table == "request_register" and item.action == "erase_subject"
        if is_request and _open_request(conn, item.subject_row_id) is not None:
            complete_request(conn, item.subject_row_id)


# ---------------------------------------------------------------------------------- show, explain


def list_plans(conn: Connection, *, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest plans with their item counts (no personal data)."""
    rows = conn.execute(sql("plans__list", conn), {"kind": kind, "limit": limit}).mappings()
    return [dict(row) for row in rows]


def open_plans(conn: Connection, kind: str) -> list[dict[str, Any]]:
    """Plans of `kind` not yet applied or rejected, oldest first."""
    rows = conn.execute(sql("plans__open_plans", conn), {"kind": kind}).mappings()
    return [dict(row) for row in rows]


def plan_summary(conn: Connection, plan_id: int) -> dict[str, Any]:
    """What `steward plans show` prints: counts per rule, table, action and status, deferred reasons,
    and the guard's verdict. Ids, counts, rules and dates only: no personal data."""
    plan = get_plan(conn, plan_id)
    stored = json.loads(plan["summary"] or "{}")
    rows = [
        dict(row) for row in conn.execute(sql("plans__item_counts", conn), {"plan_id": plan_id}).mappings()
    ]
    statuses: Counter[str] = Counter()
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    by_table: dict[str, Counter[str]] = defaultdict(Counter)
    deferred: Counter[str] = Counter()
    detail = []
    for row in rows:
        n = int(row["items"])
        statuses[row["status"]] += n
        by_rule[row["rule"]][row["status"]] += n
        by_table[f"{row['subject_table']}/{row['action']}"][row["status"]] += n
        if row["status"] == "deferred":
            deferred[row["deferred_category"] or "unknown"] += n
        detail.append(
            {
                "rule": row["rule"],
                "table": row["subject_table"],
                "action": row["action"],
                "status": row["status"],
                "deferred": row["deferred_category"],
                "items": n,
            }
        )
    return {
        "plan_id": plan_id,
        "kind": plan["kind"],
        "status": plan["status"],
        "created_at": _iso(plan["created_at"]),
        "approved_at": _iso(plan["approved_at"]),
        "approved_by": plan["approved_by"],
        "applied_at": _iso(plan["applied_at"]),
        "items": dict(statuses),
        "total_items": sum(statuses.values()),
        "by_rule": {rule: dict(counts) for rule, counts in sorted(by_rule.items())},
        "by_table_action": {key: dict(counts) for key, counts in sorted(by_table.items())},
        "deferred_reasons": dict(sorted(deferred.items())),
        "rows": detail,
        "check": stored.get("check"),
        "created": stored.get("created", {}),
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else str(value)


def explain_plan(summary: Mapping[str, Any]) -> str:
    """A plan summary in words and a markdown table, for `steward plans show` and artifacts."""
    from tasks.artifacts import markdown_table

    lines = [
        f"Plan {summary['plan_id']} ({summary['kind']}): **{summary['status']}**, "
        f"{summary['total_items']:,} items, created {summary['created_at']}."
    ]
    check = summary.get("check") or {}
    guard = check.get("guard") or {}
    if summary["status"] == "awaiting_approval":
        lines.append(
            f"The guard stopped it before anything was deleted: {guard.get('why', 'over the guard')}. "
            f"Approve it with `steward plans approve {summary['plan_id']} --by NAME` (the next run applies "
            f"it), or reject it with `steward plans reject {summary['plan_id']}`."
        )
    elif guard:
        lines.append(
            f"Guard: {guard.get('accounts_removed', 0):,} of {guard.get('accounts_total', 0):,} accounts "
            f"and {guard.get('removals', 0):,} removals in all ({guard.get('why')})."
        )
    if summary.get("approved_at"):
        lines.append(f"Approved by {summary['approved_by']} at {summary['approved_at']}.")
    if summary.get("applied_at"):
        lines.append(f"Applied at {summary['applied_at']}.")
    if summary["deferred_reasons"]:
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in summary["deferred_reasons"].items())
        lines.append(f"Deferred (will be planned again once the block ends): {reasons}.")
    table = markdown_table(
        ["rule", "table", "action", "status", "deferred because", "items"],
        [
            [r["rule"], r["table"], r["action"], r["status"], r["deferred"] or "", f"{r['items']:,}"]
            for r in summary["rows"]
        ],
    )
    return "\n\n".join([" ".join(lines[:1]), *lines[1:], table])


# -------------------------------------------------------------------------------------- approval


@cache
def plan_decision_model() -> type[Any]:
    """The form the DPO fills in when a flow pauses for a plan (a Prefect RunInput)."""
    from prefect.input import RunInput
    from pydantic import Field

    class PlanDecision(RunInput):
        """Approve or reject the plan named in the flow run's logs (`steward plans show ID`)."""

        approve: bool = Field(default=False, description="Tick to apply the plan; leave empty to reject it.")
        approver: str = Field(default="", description="Your name, recorded on the plan and in the audit.")

    return PlanDecision


def on_prefect_server() -> bool:
    """True inside a flow run talking to a real Prefect server (PREFECT_API_URL set), where a paused
    flow run can wait for the DPO; False with the temporary local server or outside a flow run."""
    from prefect.context import FlowRunContext
    from prefect.settings import get_current_settings

    return FlowRunContext.get() is not None and bool(get_current_settings().api.url)


def seek_approval(plan_id: int, why: str, *, timeout_seconds: int = 86_400) -> str:
    """What to do with a plan the guard stopped: `approved` or `rejected` (the DPO answered a paused
    flow run on a Prefect server), or `stopped` (no server: the plan waits for `steward plans approve`).

    Call it from a flow body, not from a task (a pause suspends the flow run)."""
    if not on_prefect_server():
        return "stopped"
    from prefect.flow_runs import pause_flow_run

    model = plan_decision_model()
    description = (
        f"Plan {plan_id} was stopped by the guard before deleting anything: {why}. "
        f"Review it with `steward plans show {plan_id}`, then approve (with your name) or reject it."
    )
    decision = pause_flow_run(
        wait_for_input=model.with_initial_data(description=description, approve=False, approver=""),
        timeout=timeout_seconds,
        poll_interval=5,
        key=f"plan-{plan_id}",
    )
    with get_engine().begin() as conn:
        if decision is not None and decision.approve and decision.approver.strip():
            approve_plan(conn, plan_id, decision.approver)
            return "approved"
        reject_plan(conn, plan_id, decision.approver if decision is not None else None)
        return "rejected"


# ------------------------------------------------------------------------------------- contract

PLAN_CONTRACT_COLUMNS = (
    "plan_id",
    "account_id",
    "subject_table",
    "subject_row_id",
    "action",
    "rule",
    "status",
    "deferred_reason",
)


def validate_plan(
    conn: Connection, plan_id: int, contract: str = "erasure_plan", chunk_rows: int = 250_000
) -> int:
    """Validate a checked plan's items against their contract (chunk by chunk); raises
    ContractViolation (contract, rule, failed row count) on a blocking failure, so nothing is applied
    from a plan that failed it. Returns the rows validated."""
    import pandas as pd

    from tasks.contracts import validate_frame

    statement = (
        select(*(plan_items.c[name] for name in PLAN_CONTRACT_COLUMNS))
        .where(plan_items.c.plan_id == plan_id)
        .order_by(plan_items.c.id)
    )

    def frame(rows: Sequence[Any]) -> Any:
        data = pd.DataFrame([tuple(r) for r in rows], columns=list(PLAN_CONTRACT_COLUMNS))
        for name in ("plan_id", "account_id", "subject_row_id"):
            data[name] = data[name].astype("Int64")
        for name in ("subject_table", "action", "rule", "status", "deferred_reason"):
            data[name] = data[name].astype("str")
        return data

    total = 0
    result = conn.execute(statement)
    while rows := result.fetchmany(chunk_rows):
        validate_frame(contract, frame(rows)).raise_for_blocking()
        total += len(rows)
    if total == 0:
        validate_frame(contract, frame([])).raise_for_blocking()
    return total

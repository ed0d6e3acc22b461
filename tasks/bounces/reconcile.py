"""Reconcile the staged events with the accounts: who is undeliverable, who is cleared, who is removed.

Every run recomputes each account's state from all staged events whose address matches the account's
(trimmed, case-insensitively), so files ingested late or out of order are handled like any other:

- events since the account's last successful delivery count (a delivery clears everything before it);
- a bad-address bounce (bad mailbox or bad domain, see tasks.bounces.classify) makes the address
  undeliverable at that bounce;
- transient bounces count at most once per calendar day (UTC); the score on a day is the sum over the
  counted days of the last `window` days of 0.5 ** (age in days / half-life); the address becomes
  undeliverable on the first day the score reaches the threshold.

Marks are sticky: an undeliverable account stays so (even when the transient score decays) until a later
delivery to its address, or until its address changes (email_deliverability keeps a keyed hash of the
address that was marked). Accounts marked `bounced` by an earlier system are taken over as marks.
Accounts undeliverable for longer than the grace period are planned for removal (plan kind
`bounce_removal`, action erase_subject, rule `undeliverable_address`), through tasks.plans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, DateTime, bindparam, delete, insert, update

from steward.settings import get_settings
from tasks.audit import audit_row, current_run_id, keyed_hash, normalise_email, subject_hash, write_audit_rows
from tasks.bounces.classify import BAD_ADDRESS, classify, code_from_text
from tasks.calendar import utc_now
from tasks.db import sql, sqlite_page_cache
from tasks.schema import accounts, email_deliverability

UNDELIVERABLE = "undeliverable"
LEGACY_STATUSES = ("bounced",)
RULE = "undeliverable_address"
PLAN_KIND = "bounce_removal"


@dataclass(frozen=True)
class Thresholds:
    score: float
    half_life_days: float
    window_days: int
    grace_days: int

    @classmethod
    def from_settings(cls) -> Thresholds:
        settings = get_settings()
        return cls(
            score=settings.bounce_transient_threshold,
            half_life_days=settings.bounce_transient_half_life_days,
            window_days=settings.bounce_transient_window_days,
            grace_days=settings.bounce_grace_period_days,
        )


@dataclass
class ReconcileResult:
    """Counts only: newly undeliverable by reason, cleared by reason, marks taken over, totals."""

    accounts_with_events: int = 0
    newly_undeliverable: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    taken_over: int = 0
    undeliverable_total: int = 0


def address_hash(email: str) -> str:
    return keyed_hash(normalise_email(email), "address")


def _audit(event: str, run_id: str | None, **fields: Any) -> dict[str, Any]:
    """audit_row with the run id looked up once by the caller (the lookup costs more than the row)."""
    row = audit_row(event, run_id="", **fields)
    row["run_id"] = run_id
    return row


# ------------------------------------------------------------------------------------- the state


def account_states(events: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Per account with events: last delivery, and when and why it became undeliverable (if it did).

    `events`: account_id, event_type, smtp_status, enhanced_status, diagnostic, occurred_at. Returns
    columns account_id, last_delivery_at, undeliverable_since (NaT when deliverable), reason.
    """
    if events.empty:
        return pd.DataFrame(
            {
                "account_id": pd.Series(dtype="int64"),
                "last_delivery_at": pd.Series(dtype="datetime64[us]"),
                "undeliverable_since": pd.Series(dtype="datetime64[us]"),
                "reason": pd.Series(dtype=object),
            }
        )
    frame = events[["account_id", "occurred_at"]].copy()
    frame["occurred_at"] = pd.to_datetime(events["occurred_at"], format="ISO8601").astype("datetime64[us]")
    enhanced = events["enhanced_status"].copy()
    if "diagnostic" in events:
        missing = enhanced.isna() & events["diagnostic"].notna()
        if missing.any():
            enhanced.loc[missing] = events.loc[missing, "diagnostic"].map(code_from_text)
    frame["klass"] = classify(events["event_type"], enhanced, events["smtp_status"]).to_numpy()
    relevant = frame["klass"].isin(["delivery", "transient", *BAD_ADDRESS]).to_numpy()
    frame = frame.loc[relevant]
    accounts_seen = pd.Index(events["account_id"].unique())
    deliveries = frame.loc[frame["klass"] == "delivery"].groupby("account_id")["occurred_at"].max()
    frame = frame.join(deliveries.rename("last_delivery_at"), on="account_id")
    active = frame["last_delivery_at"].isna() | (frame["occurred_at"] > frame["last_delivery_at"])
    live = frame.loc[active & (frame["klass"] != "delivery")]
    bad = live.loc[live["klass"].isin(BAD_ADDRESS)].sort_values(["account_id", "occurred_at"])
    first_bad = bad.groupby("account_id").first()[["occurred_at", "klass"]]
    crossing = _transient_crossings(live.loc[live["klass"] == "transient"], thresholds)
    result = pd.DataFrame(index=accounts_seen.rename("account_id"))
    result["last_delivery_at"] = deliveries.reindex(result.index)
    result["bad_at"] = first_bad["occurred_at"].reindex(result.index)
    result["bad_reason"] = first_bad["klass"].reindex(result.index)
    result["transient_at"] = crossing.reindex(result.index)
    use_bad = result["bad_at"].notna() & (
        result["transient_at"].isna() | (result["bad_at"] <= result["transient_at"])
    )
    use_transient = result["transient_at"].notna() & ~use_bad
    result["undeliverable_since"] = result["bad_at"].where(
        use_bad, result["transient_at"].where(use_transient)
    )
    transient_reason = pd.Series("transient_score", index=result.index, dtype=object)
    result["reason"] = (
        result["bad_reason"].astype(object).where(use_bad, transient_reason.where(use_transient))
    )
    out = result.reset_index()[["account_id", "last_delivery_at", "undeliverable_since", "reason"]]
    out["last_delivery_at"] = out["last_delivery_at"].astype("datetime64[us]")
    out["undeliverable_since"] = out["undeliverable_since"].astype("datetime64[us]")
    out["reason"] = [value if isinstance(value, str) else None for value in out["reason"]]
    return out


def _transient_crossings(transient: pd.DataFrame, thresholds: Thresholds) -> pd.Series:
    """Per account: the first transient bounce at which the windowed, decaying score reached the
    threshold (at most one bounce counted per day)."""
    if transient.empty:
        return pd.Series(dtype="datetime64[us]")
    daily = (
        transient.assign(day=transient["occurred_at"].dt.floor("D"))
        .sort_values(["account_id", "occurred_at"])
        .groupby(["account_id", "day"], sort=True)["occurred_at"]
        .first()
        .reset_index()
    )
    account = daily["account_id"].to_numpy(dtype=np.int64)
    day = daily["day"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    score = np.ones(len(daily))
    # One counted day per calendar day, so at most window-1 earlier days fall in a window: add the
    # decayed weight of the p-th earlier counted day of the same account while it is inside the window.
    for p in range(1, thresholds.window_days):
        same = np.zeros(len(daily), dtype=bool)
        same[p:] = account[p:] == account[:-p]
        age = np.zeros(len(daily), dtype=np.int64)
        age[p:] = day[p:] - day[:-p]
        inside = same & (age < thresholds.window_days)
        if not inside.any():
            break
        score += np.where(inside, np.power(0.5, age / thresholds.half_life_days), 0.0)
    reached = score >= thresholds.score - 1e-9
    crossings = daily.loc[reached].groupby("account_id")["occurred_at"].first()
    return crossings.astype("datetime64[us]")


# --------------------------------------------------------------------------------- reconciliation


EVENT_COLUMNS = ["account_id", "event_type", "smtp_status", "enhanced_status", "diagnostic", "occurred_at"]


def _epoch_to_datetime(seconds: Any) -> Any:
    values = np.asarray(seconds, dtype=np.float64)
    return pd.to_datetime(np.round(values * 1e6).astype(np.int64), unit="us")


def _fetch(conn: Connection, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    statement = sql(name, conn)
    if conn.dialect.name != "sqlite":
        result = conn.execute(statement)
        return list(result.keys()), [tuple(row) for row in result.fetchall()]
    # Straight from the driver: hundreds of thousands of rows without a Row object for each; a large page
    # cache while the join probes the accounts' address index.
    with sqlite_page_cache(conn):
        cursor = conn.connection.cursor()
        try:
            cursor.execute(str(statement))
            names = [d[0] for d in cursor.description]
            return names, list(cursor.fetchall())
        finally:
            cursor.close()


def load_account_events(conn: Connection, marked: Mapping[int, str] | None = None) -> pd.DataFrame:
    """What the rules need, per account: its bounces, and its last delivery (one `delivery` row).

    Deliveries are most of an export but matter only for accounts that bounced or are marked
    (`marked`: account id -> address): only their addresses are looked up, through the address index.
    """
    names, rows = _fetch(conn, "bounces__account_bounces")
    columns = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {n: () for n in names}
    address_of: dict[int, str] = {int(k): normalise_email(v) for k, v in (marked or {}).items()}
    address_of.update(zip(map(int, columns["account_id"]), columns["address"], strict=True))
    frames = []
    if rows:
        codes, distinct = pd.factorize(np.array(columns["codes"], dtype=object))
        parts = [str(k).split("|") for k in distinct.tolist()]
        smtp = np.array([p[0] or None for p in parts], dtype=object)
        enhanced = np.array([p[1] or None for p in parts], dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": np.array(columns["account_id"], dtype=np.int64),
                    "event_type": "bounce",
                    "smtp_status": smtp[codes],
                    "enhanced_status": enhanced[codes],
                    "diagnostic": np.array(columns["diagnostic"], dtype=object),
                    "occurred_at": _epoch_to_datetime(columns["occurred_epoch"]),
                }
            )
        )
    last = _last_deliveries(conn, set(address_of.values()))
    delivered = [(account, last[address]) for account, address in address_of.items() if address in last]
    if delivered:
        frames.append(
            pd.DataFrame(
                {
                    "account_id": np.array([a for a, _ in delivered], dtype=np.int64),
                    "event_type": "delivery",
                    "smtp_status": None,
                    "enhanced_status": None,
                    "diagnostic": None,
                    "occurred_at": _epoch_to_datetime([t for _, t in delivered]),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]


def _last_deliveries(conn: Connection, addresses: set[str]) -> dict[str, float]:
    statement = sql("bounces__last_deliveries", conn).bindparams(bindparam("addresses", expanding=True))
    ordered = sorted(addresses)
    found: dict[str, float] = {}
    for start in range(0, len(ordered), 500):
        for address, epoch in conn.execute(statement, {"addresses": ordered[start : start + 500]}):
            found[address] = float(epoch)
    return found


def reconcile_accounts(
    conn: Connection, *, thresholds: Thresholds | None = None, now: datetime | None = None
) -> ReconcileResult:
    """Mark newly undeliverable accounts, clear those delivered to or whose address changed, and take
    over marks of an earlier system. One transaction (the caller's); audit records carry hashes only."""
    thresholds = thresholds or Thresholds.from_settings()
    now = now or utc_now()
    marked = pd.DataFrame(
        conn.execute(sql("bounces__marked_accounts", conn)).mappings().all(),
        columns=[
            "account_id",
            "email",
            "email_status",
            "email_status_changed_at",
            "address_hash",
            "reason",
            "undeliverable_since",
        ],
    )
    events = load_account_events(
        conn, dict(zip(marked["account_id"].astype(int), marked["email"], strict=True))
    )
    states = account_states(events, thresholds)
    result = ReconcileResult(accounts_with_events=len(states))
    last_deliveries = dict(
        zip(states["account_id"].astype(int).tolist(), states["last_delivery_at"], strict=True)
    )
    run_id = current_run_id()
    audits: list[dict[str, Any]] = []
    takeovers: list[dict[str, Any]] = []
    clears: list[dict[str, Any]] = []
    cleared_ids: set[int] = set()
    for row in marked.itertuples(index=False):
        account_id = int(row.account_id)
        current_hash = address_hash(row.email)
        since = _as_datetime(row.undeliverable_since) or _as_datetime(row.email_status_changed_at) or now
        clear_reason = None
        if row.address_hash is not None and row.address_hash != current_hash:
            clear_reason = "address_changed"
        else:
            last_delivery = last_deliveries.get(account_id)
            if (
                last_delivery is not None
                and pd.notna(last_delivery)
                and last_delivery.to_pydatetime() > since
            ):
                clear_reason = "delivery"
        if clear_reason is None and row.address_hash is None:
            # Marked by an earlier system (or by hand): from now on a mark like ours.
            takeovers.append({"account_id": account_id, "address_hash": current_hash, "since": since})
            audits.append(
                _audit(
                    "email_mark_taken_over",
                    run_id,
                    subject=subject_hash(row.email),
                    rule=RULE,
                    detail={"from": row.email_status},
                )
            )
            continue
        if clear_reason is not None:
            clears.append({"account_id": account_id})
            cleared_ids.add(account_id)
            result.cleared[clear_reason] = result.cleared.get(clear_reason, 0) + 1
            audits.append(
                _audit(
                    "email_status_cleared",
                    run_id,
                    subject=subject_hash(row.email),
                    rule=RULE,
                    detail={"reason": clear_reason},
                )
            )
    already = set(marked["account_id"].astype(int)) - cleared_ids
    candidates = states.loc[states["undeliverable_since"].notna() & ~states["account_id"].isin(list(already))]
    new_marks = []
    if len(candidates):
        emails = _emails_of(conn, candidates["account_id"].astype(int).tolist())
        for row in candidates.itertuples(index=False):
            account_id = int(row.account_id)
            email = emails.get(account_id)
            if email is None:
                continue
            new_marks.append(
                {
                    "account_id": account_id,
                    "address_hash": address_hash(email),
                    "reason": str(row.reason),
                    "undeliverable_since": row.undeliverable_since.to_pydatetime(),
                    "marked_at": now,
                }
            )
            result.newly_undeliverable[str(row.reason)] = (
                result.newly_undeliverable.get(str(row.reason), 0) + 1
            )
            audits.append(
                _audit(
                    "email_marked_undeliverable",
                    run_id,
                    subject=subject_hash(email),
                    rule=RULE,
                    detail={"reason": str(row.reason)},
                )
            )
    _write_changes(conn, takeovers, clears, new_marks, now)
    result.taken_over = len(takeovers)
    write_audit_rows(conn, audits)
    result.undeliverable_total = int(conn.execute(sql("bounces__undeliverable_count", conn)).scalar_one())
    return result


def _as_datetime(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def _emails_of(conn: Connection, account_ids: list[int]) -> dict[int, str]:
    statement = sql("bounces__account_emails", conn).bindparams(bindparam("account_ids", expanding=True))
    found: dict[int, str] = {}
    for start in range(0, len(account_ids), 500):
        chunk = account_ids[start : start + 500]
        for row in conn.execute(statement, {"account_ids": chunk}):
            found[int(row.id)] = row.email
    return found


def _write_changes(
    conn: Connection,
    takeovers: list[dict[str, Any]],
    clears: list[dict[str, Any]],
    new_marks: list[dict[str, Any]],
    now: datetime,
) -> None:
    if takeovers:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("account_id"))
            .values(email_status=UNDELIVERABLE, email_status_changed_at=bindparam("since")),
            takeovers,
        )
        conn.execute(
            insert(email_deliverability),
            [
                {
                    "account_id": t["account_id"],
                    "address_hash": t["address_hash"],
                    "reason": "imported",
                    "undeliverable_since": t["since"],
                    "marked_at": now,
                }
                for t in takeovers
            ],
        )
    if clears:
        conn.execute(
            delete(email_deliverability).where(email_deliverability.c.account_id == bindparam("account_id")),
            clears,
        )
        conn.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("account_id"))
            .values(email_status="ok", email_status_changed_at=bindparam("now")),
            [{"account_id": c["account_id"], "now": now} for c in clears],
        )
    if new_marks:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("account_id"))
            .values(email_status=UNDELIVERABLE, email_status_changed_at=bindparam("undeliverable_since")),
            [
                {"account_id": m["account_id"], "undeliverable_since": m["undeliverable_since"]}
                for m in new_marks
            ],
        )
        conn.execute(insert(email_deliverability), new_marks)


# ------------------------------------------------------------------------------------------ removal


@dataclass
class RemovalPlanning:
    plan_id: int | None
    candidates: int
    skipped_in_open_plans: int
    waiting_plan_id: int | None = None


def plan_removals(
    conn: Connection, *, thresholds: Thresholds | None = None, now: datetime | None = None
) -> RemovalPlanning:
    """Plan the removal of accounts undeliverable for longer than the grace period (status draft; the
    caller checks it). Accounts already pending in an open removal plan are not planned twice."""
    from tasks.plans import PlanItem, create_plan

    thresholds = thresholds or Thresholds.from_settings()
    now = now or utc_now()
    cutoff = now - timedelta(days=thresholds.grace_days)
    statement = sql("bounces__removal_candidates", conn).bindparams(bindparam("cutoff", type_=DateTime()))
    rows = conn.execute(statement, {"cutoff": cutoff, "kind": PLAN_KIND}).mappings().all()
    fresh = [row for row in rows if not row["in_open_plan"]]
    if not fresh:
        return RemovalPlanning(plan_id=None, candidates=len(rows), skipped_in_open_plans=len(rows))
    items = []
    for row in fresh:
        since = _as_datetime(row["undeliverable_since"]) or now
        reason_class = row["reason"] or "reported undeliverable"
        items.append(
            PlanItem(
                subject_table="accounts",
                subject_row_id=int(row["account_id"]),
                action="erase_subject",
                rule=RULE,
                reason=(
                    f"address undeliverable since {since.date().isoformat()} ({reason_class}); the grace "
                    f"period of {thresholds.grace_days} days ended {(since + timedelta(days=thresholds.grace_days)).date().isoformat()}"
                ),
                account_id=int(row["account_id"]),
            )
        )
    reasons = Counter(str(row["reason"] or "unknown") for row in fresh)
    plan_id = create_plan(
        conn,
        PLAN_KIND,
        items,
        summary={
            "grace_days": thresholds.grace_days,
            "cutoff": cutoff.isoformat(),
            "by_reason": dict(reasons),
        },
    )
    return RemovalPlanning(
        plan_id=plan_id, candidates=len(rows), skipped_in_open_plans=len(rows) - len(fresh)
    )


def defer_no_longer_undeliverable(conn: Connection, plan_id: int) -> int:
    """Before a removal plan is applied (perhaps days after it was made): defer the items whose account
    has been cleared since (a delivery, a new address). Returns how many were deferred."""
    from tasks.plans import defer_items

    rows = conn.execute(sql("bounces__plan_items_no_longer_undeliverable", conn), {"plan_id": plan_id}).all()
    ids = [int(row.id) for row in rows]
    if ids:
        defer_items(conn, plan_id, ids, "no longer undeliverable: cleared since the plan was made")
    return len(ids)

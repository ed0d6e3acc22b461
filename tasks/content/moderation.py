"""The moderation queue: cases opened by hits and reports, hidden posts, decisions, appeals and
complaints about the automated filter.

- A hit with action `hold`, a member's report or a trusted flagger's report opens a case (or joins the
  post's open case: a post has at most one, which the database enforces) and hides the post while it is
  moderated (`posts.hidden_reason = 'moderation'`). A hit with action `alert` is recorded and joins an
  open case, but opens none and hides nothing.
- A case is due at the end of the 3rd business day after the Europe/London date it was opened: weekends
  and England-and-Wales bank holidays skipped (tasks.calendar). A case opened by a report counts from the
  report, not from the scan that picked it up.
- A decision (remove or restore) records the reason shown to the author; it is kept in
  `moderation_decisions` with every later decision on the case (appeal, complaint, list change).
- A case that rests only on hits of withdrawn terms (or words allow-listed since) is closed with that
  reason and the post is shown again.
- Appeals of a removal and complaints that the filter was wrong are queues of their own.

Functions take the caller's connection (one transaction) and return ids and counts, never text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, DateTime, Table, and_, bindparam, exists, func, insert, select, update

from steward.errors import StewardError
from steward.memory import without_cyclic_gc
from steward.settings import get_settings
from tasks.audit import write_audit
from tasks.calendar import add_working_days, end_of_local_day_utc, local_date, utc_now
from tasks.db import sql
from tasks.schema import (
    accounts,
    content_reports,
    filter_complaints,
    moderation_appeals,
    moderation_case_reports,
    moderation_cases,
    moderation_decisions,
    posts,
    scan_hits,
)

HIDDEN_WHILE_MODERATED = "moderation"
HIDDEN_REMOVED = "removed"
SYSTEM = "steward"
"""`decided_by` of the decisions steward takes itself (cases closed by a keyword list change)."""

REPORT_REASON_CATEGORIES: dict[str, str] = {
    "terrorism": "terrorism",
    "extremism": "terrorism",
    "csea": "csea",
    "child_safety": "csea",
    "hate": "hate",
    "violence": "violence",
    "threat_of_violence": "violence",
    "fraud": "fraud",
    "scam": "fraud",
    "personal_information": "organisation",
}
"""A report's reason as the filter category it belongs to; other reasons are their own category."""

_CHUNK = 5_000


class ModerationError(StewardError):
    """A case, appeal or complaint that does not exist or is not in a state that allows the action."""


def due_time(opened_at: datetime, working_days: int | None = None) -> datetime:
    """When a case opened at `opened_at` (naive UTC) is due: the end of the Nth business day after the
    Europe/London date it was opened, as naive UTC."""
    days = working_days if working_days is not None else get_settings().moderation_working_days
    return _due_after(local_date(opened_at), days, get_settings().timezone)


@lru_cache(maxsize=4096)
def _due_after(opened_on: date, days: int, zone: str) -> datetime:
    return end_of_local_day_utc(add_working_days(opened_on, days), ZoneInfo(zone))


def report_category(reason: str) -> str:
    """The category under which a report with `reason` is counted."""
    reason = reason.strip().lower()
    if reason in REPORT_REASON_CATEGORIES:
        return REPORT_REASON_CATEGORIES[reason]
    if reason in get_settings().keyword_categories:
        return reason
    cleaned = re.sub(r"[^a-z0-9]+", "_", reason).strip("_")
    return cleaned[:40] or "reported"


def _join_categories(categories: Iterable[str]) -> str:
    joined = ",".join(sorted({c for c in categories if c}))
    return joined[:200]


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@dataclass
class QueueResult:
    cases_opened: int = 0
    cases_joined: int = 0
    cases_closed: int = 0
    hits_applied: int = 0
    reports_applied: int = 0
    posts_hidden: int = 0
    posts_shown: int = 0
    touched: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {
            "cases_opened": self.cases_opened,
            "cases_joined": self.cases_joined,
            "cases_closed": self.cases_closed,
            "hits_applied": self.hits_applied,
            "reports_applied": self.reports_applied,
            "posts_hidden": self.posts_hidden,
            "posts_shown": self.posts_shown,
        }


# ------------------------------------------------------------------------------------ cases in bulk


def _open_cases_of(conn: Connection, post_ids: Sequence[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for chunk in _chunks(post_ids):
        rows = conn.execute(
            select(moderation_cases.c.id, moderation_cases.c.post_id, moderation_cases.c.opened_at).where(
                moderation_cases.c.status == "open", moderation_cases.c.post_id.in_(chunk)
            )
        )
        found.update({int(r.post_id): r for r in rows})
    return found


def _removed_cases_of(conn: Connection, post_ids: Sequence[int]) -> dict[int, int]:
    """For posts removed by a moderator: the case that removed them."""
    found: dict[int, int] = {}
    for chunk in _chunks(post_ids):
        rows = conn.execute(
            select(moderation_cases.c.post_id, func.max(moderation_cases.c.id).label("case_id"))
            .join(posts, posts.c.id == moderation_cases.c.post_id)
            .where(
                moderation_cases.c.status == "removed",
                posts.c.hidden_reason == HIDDEN_REMOVED,
                moderation_cases.c.post_id.in_(chunk),
            )
            .group_by(moderation_cases.c.post_id)
        )
        found.update({int(r.post_id): int(r.case_id) for r in rows})
    return found


def _open_new_cases(conn: Connection, new_cases: list[dict[str, Any]]) -> dict[int, int]:
    """Insert cases (one statement); returns post id -> case id. The ids are read back through the one
    open case a post may have: an insert returning ids in parameter order runs row by row on SQLite."""
    if not new_cases:
        return {}
    conn.execute(insert(moderation_cases), new_cases)
    opened = _open_cases_of(conn, [case["post_id"] for case in new_cases])
    return {post_id: int(row.id) for post_id, row in opened.items()}


def apply_pending_hits(conn: Connection, result: QueueResult, now: datetime) -> None:
    """Take the hits not yet applied into the queue: hold hits open cases, every hit joins its post's
    open case (or the case that removed the post)."""
    # Hits cleared before the queue saw them are done with.
    conn.execute(
        update(scan_hits)
        .where(scan_hits.c.applied_at.is_(None), scan_hits.c.cleared_at.is_not(None))
        .values(applied_at=now)
    )
    pending = conn.execute(sql("moderation__pending_hits_by_post", conn)).all()
    if not pending:
        return
    post_ids = [int(row.post_id) for row in pending]
    open_cases = _open_cases_of(conn, post_ids)
    removed = _removed_cases_of(conn, [p for p in post_ids if p not in open_cases])
    new_cases = []
    # A scan's hits share a few moments (one per write) and category sets: each is worked out once.
    moments: dict[Any, tuple[datetime, datetime]] = {}
    categories: dict[str, str] = {}
    for row in pending:
        post_id = int(row.post_id)
        if row.first_hold_at is None or post_id in open_cases or post_id in removed:
            continue
        if row.first_hold_at not in moments:
            opened_at = _as_datetime(row.first_hold_at)
            moments[row.first_hold_at] = (opened_at, due_time(opened_at))
        if row.categories not in categories:
            categories[row.categories] = _join_categories(row.categories.split(","))
        opened_at, due_at = moments[row.first_hold_at]
        new_cases.append(
            {
                "post_id": post_id,
                "status": "open",
                "source": "filter",
                "categories": categories[row.categories],
                "opened_at": opened_at,
                "due_at": due_at,
            }
        )
    opened = _open_new_cases(conn, new_cases)
    result.cases_opened += len(opened)
    # Link in bulk: each pending hit to its post's open case, else to the case that removed the post.
    pending_now = (scan_hits.c.applied_at.is_(None), scan_hits.c.cleared_at.is_(None))
    open_case = (
        select(moderation_cases.c.id)
        .where(moderation_cases.c.post_id == scan_hits.c.post_id, moderation_cases.c.status == "open")
        .scalar_subquery()
    )
    conn.execute(
        update(scan_hits)
        .where(*pending_now, open_case.is_not(None))
        .values(case_id=open_case, applied_at=now)
    )
    if removed:
        removing_case = (
            select(func.max(moderation_cases.c.id))
            .join(posts, posts.c.id == moderation_cases.c.post_id)
            .where(
                moderation_cases.c.post_id == scan_hits.c.post_id,
                moderation_cases.c.status == "removed",
                posts.c.hidden_reason == HIDDEN_REMOVED,
            )
            .scalar_subquery()
        )
        conn.execute(
            update(scan_hits)
            .where(*pending_now, removing_case.is_not(None))
            .values(case_id=removing_case, applied_at=now)
        )
    conn.execute(update(scan_hits).where(*pending_now).values(applied_at=now))
    result.hits_applied += sum(int(row.hits) for row in pending)
    joined = {int(row.id) for post, row in open_cases.items()}
    result.cases_joined += len(joined)
    result.touched.update(opened.values())
    result.touched.update(joined)


def apply_pending_reports(
    conn: Connection, result: QueueResult, post_ids: Sequence[int] | None = None
) -> None:
    """Take reports no case has taken in yet: each joins its post's open case (moving its opening, and
    due time, earlier when the report came first) or opens one counted from the report."""
    pending = conn.execute(sql("moderation__pending_reports", conn).columns(created_at=DateTime)).all()
    if post_ids is not None:
        wanted = set(post_ids)
        pending = [r for r in pending if int(r.post_id) in wanted]
    if not pending:
        return
    now = utc_now()
    by_post: dict[int, list[Any]] = defaultdict(list)
    for report in pending:
        by_post[int(report.post_id)].append(report)
    ids = sorted(by_post)
    open_cases = _open_cases_of(conn, ids)
    removed = _removed_cases_of(conn, [p for p in ids if p not in open_cases])
    new_cases = []
    for post_id, reports in by_post.items():
        if post_id in open_cases or post_id in removed:
            continue
        first = min(reports, key=lambda r: (_as_datetime(r.created_at), r.id))
        opened_at = _as_datetime(first.created_at)
        new_cases.append(
            {
                "post_id": post_id,
                "status": "open",
                "source": "trusted_flagger" if first.reporter_kind == "trusted_flagger" else "member_report",
                "categories": _join_categories(report_category(r.reason) for r in reports),
                "opened_at": opened_at,
                "due_at": due_time(opened_at),
            }
        )
    opened = _open_new_cases(conn, new_cases)
    result.cases_opened += len(opened)
    links: list[dict[str, Any]] = []
    for post_id, reports in by_post.items():
        case_id = opened.get(post_id) or removed.get(post_id)
        if case_id is None and post_id in open_cases:
            case = open_cases[post_id]
            case_id = int(case.id)
            result.cases_joined += 1
            earliest = min(_as_datetime(r.created_at) for r in reports)
            categories = _case_categories(conn, case_id) | {report_category(r.reason) for r in reports}
            values: dict[str, Any] = {"categories": _join_categories(categories)}
            if earliest < _as_datetime(case.opened_at):
                values.update(opened_at=earliest, due_at=due_time(earliest))
            conn.execute(update(moderation_cases).where(moderation_cases.c.id == case_id).values(**values))
        if case_id is None:
            continue
        result.touched.add(case_id)
        links.extend({"report_id": int(r.id), "case_id": case_id, "linked_at": now} for r in reports)
    if links:
        conn.execute(insert(moderation_case_reports), links)
    result.reports_applied += len(links)


def _case_categories(conn: Connection, case_id: int) -> set[str]:
    row = conn.execute(select(moderation_cases.c.categories).where(moderation_cases.c.id == case_id)).first()
    return set((row.categories or "").split(",")) - {""} if row else set()


def refresh_categories(conn: Connection, case_ids: Iterable[int]) -> None:
    """A case's categories: those of the hits in force it rests on, and of its reports."""
    ids = sorted(set(case_ids))
    updates: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        found: dict[int, set[str]] = defaultdict(set)
        for row in conn.execute(
            select(scan_hits.c.case_id, scan_hits.c.category)
            .where(scan_hits.c.case_id.in_(chunk), scan_hits.c.cleared_at.is_(None))
            .distinct()
        ):
            found[int(row.case_id)].add(row.category)
        for row in conn.execute(
            select(moderation_case_reports.c.case_id, content_reports.c.reason)
            .join(content_reports, content_reports.c.id == moderation_case_reports.c.report_id)
            .where(moderation_case_reports.c.case_id.in_(chunk))
        ):
            found[int(row.case_id)].add(report_category(row.reason))
        updates.extend(
            {"case": case_id, "categories": _join_categories(cats)} for case_id, cats in found.items() if cats
        )
    if updates:
        conn.execute(
            update(moderation_cases)
            .where(moderation_cases.c.id == bindparam("case"))
            .values(categories=bindparam("categories")),
            updates,
        )


def close_cases_resting_on_list_changes(
    conn: Connection, result: QueueResult, version: int | None
) -> list[int]:
    """Close the open cases that rest only on hits cleared by a list change, and show their posts."""
    rows = conn.execute(sql("moderation__cases_resting_on_list_changes", conn)).all()
    if not rows:
        return []
    now = utc_now()
    case_ids = [int(r.id) for r in rows]
    post_ids = [int(r.post_id) for r in rows]
    reason = (
        "Closed without a decision: every keyword it rested on was withdrawn from the keyword list or "
        f"allow-listed (list version {version})."
    )
    for chunk in _chunks(case_ids):
        conn.execute(
            update(moderation_cases)
            .where(moderation_cases.c.id.in_(chunk), moderation_cases.c.status == "open")
            .values(status="closed", decision_reason=reason, decided_at=now, decided_by=SYSTEM)
        )
    conn.execute(
        insert(moderation_decisions),
        [
            {
                "case_id": case_id,
                "action": "close",
                "origin": "list_change",
                "reason": reason,
                "decided_at": now,
                "decided_by": SYSTEM,
            }
            for case_id in case_ids
        ],
    )
    result.cases_closed += len(case_ids)
    result.posts_shown += show_posts(conn, post_ids)
    result.touched.update(case_ids)
    return case_ids


def show_posts(conn: Connection, post_ids: Sequence[int]) -> int:
    """Show posts hidden while moderated (or removed) again, unless another open case still holds them."""
    shown = 0
    for chunk in _chunks(post_ids):
        still_open = exists().where(
            and_(moderation_cases.c.post_id == posts.c.id, moderation_cases.c.status == "open")
        )
        result = conn.execute(
            update(posts)
            .where(
                posts.c.id.in_(chunk),
                posts.c.hidden_reason.in_([HIDDEN_WHILE_MODERATED, HIDDEN_REMOVED]),
                ~still_open,
            )
            .values(is_hidden=False, hidden_at=None, hidden_reason=None)
        )
        shown += int(result.rowcount or 0)
    return shown


def hide_posts_of_open_cases(conn: Connection, now: datetime, post_ids: Sequence[int] | None = None) -> int:
    """Hide every post with an open case that is still visible (reason `moderation`)."""
    open_posts = select(moderation_cases.c.post_id).where(moderation_cases.c.status == "open")
    statement = update(posts).where(posts.c.id.in_(open_posts), posts.c.is_hidden.is_(False))
    if post_ids is not None:
        statement = statement.where(posts.c.id.in_(list(post_ids)))
    result = conn.execute(
        statement.values(is_hidden=True, hidden_at=now, hidden_reason=HIDDEN_WHILE_MODERATED)
    )
    return int(result.rowcount or 0)


def cases_frame(conn: Connection, case_ids: Iterable[int]) -> Any:
    """The named cases as the moderation_cases contract describes them (for validation)."""
    import pandas as pd

    ids = sorted(set(case_ids))
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows.extend(conn.execute(select(moderation_cases).where(moderation_cases.c.id.in_(chunk))).all())
    columns = [c.name for c in moderation_cases.columns]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for name in ("id", "post_id"):
        frame[name] = frame[name].astype("int64")
    for name in ("status", "source", "categories", "decision", "decision_reason", "decided_by"):
        frame[name] = frame[name].astype("str").where(frame[name].notna(), None)
    for name in ("opened_at", "due_at", "decided_at"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    return frame


def check_cases(conn: Connection, case_ids: Iterable[int]) -> Any:
    """Validate the named cases against the moderation_cases contract; raises ContractViolation on a
    blocking failure. Returns the report."""
    from tasks.contracts import validate_frame

    ids = sorted(set(case_ids))
    if not ids:
        return None
    report = validate_frame("moderation_cases", cases_frame(conn, ids))
    report.raise_for_blocking()
    return report


@without_cyclic_gc
def update_queue(conn: Connection, *, version: int | None, check_contract: bool = True) -> QueueResult:
    """The moderation queue after a scan, in the caller's transaction: close cases that rest only on
    list changes, take in pending hits and reports, check the cases touched against their contract
    (a blocking failure raises before any post is hidden, and the transaction rolls back), then hide
    the posts of open cases.

    Runs with the cyclic GC paused (steward.memory): a first scan's tens of thousands of pending hits
    and their cases are rows and dicts without cycles, and a full collection they trigger walks the whole
    process (measured after a full scan at 1,000,000 posts: about 0.2 s, as long as the rest of the step)."""
    now = utc_now()
    result = QueueResult()
    close_cases_resting_on_list_changes(conn, result, version)
    apply_pending_hits(conn, result, now)
    apply_pending_reports(conn, result)
    refresh_categories(conn, result.touched)
    if check_contract:
        check_cases(conn, result.touched)
    result.posts_hidden = hide_posts_of_open_cases(conn, now)
    if result.cases_opened or result.cases_closed or result.posts_hidden or result.posts_shown:
        write_audit(conn, "moderation_queue_updated", rule="code_of_conduct", detail=result.as_dict())
    return result


# ---------------------------------------------------------------------------------- one case at a time


def _case(conn: Connection, case_id: int) -> Any:
    row = conn.execute(select(moderation_cases).where(moderation_cases.c.id == case_id)).first()
    if row is None:
        raise ModerationError(f"no moderation case {case_id}")
    return row


def _require_account(conn: Connection, account_id: int | None) -> None:
    if (
        account_id is not None
        and conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None
    ):
        raise ModerationError(f"no account {account_id}")


def _require_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ModerationError(f"{what} is required")
    return value


def _record_decision(
    conn: Connection, case_id: int, action: str, origin: str, reason: str, moderator: str, now: datetime
) -> None:
    conn.execute(
        insert(moderation_decisions),
        [
            {
                "case_id": case_id,
                "action": action,
                "origin": origin,
                "reason": reason,
                "decided_at": now,
                "decided_by": moderator,
            }
        ],
    )
    write_audit(
        conn,
        "moderation_decision",
        rule="code_of_conduct",
        detail={"case_id": case_id, "action": action, "origin": origin},
    )


def _set_post_removed(conn: Connection, post_id: int, now: datetime) -> None:
    conn.execute(
        update(posts)
        .where(posts.c.id == post_id)
        .values(is_hidden=True, hidden_at=now, hidden_reason=HIDDEN_REMOVED)
    )


def decide_case(conn: Connection, case_id: int, action: str, reason: str, moderator: str) -> Any:
    """A moderator's decision on an open case: `remove` (the post stays hidden, as removed) or `restore`
    (the post is shown again). `reason` is shown to the author."""
    if action not in ("remove", "restore"):
        raise ModerationError(f"decision must be remove or restore, not {action!r}")
    reason = _require_text(reason, "a reason (shown to the author)")
    moderator = _require_text(moderator, "the moderator's id")
    case = _case(conn, case_id)
    if case.status != "open":
        raise ModerationError(
            f"case {case_id} is {case.status}, not open: appeal a removal with `steward moderation appeal`"
        )
    now = utc_now()
    conn.execute(
        update(moderation_cases)
        .where(moderation_cases.c.id == case_id)
        .values(
            status="removed" if action == "remove" else "restored",
            decision=action,
            decision_reason=reason,
            decided_at=now,
            decided_by=moderator,
        )
    )
    if action == "remove":
        _set_post_removed(conn, int(case.post_id), now)
    else:
        show_posts(conn, [int(case.post_id)])
    _record_decision(conn, case_id, action, "moderator", reason, moderator, now)
    return _case(conn, case_id)


def _restore_after_review(
    conn: Connection, case_id: int, origin: str, reason: str, moderator: str, now: datetime
) -> None:
    case = _case(conn, case_id)
    conn.execute(
        update(moderation_cases)
        .where(moderation_cases.c.id == case_id)
        .values(
            status="restored",
            decision="restore",
            decision_reason=reason,
            decided_at=now,
            decided_by=moderator,
        )
    )
    show_posts(conn, [int(case.post_id)])
    _record_decision(conn, case_id, "restore", origin, reason, moderator, now)


# ------------------------------------------------------------------------------------------ appeals


def open_appeal(conn: Connection, case_id: int, account_id: int | None, grounds: str | None) -> int:
    """An appeal of a removal: a queue of its own, due like a case."""
    case = _case(conn, case_id)
    if case.status != "removed":
        raise ModerationError(f"case {case_id} is {case.status}: only a removal can be appealed")
    _require_account(conn, account_id)
    open_already = conn.execute(
        select(moderation_appeals.c.id).where(
            moderation_appeals.c.case_id == case_id, moderation_appeals.c.status == "open"
        )
    ).first()
    if open_already is not None:
        raise ModerationError(f"case {case_id} already has an open appeal ({open_already.id})")
    now = utc_now()
    appeal_id = conn.execute(
        insert(moderation_appeals).returning(moderation_appeals.c.id),
        [
            {
                "case_id": case_id,
                "appellant_account_id": account_id,
                "grounds": (grounds or "").strip() or None,
                "status": "open",
                "received_at": now,
                "due_at": due_time(now),
            }
        ],
    ).scalar_one()
    write_audit(conn, "moderation_appeal_opened", rule="code_of_conduct", detail={"case_id": case_id})
    return int(appeal_id)


def _decide_open_review(
    conn: Connection, table: Table, record_id: int, label: str, uphold: bool, reason: str, moderator: str
) -> tuple[Any, datetime]:
    """Record the decision on an open appeal or filter complaint; refuses one already decided."""
    record = conn.execute(select(table).where(table.c.id == record_id)).first()
    if record is None:
        raise ModerationError(f"no {label} {record_id}")
    if record.status != "open":
        raise ModerationError(f"{label} {record_id} was already {record.status}")
    now = utc_now()
    conn.execute(
        update(table)
        .where(table.c.id == record_id)
        .values(
            status="upheld" if uphold else "rejected",
            decided_at=now,
            decided_by=moderator,
            decision_reason=reason,
        )
    )
    return record, now


def decide_appeal(conn: Connection, appeal_id: int, uphold: bool, reason: str, moderator: str) -> None:
    """Uphold an appeal (the post is restored) or reject it (the removal stands)."""
    reason = _require_text(reason, "a reason (shown to the author)")
    moderator = _require_text(moderator, "the moderator's id")
    appeal, now = _decide_open_review(
        conn, moderation_appeals, appeal_id, "appeal", uphold, reason, moderator
    )
    if uphold:
        _restore_after_review(conn, int(appeal.case_id), "appeal", reason, moderator, now)
    else:
        write_audit(
            conn,
            "moderation_appeal_rejected",
            rule="code_of_conduct",
            detail={"case_id": int(appeal.case_id)},
        )


# --------------------------------------------------------------------------- complaints about the filter


@dataclass(frozen=True)
class ComplaintOpened:
    complaint_id: int
    case_id: int | None
    case_status: str | None
    removal_reason: str | None
    categories: str | None


def open_complaint(
    conn: Connection, post_id: int, account_id: int | None, details: str | None
) -> ComplaintOpened:
    """A complaint that the automated filter was wrong about a post; returns what the complainant is
    shown: the case, its status, the filter categories and the reason for a removal."""
    post = conn.execute(select(posts.c.id).where(posts.c.id == post_id)).first()
    if post is None:
        raise ModerationError(f"no post {post_id}")
    _require_account(conn, account_id)
    filtered = conn.execute(
        select(scan_hits.c.case_id).where(scan_hits.c.post_id == post_id).order_by(scan_hits.c.id.desc())
    ).first()
    if filtered is None:
        raise ModerationError(
            f"the filter has not matched post {post_id}: report the post, or appeal its removal, instead"
        )
    case = conn.execute(
        select(moderation_cases)
        .where(moderation_cases.c.post_id == post_id)
        .order_by(moderation_cases.c.id.desc())
        .limit(1)
    ).first()
    now = utc_now()
    complaint_id = conn.execute(
        insert(filter_complaints).returning(filter_complaints.c.id),
        [
            {
                "post_id": post_id,
                "case_id": int(case.id) if case is not None else None,
                "complainant_account_id": account_id,
                "details": (details or "").strip() or None,
                "status": "open",
                "received_at": now,
                "due_at": due_time(now),
            }
        ],
    ).scalar_one()
    write_audit(conn, "filter_complaint_opened", rule="code_of_conduct", detail={"post_id": post_id})
    return ComplaintOpened(
        int(complaint_id),
        int(case.id) if case is not None else None,
        case.status if case is not None else None,
        case.decision_reason if case is not None and case.decision == "remove" else None,
        case.categories if case is not None else None,
    )


def decide_complaint(conn: Connection, complaint_id: int, uphold: bool, reason: str, moderator: str) -> None:
    """Uphold a complaint (the filter was wrong: the post is restored) or reject it."""
    reason = _require_text(reason, "a reason (shown to the complainant)")
    moderator = _require_text(moderator, "the moderator's id")
    complaint, now = _decide_open_review(
        conn, filter_complaints, complaint_id, "filter complaint", uphold, reason, moderator
    )
    if uphold and complaint.case_id is not None:
        case = _case(conn, int(complaint.case_id))
        if case.status in ("open", "removed"):
            _restore_after_review(conn, int(case.id), "complaint", reason, moderator, now)
    write_audit(
        conn,
        "filter_complaint_decided",
        rule="code_of_conduct",
        detail={"complaint_id": complaint_id, "upheld": uphold},
    )


# ------------------------------------------------------------------------------------------ reports


@dataclass(frozen=True)
class ReportFiled:
    report_id: int
    case_id: int
    due_at: datetime
    post_hidden: bool


def file_report(
    conn: Connection,
    post_id: int,
    *,
    reason: str,
    reporter_account_id: int | None = None,
    trusted_flagger: str | None = None,
    details: str | None = None,
    created_at: datetime | None = None,
) -> ReportFiled:
    """A member's report ("Mark as inappropriate") or a trusted flagger's: recorded, and the post's case
    opened (or joined) and the post hidden now, without waiting for the next scan."""
    if (reporter_account_id is None) == (trusted_flagger is None):
        raise ModerationError(
            "a report comes from a member (account id) or a trusted flagger (name), not both"
        )
    reason = _require_text(reason, "a reason")
    if conn.execute(select(posts.c.id).where(posts.c.id == post_id)).first() is None:
        raise ModerationError(f"no post {post_id}")
    _require_account(conn, reporter_account_id)
    created_at = created_at or utc_now()
    report_id = conn.execute(
        insert(content_reports).returning(content_reports.c.id),
        [
            {
                "post_id": post_id,
                "reporter_account_id": reporter_account_id,
                "reporter_kind": "member" if trusted_flagger is None else "trusted_flagger",
                "trusted_flagger_name": trusted_flagger,
                "reason": reason[:60],
                "details": (details or "").strip() or None,
                "created_at": created_at,
            }
        ],
    ).scalar_one()
    result = QueueResult()
    apply_pending_reports(conn, result, post_ids=[post_id])
    hidden = hide_posts_of_open_cases(conn, utc_now(), post_ids=[post_id])
    link = conn.execute(
        select(moderation_case_reports.c.case_id).where(moderation_case_reports.c.report_id == report_id)
    ).scalar_one()
    case = _case(conn, int(link))
    return ReportFiled(int(report_id), int(link), _as_datetime(case.due_at), bool(hidden))


# ----------------------------------------------------------------------------------------- listings


def open_cases(conn: Connection, category: str | None = None) -> list[Any]:
    rows = conn.execute(
        sql("moderation__open_cases", conn).columns(opened_at=DateTime, due_at=DateTime)
    ).all()
    if category:
        rows = [r for r in rows if category in (r.categories or "").split(",")]
    return list(rows)


def open_appeals(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(
                moderation_appeals.c.id,
                moderation_appeals.c.case_id,
                moderation_appeals.c.received_at,
                moderation_appeals.c.due_at,
            )  # fmt: skip
            .where(moderation_appeals.c.status == "open")
            .order_by(moderation_appeals.c.due_at, moderation_appeals.c.id)
        ).all()
    )


def open_complaints(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(
                filter_complaints.c.id,
                filter_complaints.c.post_id,
                filter_complaints.c.case_id,
                filter_complaints.c.received_at,
                filter_complaints.c.due_at,
            )  # fmt: skip
            .where(filter_complaints.c.status == "open")
            .order_by(filter_complaints.c.due_at, filter_complaints.c.id)
        ).all()
    )


def decided_since(conn: Connection, since: datetime) -> list[Any]:
    statement = sql("moderation__decided_cases", conn).bindparams(bindparam("since", type_=DateTime))
    return list(
        conn.execute(statement.columns(opened_at=DateTime, decided_at=DateTime), {"since": since}).all()
    )


def thirty_days_before(now: datetime) -> datetime:
    return now - timedelta(days=30)

"""The moderation SLA report: is the queue keeping the 3-business-day promise?

Open cases, cases due today and overdue cases (oldest first), the median time from opening to a
moderator's decision over the last 30 days, all per category; and the appeal and filter-complaint queues.
Ids, categories, dates and counts only: no post text, no names.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tasks.artifacts import markdown_table, publish_markdown
from tasks.calendar import end_of_local_day_utc, local_date, utc_now
from tasks.content.moderation import (
    decided_since,
    open_appeals,
    open_cases,
    open_complaints,
    thirty_days_before,
)

ARTIFACT_KEY = "moderation-sla"
UNCATEGORISED = "uncategorised"


@dataclass
class CategorySla:
    category: str
    open: int = 0
    due_today: int = 0
    overdue: int = 0
    decided_30_days: int = 0
    median_hours_to_decision: float | None = None


@dataclass(frozen=True)
class OverdueCase:
    case_id: int
    post_id: int
    categories: str
    opened_at: datetime
    due_at: datetime
    days_overdue: int


@dataclass
class SlaReport:
    generated_at: datetime
    today: date
    open: int = 0
    due_today: int = 0
    overdue: list[OverdueCase] = field(default_factory=list)
    decided_30_days: int = 0
    median_hours_to_decision: float | None = None
    categories: list[CategorySla] = field(default_factory=list)
    appeals_open: int = 0
    appeals_overdue: int = 0
    complaints_open: int = 0
    complaints_overdue: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "due_today": self.due_today,
            "overdue": len(self.overdue),
            "median_hours_to_decision": self.median_hours_to_decision,
            "appeals_open": self.appeals_open,
            "complaints_open": self.complaints_open,
        }


def _categories(value: str | None) -> list[str]:
    found = [c for c in (value or "").split(",") if c]
    return found or [UNCATEGORISED]


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def sla_report(conn: Connection, now: datetime | None = None) -> SlaReport:
    """The SLA figures at `now` (naive UTC; default: now)."""
    now = now or utc_now()
    today = local_date(now)
    end_of_today = end_of_local_day_utc(today)
    report = SlaReport(generated_at=now, today=today)
    per: dict[str, CategorySla] = {}

    def bucket(category: str) -> CategorySla:
        return per.setdefault(category, CategorySla(category))

    overdue: list[OverdueCase] = []
    for case in open_cases(conn):
        report.open += 1
        cats = _categories(case.categories)
        is_overdue = case.due_at <= now
        is_due_today = not is_overdue and case.due_at <= end_of_today
        report.due_today += is_due_today
        if is_overdue:
            overdue.append(
                OverdueCase(
                    int(case.id),
                    int(case.post_id),
                    ",".join(cats),
                    case.opened_at,
                    case.due_at,
                    # due_at is the midnight that ends the due day: the day after it is the first overdue
                    (today - local_date(case.due_at)).days + 1,
                )
            )
        for category in cats:
            entry = bucket(category)
            entry.open += 1
            entry.due_today += is_due_today
            entry.overdue += is_overdue
    report.overdue = sorted(overdue, key=lambda c: (c.due_at, c.case_id))

    durations: dict[str, list[float]] = defaultdict(list)
    all_durations: list[float] = []
    for case in decided_since(conn, thirty_days_before(now)):
        hours = _hours(case.opened_at, case.decided_at)
        all_durations.append(hours)
        for category in _categories(case.categories):
            durations[category].append(hours)
    report.decided_30_days = len(all_durations)
    report.median_hours_to_decision = round(statistics.median(all_durations), 1) if all_durations else None
    for category, values in durations.items():
        entry = bucket(category)
        entry.decided_30_days = len(values)
        entry.median_hours_to_decision = round(statistics.median(values), 1)
    report.categories = sorted(per.values(), key=lambda c: c.category)

    appeals = open_appeals(conn)
    report.appeals_open = len(appeals)
    report.appeals_overdue = sum(1 for a in appeals if a.due_at <= now)
    complaints = open_complaints(conn)
    report.complaints_open = len(complaints)
    report.complaints_overdue = sum(1 for c in complaints if c.due_at <= now)
    return report


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def sla_markdown(report: SlaReport, overdue_limit: int = 50) -> str:
    """The report as markdown: case ids, categories, dates and counts only."""
    median = f"{report.median_hours_to_decision} h" if report.median_hours_to_decision is not None else "-"
    lines = [
        f"Moderation queue on {report.today.isoformat()} (Europe/London): **{report.open}** open, "
        f"**{report.due_today}** due today, **{len(report.overdue)}** overdue. Median time to a decision over "
        f"the last 30 days: **{median}** ({report.decided_30_days} decisions).",
        "",
        f"Appeals: {report.appeals_open} open ({report.appeals_overdue} overdue). "
        f"Filter complaints: {report.complaints_open} open ({report.complaints_overdue} overdue).",
        "",
        "## Per category",
        "",
        markdown_table(
            ["category", "open", "due today", "overdue", "decided (30 days)", "median hours to decision"],
            [
                [
                    c.category,
                    c.open,
                    c.due_today,
                    c.overdue,
                    c.decided_30_days,
                    c.median_hours_to_decision if c.median_hours_to_decision is not None else "-",
                ]
                for c in report.categories
            ]
            or [["-", 0, 0, 0, 0, "-"]],
        ),
        "",
        "## Overdue cases, oldest first",
        "",
    ]
    if report.overdue:
        shown = report.overdue[:overdue_limit]
        lines.append(
            markdown_table(
                ["case", "categories", "opened", "due", "days overdue"],
                [
                    [c.case_id, c.categories, _when(c.opened_at), _when(c.due_at), c.days_overdue]
                    for c in shown
                ],
            )
        )
        if len(report.overdue) > overdue_limit:
            lines.append(
                f"\n... and {len(report.overdue) - overdue_limit} more (`steward moderation queue`)."
            )
    else:
        lines.append("None: every open case is within its 3 business days.")
    return "\n".join(lines)


def publish_sla(report: SlaReport) -> Path:
    """Publish the report as the keyed artifact `moderation-sla` (and its file under output_dir/reports)."""
    return publish_markdown(
        ARTIFACT_KEY, sla_markdown(report), "Moderation queue: the 3-business-day promise"
    )

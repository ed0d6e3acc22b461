"""`steward moderation`: the moderation queue, decisions, reports, appeals and filter complaints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import typer

moderation_app = typer.Typer(
    help="The moderation queue: reported or filtered posts are hidden while moderated and reviewed within "
    "3 business days. The nightly `content-rescan` job opens cases from the filter's hits and from "
    "reports. See docs/content-rescan.md.",
    no_args_is_help=True,
)
appeal_app = typer.Typer(help="Appeals of removals: a queue of their own.", no_args_is_help=True)
complaint_app = typer.Typer(
    help="Complaints that the automated filter was wrong (false positives): a queue of their own.",
    no_args_is_help=True,
)
moderation_app.add_typer(appeal_app, name="appeal")
moderation_app.add_typer(complaint_app, name="complaint")


def _table(title: str, columns: list[str], rows: Sequence[Sequence[object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    Console().print(table)


def _due(moment: datetime) -> str:
    """A due time (the midnight that ends the due day) as the day it ends."""
    from datetime import timedelta

    return "end of " + _local(moment - timedelta(microseconds=1), "%a %d %b %Y")


def _local(moment: datetime, pattern: str = "%a %d %b %Y %H:%M") -> str:
    from datetime import UTC

    from steward.settings import get_settings

    return moment.replace(tzinfo=UTC).astimezone(get_settings().tz).strftime(pattern)


@moderation_app.command("sla")
def sla() -> None:
    """Is the queue keeping its promise? Open cases, due today, overdue (oldest first), the median time to
    a decision over the last 30 days, per category; appeals and complaints. Also written as the report
    `moderation-sla` under the output folder. No post text, no names."""
    from tasks.content.sla import publish_sla, sla_report
    from tasks.db import begin

    with begin() as conn:
        report = sla_report(conn)
    path = publish_sla(report)
    median = f"{report.median_hours_to_decision} h" if report.median_hours_to_decision is not None else "-"
    typer.echo(
        f"{report.open} open, {report.due_today} due today, {len(report.overdue)} overdue; median time to a "
        f"decision over the last 30 days {median} ({report.decided_30_days} decisions)"
    )
    typer.echo(
        f"appeals {report.appeals_open} open ({report.appeals_overdue} overdue); filter complaints "
        f"{report.complaints_open} open ({report.complaints_overdue} overdue)"
    )
    _table(
        "per category",
        ["category", "open", "due today", "overdue", "decided (30 days)", "median hours"],
        [
            [
                c.category,
                c.open,
                c.due_today,
                c.overdue,
                c.decided_30_days,
                "-" if c.median_hours_to_decision is None else c.median_hours_to_decision,
            ]
            for c in report.categories
        ],
    )
    if report.overdue:
        _table(
            "overdue, oldest first",
            ["case", "post", "categories", "due (London)", "days overdue"],
            [
                [c.case_id, c.post_id, c.categories, _due(c.due_at), c.days_overdue]
                for c in report.overdue[:100]
            ],
        )
    typer.echo(f"report: {path}")


@moderation_app.command("queue")
def queue(
    category: str | None = typer.Option(None, "--category", "-c", help="Only cases in this category."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many cases to list."),
) -> None:
    """The open cases, the nearest due first: post, source, categories, hits and reports, due time."""
    from tasks.calendar import utc_now
    from tasks.content.moderation import open_cases
    from tasks.db import begin

    with begin() as conn:
        cases = open_cases(conn, category)
    now = utc_now()
    if not cases:
        typer.echo("the queue is empty")
        return
    _table(
        f"{len(cases)} open case{'s' if len(cases) != 1 else ''}" + (f" ({category})" if category else ""),
        ["case", "post", "source", "categories", "hits", "reports", "opened (London)", "due (London)", ""],
        [
            [
                c.id,
                c.post_id,
                c.source,
                c.categories or "",
                c.hits,
                c.reports,
                _local(c.opened_at),
                _due(c.due_at),
                "OVERDUE" if c.due_at <= now else "",
            ]
            for c in cases[:limit]
        ],
    )


@moderation_app.command("decide")
def decide(
    case_id: int = typer.Argument(..., help="The case."),
    remove: bool = typer.Option(False, "--remove", help="Remove the post (it stays hidden)."),
    restore: bool = typer.Option(False, "--restore", help="Restore the post (it is shown again)."),
    reason: str = typer.Option(..., "--reason", help="The reason, as shown to the post's author."),
    moderator: str = typer.Option(..., "--moderator", help="Your moderator id."),
) -> None:
    """Decide an open case: --remove or --restore, with the reason shown to the author."""
    from steward.errors import ConfigurationError
    from tasks.content.moderation import decide_case
    from tasks.db import begin

    if remove == restore:
        raise ConfigurationError("give exactly one of --remove and --restore")
    with begin() as conn:
        case = decide_case(conn, case_id, "remove" if remove else "restore", reason, moderator)
    typer.echo(f"case {case.id}: {case.status}; post {case.post_id} {'removed' if remove else 'shown again'}")


@moderation_app.command("report")
def report(
    post_id: int = typer.Argument(..., help="The post reported."),
    reason: str = typer.Option(
        ...,
        "--reason",
        help="Why: a category (terrorism, csea, hate, violence, fraud...) or the reporter's own.",
    ),
    member: int | None = typer.Option(None, "--member", help="The reporting member's account id."),
    trusted_flagger: str | None = typer.Option(None, "--trusted-flagger", help="The trusted organisation."),
    details: str | None = typer.Option(None, "--details", help="What the reporter said."),
) -> None:
    """Record a member's report ("Mark as inappropriate") or a trusted flagger's: the post's case opens
    (or the report joins it) and the post is hidden now. Reports the platform records itself are picked up
    by the next content rescan."""
    from tasks.content.moderation import file_report
    from tasks.db import begin

    with begin() as conn:
        filed = file_report(
            conn,
            post_id,
            reason=reason,
            reporter_account_id=member,
            trusted_flagger=trusted_flagger,
            details=details,
        )
    typer.echo(
        f"report {filed.report_id} is in case {filed.case_id}, due by the {_due(filed.due_at)} (London); "
        f"post {post_id} {'hidden' if filed.post_hidden else 'already hidden'}"
    )


@appeal_app.command("open")
def appeal_open(
    case_id: int = typer.Argument(..., help="The case whose removal is appealed."),
    account: int | None = typer.Option(None, "--account", help="The appellant's account id."),
    grounds: str | None = typer.Option(None, "--grounds", help="What the appellant says."),
) -> None:
    """Open an appeal of a removal (one open appeal per case)."""
    from tasks.content.moderation import open_appeal
    from tasks.db import begin

    with begin() as conn:
        appeal_id = open_appeal(conn, case_id, account, grounds)
    typer.echo(f"appeal {appeal_id} opened on case {case_id}")


@appeal_app.command("decide")
def appeal_decide(
    appeal_id: int = typer.Argument(..., help="The appeal."),
    uphold: bool = typer.Option(False, "--uphold", help="The appeal succeeds: the post is restored."),
    reject: bool = typer.Option(False, "--reject", help="The removal stands."),
    reason: str = typer.Option(..., "--reason", help="The reason, as shown to the appellant."),
    moderator: str = typer.Option(..., "--moderator", help="Your moderator id."),
) -> None:
    """Decide an appeal: --uphold (restore the post) or --reject."""
    from steward.errors import ConfigurationError
    from tasks.content.moderation import decide_appeal
    from tasks.db import begin

    if uphold == reject:
        raise ConfigurationError("give exactly one of --uphold and --reject")
    with begin() as conn:
        decide_appeal(conn, appeal_id, uphold, reason, moderator)
    typer.echo(f"appeal {appeal_id} {'upheld: the post is shown again' if uphold else 'rejected'}")


@appeal_app.command("list")
def appeal_list() -> None:
    """The open appeals, the nearest due first."""
    from tasks.content.moderation import open_appeals
    from tasks.db import begin

    with begin() as conn:
        appeals = open_appeals(conn)
    if not appeals:
        typer.echo("no open appeals")
        return
    _table(
        "open appeals",
        ["appeal", "case", "received (London)", "due (London)"],
        [[a.id, a.case_id, _local(a.received_at), _due(a.due_at)] for a in appeals],
    )


@complaint_app.command("open")
def complaint_open(
    post_id: int = typer.Argument(..., help="The post the filter matched."),
    account: int | None = typer.Option(None, "--account", help="The complainant's account id."),
    details: str | None = typer.Option(None, "--details", help="What the complainant says."),
) -> None:
    """Record a complaint that the automated filter was wrong about a post, and show what the complainant
    is told: the case, its categories and the reason for a removal."""
    from tasks.content.moderation import open_complaint
    from tasks.db import begin

    with begin() as conn:
        opened = open_complaint(conn, post_id, account, details)
    typer.echo(f"complaint {opened.complaint_id} opened on post {post_id}")
    if opened.case_id is not None:
        typer.echo(
            f"case {opened.case_id}: {opened.case_status}; filter categories: {opened.categories or '-'}"
        )
    if opened.removal_reason:
        typer.echo(f"reason for the removal: {opened.removal_reason}")


@complaint_app.command("decide")
def complaint_decide(
    complaint_id: int = typer.Argument(..., help="The complaint."),
    uphold: bool = typer.Option(False, "--uphold", help="The filter was wrong: the post is restored."),
    reject: bool = typer.Option(False, "--reject", help="The filter was right."),
    reason: str = typer.Option(..., "--reason", help="The reason, as shown to the complainant."),
    moderator: str = typer.Option(..., "--moderator", help="Your moderator id."),
) -> None:
    """Decide a filter complaint: --uphold (restore the post) or --reject."""
    from steward.errors import ConfigurationError
    from tasks.content.moderation import decide_complaint
    from tasks.db import begin

    if uphold == reject:
        raise ConfigurationError("give exactly one of --uphold and --reject")
    with begin() as conn:
        decide_complaint(conn, complaint_id, uphold, reason, moderator)
    typer.echo(f"complaint {complaint_id} {'upheld' if uphold else 'rejected'}")


@complaint_app.command("list")
def complaint_list() -> None:
    """The open filter complaints, the nearest due first."""
    from tasks.content.moderation import open_complaints
    from tasks.db import begin

    with begin() as conn:
        complaints = open_complaints(conn)
    if not complaints:
        typer.echo("no open filter complaints")
        return
    _table(
        "open filter complaints",
        ["complaint", "post", "case", "received (London)", "due (London)"],
        [[c.id, c.post_id, c.case_id or "-", _local(c.received_at), _due(c.due_at)] for c in complaints],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(moderation_app, name="moderation")

"""`steward retention`: the retention rules, the dry run, the sweep and the compliance check."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from steward.errors import ConfigurationError

retention_app = typer.Typer(
    help="Retention: enforce the privacy policy's maximum retention periods "
    "(data_contracts/retention_rules.yaml). See docs/retention.md.",
    no_args_is_help=True,
)

_TODAY_HELP = (
    "Count the limits to this day (YYYY-MM-DD) instead of today in Europe/London; for reviews and rehearsals."
)


def _today(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--today {value!r}: expected a date as YYYY-MM-DD") from None


def _console() -> Any:
    from rich.console import Console

    return Console()


def _table(title: str, headings: list[str], rows: list[list[Any]], right: set[str] | None = None) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for index, heading in enumerate(headings):
        justify = "right" if heading in (right or set()) else "left"
        # the rule's name may fold; numbers and dates never wrap
        table.add_column(heading, justify=justify, no_wrap=index > 0, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


def _print_plan(report: Any) -> None:
    console = _console()
    counts = {"due", "held", "blocked", "to apply", "done"}
    applied = any(line.done for line in report.lines)
    headings = [
        "rule",
        "due before",
        "due",
        "held",
        "blocked",
        "done" if applied else "to apply",
        "oldest left",
    ]
    rows = []
    for line in report.lines:
        row = line.as_row()
        rows.append([f"{row[k]:,}" if k in counts else row[k] for k in headings])
    console.print(_table(f"Retention plan {report.plan_id} ({report.status})", headings, rows, counts))
    totals = report.totals
    console.print(
        f"{totals['due']:,} due: {totals['held']:,} held, {totals['blocked']:,} blocked, "
        f"{totals['to_apply']:,} to apply, {totals['done']:,} done",
        highlight=False,
    )
    if report.status == "awaiting_approval":
        console.print(
            f"[yellow]The guard stopped plan {report.plan_id} ({report.guard_why}). Nothing was deleted. "
            f"Review it with `steward plans show {report.plan_id}`, release it with "
            f"`steward plans approve {report.plan_id} --by NAME`, then run `steward retention apply`.[/yellow]"
        )


def _print_verify(report: Any, listed: int) -> None:
    console = _console()
    rows = [
        [
            r.rule,
            r.cutoff.isoformat(),
            f"{r.overdue:,}",
            f"{r.held:,}",
            f"{r.blocked:,}",
            r.oldest_overdue.isoformat() if r.oldest_overdue else "",
        ]
        for r in report.rules
    ]
    console.print(
        _table(
            f"Retention compliance on {report.today.isoformat()}",
            ["rule", "due before", "overdue", "held", "blocked", "oldest overdue"],
            rows,
            {"overdue", "held", "blocked"},
        )
    )
    if report.records and listed:
        records = [
            [
                r.rule,
                r.row_id,
                r.account_id if r.account_id is not None else "",
                r.anchor.isoformat(),
                r.limit.isoformat(),
                r.days_overdue(report.today),
            ]
            for r in report.records[:listed]
        ]
        console.print(
            _table(
                "Records past their limit (no hold or block)",
                ["rule", "row id", "account", "counted from", "limit", "days over"],
                records,
                {"row id", "account", "days over"},
            )
        )
        if report.overdue > len(records):
            console.print(f"... and {report.overdue - len(records):,} more (raise --limit to list them)")
    if report.compliant:
        console.print(
            f"[green]compliant: nothing past its limit except {report.protected:,} record(s) under a hold "
            "or block[/green]"
        )
    else:
        console.print(f"[red]{report.overdue:,} record(s) past their limit with no hold or block[/red]")


@retention_app.command("rules")
def rules(today: str | None = typer.Option(None, "--today", help=_TODAY_HELP)) -> None:
    """Check the rules file and list each rule: the policy, table, anchor, period, action and cutoff.

    A rule naming a table or column missing from the personal-data map, an unknown action or period,
    or a query that does not match the rule is an error naming the file and the rule.
    """
    from tasks.retention import Sweep, unswept_tables

    sweep = Sweep.for_today(today=_today(today))
    console = _console()
    rows = [
        [
            rule.id,
            rule.implements,
            rule.table,
            rule.describe_period(),
            rule.action,
            sweep.cutoffs[rule.id].isoformat(),
        ]
        for rule in sweep.rules.rules
    ]
    console.print(
        _table(
            f"Retention rules ({sweep.rules.path.name}) on {sweep.today.isoformat()}",
            ["rule", "implements", "table", "period", "action", "due before"],
            rows,
        )
    )
    for rule in sweep.rules.rules:
        console.print(
            f"[bold]{rule.id}[/bold]: {rule.policy} [dim]({rule.applies_to})[/dim]", highlight=False
        )
    following = unswept_tables(sweep.rules)
    if following:
        names = ", ".join(f"{table} ({rule})" for table, rule in following)
        console.print(
            f"Tables with no rule of their own, removed with their subject's account: {names}",
            highlight=False,
        )


@retention_app.command("plan")
def plan(today: str | None = typer.Option(None, "--today", help=_TODAY_HELP)) -> None:
    """Dry run: plan and check every rule, and show per rule what is due, held, blocked and left.

    Nothing is deleted. The checked plan is kept (see `steward plans show ID`) and the next
    `steward retention apply` applies exactly it. `oldest left` is the oldest record the rule would
    leave: one not yet due, or one a hold or block protects.
    """
    from steward.progress import progress_bar
    from tasks.retention import Sweep, run_sweep

    sweep = Sweep.for_today(today=_today(today))
    with progress_bar("planning retention (rows)") as advance:
        outcome = run_sweep(sweep, apply=False, plan_progress=advance)
    assert outcome.report is not None
    _print_plan(outcome.report)
    if outcome.superseded:
        _console().print(
            f"superseded older unapplied plan(s): {', '.join(map(str, outcome.superseded))}", highlight=False
        )
    if outcome.report.status != "awaiting_approval":
        _console().print(f"Nothing was deleted. `steward retention apply` applies plan {outcome.plan_id}.")


@retention_app.command("apply")
def apply(
    today: str | None = typer.Option(None, "--today", help=_TODAY_HELP),
    limit: int = typer.Option(20, "--limit", min=0, help="Records past their limit to list afterwards."),
) -> None:
    """Sweep now: finish earlier plans, plan and check every rule, apply the plan, then verify.

    Legal holds, active CPD bookings, open subject access requests and restrictions of processing
    defer what they protect. A plan over the guard (share of accounts, or retention_guard_max_rows)
    stops before deleting anything: exit code 3, and `steward plans approve ID --by NAME` releases it
    for the next run; while it waits, no new plan is made. Safe to run again after a crash: only what
    is still pending is done.
    """
    from steward.progress import progress_bar
    from tasks.db import begin
    from tasks.plans import PlanNeedsApproval
    from tasks.retention import (
        Sweep,
        publish_plan_report,
        publish_verify_report,
        record_verification,
        run_sweep,
    )

    sweep = Sweep.for_today(today=_today(today))
    with progress_bar("retention sweep (rows planned, items applied)") as advance:
        outcome = run_sweep(
            sweep, apply=True, verify_limit=max(limit, 1), plan_progress=advance, apply_progress=advance
        )
    assert outcome.report is not None
    publish_plan_report(outcome.report)
    if outcome.resumed:
        _console().print(f"finished earlier plan(s): {', '.join(map(str, outcome.resumed))}")
    _print_plan(outcome.report)
    if outcome.verify is not None:
        with begin() as conn:
            record_verification(conn, outcome.verify)
        path = publish_verify_report(outcome.verify)
        _print_verify(outcome.verify, limit)
        _console().print(f"report: {path}")
    if outcome.waiting:
        raise PlanNeedsApproval(outcome.waiting[-1], "it waits for the DPO, so no new plan was made")
    if outcome.report.status == "awaiting_approval":
        raise PlanNeedsApproval(outcome.report.plan_id, outcome.report.guard_why or "the guard tripped")


@retention_app.command("verify")
def verify(
    today: str | None = typer.Option(None, "--today", help=_TODAY_HELP),
    limit: int = typer.Option(
        50, "--limit", min=0, help="Records past their limit to list (counts are complete)."
    ),
) -> None:
    """List every record past its limit that no legal hold or block protects, with its rule.

    After a sweep it lists nothing. Publishes the summary (counts per rule, no record ids) to
    <output_dir>/reports/retention-verify.md and records the verdict in the audit trail.
    Exits 1 when a record is past its limit.
    """
    from steward.progress import progress_bar
    from tasks.db import begin
    from tasks.retention import Sweep, publish_verify_report, record_verification, verify_retention

    sweep = Sweep.for_today(today=_today(today))
    with progress_bar("checking retention (rows)") as advance:
        report = verify_retention(sweep, list_limit=max(limit, 1), progress=advance)
    with begin() as conn:
        record_verification(conn, report)
    path = publish_verify_report(report)
    _print_verify(report, limit)
    _console().print(f"report: {path}")
    if not report.compliant:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")

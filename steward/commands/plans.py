"""`steward plans`: list, show, approve and reject the plans of destructive jobs (docs/erasure.md)."""

from __future__ import annotations

from typing import Any

import typer

plans_app = typer.Typer(
    help="Plans: what a destructive job (bounce removal, retention, erasure requests) will do, before "
    "it does it. Inspect one, and approve or reject the plans the guard stopped.",
    no_args_is_help=True,
)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


@plans_app.command("list")
def list_(
    kind: str = typer.Option(
        None, "--kind", help="Only plans of this kind (bounce_removal, retention, erasure_request...)."
    ),
    limit: int = typer.Option(20, "--limit", min=1, help="How many of the latest plans to show."),
) -> None:
    """The latest plans: id, kind, status and item counts."""
    from rich.table import Table

    from tasks.db import begin
    from tasks.plans import list_plans

    with begin() as conn:
        rows = list_plans(conn, kind=kind, limit=limit)
    if not rows:
        typer.echo("no plans yet")
        return
    table = Table(title="Plans (newest first)")
    for heading in ("id", "kind", "status", "created", "items", "pending", "done", "deferred", "approved by"):
        table.add_column(
            heading, justify="right" if heading in ("id", "items", "pending", "done", "deferred") else "left"
        )
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["status"],
            str(row["created_at"])[:16],
            f"{int(row['items']):,}",
            f"{int(row['pending']):,}",
            f"{int(row['done']):,}",
            f"{int(row['deferred']):,}",
            row["approved_by"] or "",
        )
    _console().print(table)


@plans_app.command("show")
def show(plan_id: int = typer.Argument(..., help="The plan's id (see `steward plans list`).")) -> None:
    """Explain a plan: its status, the guard's verdict, counts per rule, table, action and status, and
    why items were deferred. Shows no personal data."""
    from tasks.db import begin
    from tasks.plans import explain_plan, plan_summary

    with begin() as conn:
        summary = plan_summary(conn, plan_id)
    typer.echo(explain_plan(summary))


@plans_app.command("approve")
def approve(
    plan_id: int = typer.Argument(..., help="The plan waiting for approval."),
    by: str = typer.Option(..., "--by", help="Your name: recorded on the plan and in the audit trail."),
) -> None:
    """Release a plan the guard stopped. Nothing is deleted now: the job's next run applies it."""
    from tasks.db import begin
    from tasks.plans import approve_plan, get_plan

    with begin() as conn:
        approve_plan(conn, plan_id, by)
        kind = get_plan(conn, plan_id)["kind"]
    typer.echo(f"plan {plan_id} ({kind}) approved by {by.strip()}; the next run of its job applies it")


@plans_app.command("reject")
def reject(
    plan_id: int = typer.Argument(..., help="A plan not yet applied."),
    by: str = typer.Option(None, "--by", help="Your name (optional)."),
) -> None:
    """Drop a plan that is not applied yet: none of its items will be applied. The job plans afresh on
    its next run (the same subjects come back if they are still due)."""
    from tasks.db import begin
    from tasks.plans import reject_plan

    with begin() as conn:
        reject_plan(conn, plan_id, by)
    typer.echo(f"plan {plan_id} rejected; nothing of it will be applied")


def register(app: typer.Typer) -> None:
    app.add_typer(plans_app, name="plans")

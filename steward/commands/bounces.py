"""`steward bounces`: ingest the email provider's exports and report on undeliverable addresses."""

from __future__ import annotations

from pathlib import Path

import typer

bounces_app = typer.Typer(
    help="Bounce reconciliation: the email provider's bounce, complaint and delivery reports. The daily "
    "job is `steward run bounce-reconciliation`. See docs/bounce-reconciliation.md.",
    no_args_is_help=True,
)


@bounces_app.command("ingest")
def ingest(
    files: list[Path] = typer.Argument(
        ...,
        help="Export files: CSV (email,event,smtp_status,enhanced_status,"
        "diagnostic,occurred_at) or SES-style JSON lines (.jsonl).",
    ),
    reconcile: bool = typer.Option(
        True, "--reconcile/--no-reconcile", help="Then mark undeliverable and clear accounts (no removal)."
    ),
) -> None:
    """Ingest export files (each file once: a file seen before changes nothing). Rows failing the
    bounce_export contract are quarantined and listed by file and line with the rules they failed.
    Removal of undeliverable accounts is left to the daily job."""
    from steward.errors import ConfigurationError
    from steward.progress import progress_bar
    from tasks.bounces.ingest import ingest_file, summarise_quarantine
    from tasks.bounces.run import reconcile_marks

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigurationError(f"no such file: {', '.join(missing)}")
    results = []
    with progress_bar("ingesting", total=len(files)) as advance:
        for path in files:
            results.append(ingest_file(path))
            advance(1)
    for result in results:
        if result.already_ingested:
            typer.echo(f"{result.file_name}: already ingested (file {result.file_id}); nothing changed")
            continue
        classes = ", ".join(f"{k} {v:,}" for k, v in sorted(result.by_class.items())) or "none"
        typer.echo(
            f"{result.file_name}: {result.events:,} events staged ({classes}); {result.quarantined:,} rows quarantined"
        )
        for line in summarise_quarantine(result.quarantined_lines, limit=50):
            typer.echo(f"  quarantined {line}")
        if result.quarantined > 50:
            typer.echo(f"  ... and {result.quarantined - 50:,} more (`steward bounces report`)")
    if reconcile:
        marks = reconcile_marks()
        typer.echo(
            f"accounts: {sum(marks.newly_undeliverable.values()):,} newly undeliverable, "
            f"{sum(marks.cleared.values()):,} cleared, {marks.taken_over:,} marks taken over; "
            f"{marks.undeliverable_total:,} undeliverable now"
        )


@bounces_app.command("report")
def report(
    lines: int = typer.Option(50, "--lines", min=0, help="How many quarantined lines to list."),
) -> None:
    """The state now (changes nothing): staged events by RFC 3463 class, undeliverable accounts by reason
    and past the grace period, open removal plans, files ingested, quarantined lines. No addresses."""
    from tasks.bounces.run import state_report

    typer.echo(state_report(quarantine_limit=lines))


def register(app: typer.Typer) -> None:
    app.add_typer(bounces_app, name="bounces")

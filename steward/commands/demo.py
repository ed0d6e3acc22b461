"""`steward demo-data`: fill the database with reproducible synthetic data for demos and tests."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

from steward.errors import ConfigurationError


def demo_data(
    accounts: int = typer.Option(5_000, "--accounts", min=1, help="How many accounts to generate."),
    seed: int = typer.Option(42, "--seed", min=0, help="The random seed: the same seed gives the same data."),
    today: str | None = typer.Option(
        None,
        "--today",
        metavar="YYYY-MM-DD",
        help="The reference date the retention limits are planted around (default: today, Europe/London).",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Empty every table first (without it, a database holding data is refused)."
    ),
    export_dir: str | None = typer.Option(
        None,
        "--export-dir",
        help="Where to write the email provider's demo export bounce-export.csv "
        "(default: <output_dir>/demo; an empty value writes none).",
    ),
) -> None:
    """Generate realistic synthetic demo data (accounts, CPD, finance, community, email events) into the
    configured database, and the email provider's demo bounce export."""
    from steward.progress import progress_bar
    from tasks.demo_data import default_export_dir, generate_demo_data

    reference = _parse_date(today) if today else None
    if export_dir is None:
        export_path: Path | None = default_export_dir()
    elif export_dir.strip() == "":
        export_path = None
    else:
        export_path = Path(export_dir)
    started = time.perf_counter()
    with progress_bar("demo data (accounts)", total=accounts) as advance:
        summary = generate_demo_data(
            accounts=accounts,
            seed=seed,
            today=reference,
            replace=replace,
            export_dir=export_path,
            progress=advance,
        )
    elapsed = time.perf_counter() - started
    width = max(len(name) for name in summary.rows)
    typer.echo(f"demo data for {summary.accounts:,} accounts, seed {summary.seed}, today {summary.today}:")
    for name, count in summary.rows.items():
        typer.echo(f"  {name:<{width}}  {count:>12,}")
    typer.echo(f"  {'total':<{width}}  {summary.total_rows:>12,} rows in {elapsed:.1f} s")
    if summary.export_path is not None:
        typer.echo(f"provider export: {summary.export_path} ({summary.export_rows:,} rows)")


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--today must be a date as YYYY-MM-DD (got {value!r})") from None


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)

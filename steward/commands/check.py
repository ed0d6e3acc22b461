"""`steward check`: validate the source tables against their contracts and print a summary."""

from __future__ import annotations

import typer


def check(
    table: list[str] = typer.Option(
        [], "--table", "-t", help="Check only this table (repeatable). Default: every source table."
    ),
) -> None:
    """Validate every source table against its contract (data_contracts/tables).

    Prints each table's rows, rules passed, blocking failures and warnings, then the failed rules.

    Counts only, never values. Exits 1 when a blocking rule failed.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from steward.progress import progress_bar
    from tasks.data_quality import check_tables, load_all_contracts, source_tables

    load_all_contracts()
    names = source_tables(table)
    with progress_bar("checking tables", total=len(names)) as advance:
        reports = check_tables(names, progress=advance)

    console = Console()
    summary = Table(title="Data quality")
    for heading, justify in (
        ("table", "left"),
        ("rows", "right"),
        ("rules passed", "right"),
        ("blocking failures", "right"),
        ("warnings", "right"),
    ):
        summary.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for r in reports:
        blocking = len(r.blocking_failures)
        summary.add_row(
            r.contract,
            f"{r.row_count:,}",
            f"{r.rules_passed}/{len(r.results)}",
            f"[red]{blocking}[/red]" if blocking else "0",
            f"[yellow]{len(r.warnings)}[/yellow]" if r.warnings else "0",
        )
    console.print(summary)
    for r in reports:
        for result in (*r.blocking_failures, *r.warnings):
            line = Text(f"{result.severity} ", style="red" if result.blocking else "yellow")
            line.append(result.describe(), style="default")
            console.print(line, highlight=False)
    failed = [r.contract for r in reports if not r.passed]
    if failed:
        console.print(f"[red]{len(failed)} table(s) failed blocking rules: {', '.join(failed)}[/red]")
        raise typer.Exit(1)
    console.print(f"all {len(reports)} table(s) passed their blocking rules")


def register(app: typer.Typer) -> None:
    app.command("check")(check)

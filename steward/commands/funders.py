"""`steward funders`: statistics releases for funders, and pseudonymised research extracts."""

from __future__ import annotations

import typer

funders_app = typer.Typer(
    help="Statistics for funders that identify nobody (protected, audited, delivered as CSV and an "
    "HTML report), and pseudonymised research extracts for partners.",
    no_args_is_help=True,
)


@funders_app.command("list")
def list_funders_command() -> None:
    """List the funders steward knows (every sponsor of a CPD course) and their releases."""
    from rich.console import Console
    from rich.table import Table

    from tasks.db import get_engine
    from tasks.funders import list_funders

    with get_engine().connect() as conn:
        funders = list_funders(conn)
    if not funders:
        typer.echo("no funders: no CPD course has a sponsor, and nothing was released before")
        return
    table = Table(title="Funders")
    table.add_column("funder", no_wrap=True)
    table.add_column("slug (folder)", no_wrap=True)
    table.add_column("sponsored courses", justify="right")
    table.add_column("releases")
    table.add_column("last delivered", no_wrap=True)
    for info in funders:
        table.add_row(
            info.funder.name,
            info.funder.slug,
            str(info.sponsored_courses),
            ", ".join(info.releases) or "-",
            info.last_delivered_at.strftime("%Y-%m-%d %H:%M") if info.last_delivered_at else "-",
        )
    Console().print(table)


@funders_app.command("release")
def release_command(
    funder: str = typer.Option(
        ..., "--funder", "-f", help="The funder's name or slug (see `steward funders list`)."
    ),
    period: str = typer.Option(
        "previous-quarter",
        "--period",
        "-p",
        help="A quarter (2026-Q3), a year (2026), previous-quarter or previous-year. The period must have ended.",
    ),
) -> None:
    """Release one funder's statistics for one period.

    Compiles the tables in SQL, suppresses small and dominated cells and every cell that would let
    them be worked out (from totals, other tables, other periods and earlier releases), proves it with
    the disclosure audit, checks the output contract, then writes a CSV per table, report.html and
    manifest.json under <output dir>/funders/<funder>/<period>/. Running it again does nothing when the
    release is already delivered (and rewrites its files if they went missing).
    """
    from steward.progress import progress_bar
    from tasks.funders import release_statistics

    with progress_bar("protecting and auditing") as advance:
        outcome = release_statistics(funder, period, progress=advance)
    verb = {
        "delivered": "delivered",
        "already_delivered": "already delivered (nothing to do)",
        "redelivered": "delivered again from the stored release",
    }[outcome.outcome]
    typer.echo(f"{outcome.funder} {outcome.period}: {verb}")
    typer.echo(
        f"  {outcome.tables} tables, {outcome.cells} cells, {outcome.suppressed_cells} suppressed; "
        f"{outcome.sensitive_statistics_audited} sensitive figures proved protected"
    )
    typer.echo(f"  files: {outcome.directory}")


@funders_app.command("research-extract")
def research_extract_command(
    recipient: str = typer.Option(
        ..., "--recipient", "-r", help="The research partner receiving the extract."
    ),
    purpose: str = typer.Option(
        None, "--purpose", help="What the research is for (recorded in the data-share log for each person)."
    ),
) -> None:
    """Write a pseudonymised extract of the people who agreed to research sharing.

    Restricted accounts are left out. Each person gets a pseudonym keyed to this recipient (another
    recipient sees unrelated pseudonyms). The file is an encrypted ZIP (owner-only) under
    <output dir>/research/<recipient>/; every share is recorded in the data-share log. The password is
    printed once, at the end: send it to the recipient separately from the file.
    """
    from tasks.research_extract import DEFAULT_PURPOSE, create_research_extract
    from tasks.subject_access.package import generate_password

    password = generate_password()
    result = create_research_extract(recipient, password, purpose=purpose or DEFAULT_PURPOSE)
    typer.echo(
        f"research extract for {result.recipient}: {result.people} people (all agreed to research sharing)"
    )
    typer.echo(f"  file: {result.path}")
    typer.echo(f"  sha256: {result.sha256}")
    typer.echo(f"  shares recorded in data_shares: {result.shares_recorded}")
    typer.echo(
        "\nPassword of the extract (shown once, not stored; send it separately from the file):\n"
        f"    {password}\n"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(funders_app, name="funders")

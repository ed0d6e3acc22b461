"""`steward db`: create or upgrade the database schema."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="The database: create it, upgrade it, count its rows.", no_args_is_help=True)


@db_app.command("init")
def init() -> None:
    """Create the database, or bring it to the newest schema. Safe to run again: it changes nothing then."""
    from sqlalchemy.engine import make_url

    from steward.settings import get_settings
    from tasks.db import upgrade_database

    url = get_settings().database_url
    before, after = upgrade_database(url)
    where = make_url(url).render_as_string(hide_password=True)
    if before == after:
        typer.echo(f"database {where} is up to date (revision {after})")
    else:
        typer.echo(f"database {where} upgraded from {before or 'empty'} to {after}")


@db_app.command("counts")
def counts() -> None:
    """Print the number of rows in every table."""
    from tasks.db import begin, table_counts
    from tasks.schema import metadata

    with begin() as conn:
        result = table_counts(conn, sorted(metadata.tables))
    width = max(len(name) for name in result)
    for name, count in result.items():
        typer.echo(f"{name:<{width}}  {count:>12,}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

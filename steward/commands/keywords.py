"""`steward keywords`: import, compare and show the content filter's keyword lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

keywords_app = typer.Typer(
    help="The content filter's keyword lists: each import that changes anything is a new version; the "
    "nightly `content-rescan` job rescans every post with the terms a new version adds. "
    "See docs/content-rescan.md.",
    no_args_is_help=True,
)


def _table(title: str, columns: list[str], rows: Sequence[Sequence[object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    Console().print(table)


@keywords_app.command("import")
def import_(
    file: Path | None = typer.Argument(
        None,
        help="The whole list, CSV in UTF-8 with the header term,category,match_mode,action "
        "(match_mode: word (default), phrase, prefix or anywhere; action: hold (default) or alert). "
        "Leave it out to import an allow-list alone.",
    ),
    allow_list: Path | None = typer.Option(
        None,
        "--allow-list",
        help="Allow-listed words, CSV with the header term[,match_mode]: a hit they overlap is no hit "
        "(a place name that contains a listed word). Replaces the allow-list; without it, the allow-list "
        "in force stays.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the files and say what would change."),
) -> None:
    """Import a keyword list: all or nothing. A bad file (empty or over-long term, duplicate, control
    character, unknown category, match mode or action, wrong encoding) is rejected whole, with every
    bad line named, and the version in force stays. An import that changes nothing creates no version."""
    from steward.errors import ConfigurationError
    from tasks.content.keywords import import_keyword_list
    from tasks.db import begin

    if file is None and allow_list is None:
        raise ConfigurationError("give a keyword list FILE, an --allow-list, or both")
    for path in (file, allow_list):
        if path is not None and not path.is_file():
            raise ConfigurationError(f"no such file: {path}")
    with begin() as conn:
        result = import_keyword_list(conn, file, allow_list, dry_run=dry_run)
    if not result.changed:
        typer.echo(
            f"no change: version {result.version} stays in force "
            f"({result.terms:,} terms, {result.allow_words:,} allow-listed words)"
        )
        return
    verb = "would become" if dry_run else "is now in force"
    typer.echo(
        f"version {result.version} {verb}: {result.added:,} added, {result.removed:,} removed; "
        f"{result.terms:,} terms, {result.allow_words:,} allow-listed words"
    )
    if not dry_run:
        typer.echo("the next content rescan scans every earlier post with the added terms")


@keywords_app.command("diff")
def diff(
    older: int = typer.Argument(..., help="A list version."),
    newer: int = typer.Argument(..., help="Another, usually later, list version."),
) -> None:
    """The terms (and allow-listed words) in force in NEWER but not OLDER, and the other way round."""
    from tasks.content.keywords import diff_versions
    from tasks.db import begin

    with begin() as conn:
        result = diff_versions(conn, older, newer)
    rows = [["+", t.term, t.category, t.match_mode, t.action] for t in result.added]
    rows += [["-", t.term, t.category, t.match_mode, t.action] for t in result.removed]
    if not rows:
        typer.echo(f"versions {older} and {newer} hold the same terms")
        return
    _table(
        f"version {older} -> {newer}: {len(result.added)} added, {len(result.removed)} removed",
        ["", "term", "category", "match mode", "action"],
        rows,
    )


@keywords_app.command("show")
def show(
    version: int | None = typer.Option(None, "--version", "-v", help="A list version (default: in force)."),
    category: str | None = typer.Option(None, "--category", "-c", help="Only this category."),
    terms: bool = typer.Option(False, "--terms", help="List every term, not only the counts."),
) -> None:
    """The versions imported, and the terms of one version: counts per category and action, or the terms."""
    from collections import Counter

    from tasks.content.keywords import current_version, list_versions, terms_in_version
    from tasks.db import begin

    with begin() as conn:
        versions = list_versions(conn)
        in_force = current_version(conn)
        wanted = version if version is not None else in_force
        listed = terms_in_version(conn, wanted) if wanted is not None else []
    if not versions:
        typer.echo("no keyword list imported yet: `steward keywords import FILE`")
        return
    _table(
        "keyword list versions",
        ["version", "imported (UTC)", "source", "terms", "added", "removed"],
        [
            [
                f"{v.version}{' (in force)' if v.version == in_force else ''}",
                v.created_at.strftime("%Y-%m-%d %H:%M"),
                v.source_name,
                v.term_count,
                v.added_count,
                v.removed_count,
            ]
            for v in versions
        ],
    )
    if category:
        listed = [t for t in listed if t.category == category]
    counts = Counter((t.category, t.action) for t in listed)
    _table(
        f"version {wanted}: terms per category",
        ["category", "action", "terms"],
        [[c, a, n] for (c, a), n in sorted(counts.items())],
    )
    if terms:
        _table(
            f"version {wanted}: terms",
            ["id", "term", "category", "match mode", "action"],
            [[t.id, t.term, t.category, t.match_mode, t.action] for t in listed],
        )


def register(app: typer.Typer) -> None:
    app.add_typer(keywords_app, name="keywords")

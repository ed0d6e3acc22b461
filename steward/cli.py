"""The `steward` command line. Command groups live in steward/commands/, one module per concern."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import steward
import steward.commands
from steward.errors import StewardError

app = typer.Typer(
    name="steward",
    help="steward runs the charity's data-protection operations: content rescans, bounce "
    "reconciliation, retention, funder statistics, subject access and erasure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(f"steward {steward.__version__}")
        raise typer.Exit()


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(steward.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"steward.commands.{module_info.name}")
        module.register(app)


def main() -> None:
    _register_commands()
    try:
        app()
    except StewardError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()

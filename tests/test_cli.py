"""The `steward` command line: help everywhere, `db init` idempotent, clear errors."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from steward.cli import _register_commands, app

_register_commands()
runner = CliRunner()


# typer 0.29 vendors its own click (typer._click): groups are recognised by their `commands`.
def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if getattr(command, "commands", None):
        for name, sub in command.commands.items():
            paths += _command_paths(sub, (*prefix, name))
    return paths


ALL_COMMANDS = _command_paths(typer.main.get_command(app))


def test_the_foundation_commands_exist() -> None:
    names = {" ".join(path) for path in ALL_COMMANDS}
    assert {"db init", "db counts", "run", "check", "demo-data"} <= names


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "steward")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    # the help says what the command does, not just its name
    command: Any = typer.main.get_command(app)
    for part in path:
        command = command.commands[part]
    assert (command.help or "").strip(), f"`steward {' '.join(path)}` has no help text"


def test_db_init_twice(sqlite_url: str) -> None:
    first = runner.invoke(app, ["db", "init"])
    second = runner.invoke(app, ["db", "init"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "up to date" in second.output


def test_run_lists_deployments_and_rejects_unknown_ones() -> None:
    listing = runner.invoke(app, ["run", "--list"])
    assert listing.exit_code == 0 and "nightly" in listing.output
    unknown = runner.invoke(app, ["run", "no-such-job"])
    assert unknown.exit_code != 0
    assert "no deployment named 'no-such-job'" in str(unknown.exception) + unknown.output


def test_run_prints_one_readable_line_per_job_and_points_at_waiting_plans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from steward.commands.run import print_result

    print_result(
        {
            "data_quality": {"tables": 19, "per_table": [{"table": "accounts"}], "warnings": 0},
            "retention": {"plan_id": 2, "approval": "stopped", "planned": {"due": 12311}},
        }
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  data_quality: tables=19, per_table=1 items, warnings=0"
    assert lines[1] == "  retention: plan_id=2, approval=stopped, planned.due=12311"
    assert "steward plans show 2" in lines[2] and "steward plans approve 2" in lines[2]

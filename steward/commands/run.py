"""`steward run NAME`: run a deployment of prefect.yaml here, in this process."""

from __future__ import annotations

import json
import time
from typing import Any

import typer

from steward.errors import ConfigurationError


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def run(
    name: str = typer.Argument(None, help="The deployment to run (see `steward run --list`)."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="Override a parameter: KEY=VALUE (VALUE as JSON when it parses)."
    ),
    list_: bool = typer.Option(False, "--list", "-l", help="List the deployments and exit."),
) -> None:
    """Run a job now, in this process, exactly as prefect.yaml deploys it.

    Without PREFECT_API_URL, Prefect starts a temporary local server for the run (about 8 s).
    Reports are written under the output folder (STEWARD_OUTPUT_DIR) as well as published as
    Prefect artifacts.
    """
    from steward.settings import get_settings
    from tasks.deployments import load_deployments

    deployments = load_deployments()
    if list_ or not name:
        width = max(len(n) for n in deployments)
        for deployment in deployments.values():
            typer.echo(f"{deployment.name:<{width}}  {deployment.description}")
        return
    if name not in deployments:
        raise ConfigurationError(
            f"no deployment named {name!r} in prefect.yaml; one of: {', '.join(deployments)}"
        )
    deployment = deployments[name]
    parameters = {**deployment.parameters, **_parse_params(param)}
    flow = deployment.load_flow()
    typer.echo(f"running {name} ({deployment.entrypoint})")
    started = time.monotonic()
    result = flow(**parameters)
    elapsed = time.monotonic() - started
    typer.echo(f"{name} finished in {elapsed:.1f} s")
    if isinstance(result, dict):
        for key, value in result.items():
            typer.echo(f"  {key}: {value}")
    output_dir = get_settings().output_dir
    typer.echo(f"reports and outputs: {output_dir}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)

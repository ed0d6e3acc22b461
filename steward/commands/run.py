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


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Scalars as they are, nested summaries one level down, lists as their length."""
    if isinstance(value, dict):
        if depth >= 2:
            return [(prefix, f"{len(value)} entries")] if prefix else []
        items: list[tuple[str, str]] = []
        for key, item in value.items():
            items += _flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
        return items
    if isinstance(value, list | tuple):
        return [(prefix, f"{len(value)} items")] if value else []
    if value is None:
        return []
    text = str(value)
    return [(prefix, text if len(text) <= 40 else text[:12] + "...")]


def _waiting_plans(result: Any) -> list[int]:
    """Plan ids a job stopped on, waiting for the DPO's approval."""
    if not isinstance(result, dict):
        return []
    waiting = [int(plan) for plan in result.get("waiting_plans") or [] if isinstance(plan, int)]
    if result.get("approval") == "stopped" and isinstance(result.get("plan_id"), int):
        waiting.append(result["plan_id"])
    return sorted(set(waiting))


def print_result(result: Any) -> None:
    """A line per job of a flow's result: what a person needs to see, no dictionaries dumped."""
    if not isinstance(result, dict):
        typer.echo(f"  result: {result}")
        return
    for job, value in result.items():
        pairs = _flatten(value) if isinstance(value, dict) else [("", str(value))]
        typer.echo(f"  {job}: " + ", ".join(f"{key}={text}" if key else text for key, text in pairs))
        for plan_id in _waiting_plans(value):
            typer.secho(
                f"    plan {plan_id} awaits the DPO's approval: `steward plans show {plan_id}`, "
                f"then `steward plans approve {plan_id} --by NAME`",
                fg=typer.colors.YELLOW,
            )


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
    print_result(result if isinstance(result, dict) else {name: result})
    output_dir = get_settings().output_dir
    typer.echo(f"outputs: {output_dir}")
    reports = sorted((output_dir / "reports").glob("*.md"))
    if reports:
        typer.echo("reports (the latest of each, also published as Prefect artifacts):")
        for report in reports:
            typer.echo(f"  {report}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)

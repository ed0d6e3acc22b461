"""The deployments of prefect.yaml, read so that `steward run NAME` runs exactly what is deployed."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from steward import PROJECT_ROOT
from steward.errors import ConfigurationError

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"


@dataclass(frozen=True)
class Deployment:
    name: str
    entrypoint: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def load_flow(self) -> Any:
        """Import the flow object named by the entrypoint (`flows/x.py:flow_name`)."""
        path, _, attribute = self.entrypoint.partition(":")
        module_name = Path(path).with_suffix("").as_posix().replace("/", ".")
        module = importlib.import_module(module_name)
        return getattr(module, attribute)


def load_deployments(path: Path = PREFECT_YAML) -> dict[str, Deployment]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"{path.name}: cannot be read ({error})") from error
    deployments: dict[str, Deployment] = {}
    for index, entry in enumerate(document.get("deployments") or []):
        try:
            deployments[entry["name"]] = Deployment(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=" ".join(str(entry.get("description", "")).split()),
                parameters=dict(entry.get("parameters") or {}),
                tags=tuple(entry.get("tags") or ()),
            )
        except (KeyError, TypeError) as error:
            raise ConfigurationError(f"{path.name}: deployments[{index}] lacks {error}") from error
    return deployments

"""steward: the charity's data-protection operations pipeline."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _configure_prefect_environment() -> None:
    # Prefect reads these at import time, so they are set before anything imports prefect.
    # A user's own values win; the defaults keep Prefect's state inside the project and
    # stop the telemetry call that fails (and logs an error) on a machine without network.
    os.environ.setdefault("PREFECT_HOME", str(PROJECT_ROOT / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # Task results are not persisted: tasks here may touch personal data (DESIGN.md).
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")


_configure_prefect_environment()

__version__ = "0.1.0"

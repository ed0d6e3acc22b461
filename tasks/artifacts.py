"""Keyed Prefect artifacts: each report keeps one key, so the UI shows its history run after run.

Artifacts are for the data team; they carry counts, dates, ids and rule names, never personal data.
Each report is also written to `<output_dir>/reports/<key>.md` (or `.json` for tables), so it can be
read after the run when Prefect's temporary local server is gone. Outside a flow run (a plain function
called from the CLI or a test) only the file is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from steward.settings import get_settings

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _in_flow_run() -> bool:
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValueError(f"artifact key {key!r} must be lowercase letters, digits and single dashes")


def report_path(key: str, suffix: str = ".md") -> Path:
    """Where the latest report published under `key` is written."""
    return get_settings().output_dir / "reports" / f"{key}{suffix}"


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)


def publish_markdown(key: str, markdown: str, description: str) -> Path:
    """Write the report to its file and, inside a flow run, publish it as the artifact `key`."""
    _check_key(key)
    path = report_path(key)
    _write(path, f"# {description}\n\n{markdown}\n")
    if _in_flow_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(key=key, markdown=markdown, description=description)
    return path


def publish_table(key: str, rows: Sequence[Mapping[str, Any]], description: str) -> Path:
    """Write the table to its file (JSON) and, inside a flow run, publish it as the artifact `key`."""
    _check_key(key)
    table = [dict(row) for row in rows]
    path = report_path(key, ".json")
    _write(path, json.dumps({"description": description, "rows": table}, indent=2, default=str))
    if _in_flow_run():
        from prefect.artifacts import create_table_artifact

        create_table_artifact(key=key, table=table, description=description)
    return path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-style markdown table (the Prefect UI renders it)."""
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

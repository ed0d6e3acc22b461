"""Progress reporting: domain functions take a callback; the CLI draws a bar, flows log milestones."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[int], None]
"""Called with the number of units just finished (rows, posts, subjects...)."""


def no_progress(_n: int) -> None:
    return None


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[ProgressCallback]:
    """A rich progress bar on a terminal (plain when output is not a terminal); yields the callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=False, disable=not sys.stderr.isatty()) as progress:
        task_id = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task_id, n)

        yield advance

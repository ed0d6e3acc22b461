"""Pausing Python's cyclic garbage collector around bulk work; handing freed memory back between phases.

A job that creates millions of small objects (rows, dicts, tuples) triggers a full collection again and
again, and each walks the whole heap: measured, a retention sweep spent a tenth of its time there. The
objects such loops make do not form cycles (reference counting frees them), so the collector is paused
for the loop and resumed after it, which collects whatever cycles did form.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nested uses are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_cyclic_gc(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function to run with the cyclic garbage collector paused (see cyclic_gc_paused)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with cyclic_gc_paused():
            return func(*args, **kwargs)

    return wrapper


def release_free_memory() -> None:
    """Collect garbage and hand the heap's free pages back to the system (glibc's malloc_trim; a no-op
    where the C library is not glibc).

    For a process that runs one bulk phase after another (a retention sweep checks a plan of millions of
    items, then applies it): memory the first phase freed stays resident in the C heap, between chunks
    still in use, and the next phase's peak is counted on top of it."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)

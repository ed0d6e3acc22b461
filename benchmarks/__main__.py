"""Run every benchmark (`python -m benchmarks`) or one (`python -m benchmarks demo_data`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

PREFIX = "bench_"


def available() -> list[str]:
    """The benchmark names (`bench_<name>.py` without the prefix), in name order."""
    here = str(Path(__file__).resolve().parent)
    return sorted(
        m.name.removeprefix(PREFIX) for m in pkgutil.iter_modules([here]) if m.name.startswith(PREFIX)
    )


def main(argv: list[str]) -> int:
    names = available()
    if argv:
        wanted = argv[0].removeprefix(PREFIX).removesuffix(".py")
        if wanted not in names:
            print(f"no benchmark named {argv[0]!r}; available: {', '.join(names) or 'none'}", file=sys.stderr)
            return 2
        names = [wanted]
    for name in names:
        print(f"== benchmark {name}", flush=True)
        importlib.import_module(f"benchmarks.{PREFIX}{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

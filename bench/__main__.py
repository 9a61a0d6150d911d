"""Run every benchmark: ``python -m bench`` (or ``make bench``).

Each ``bench/bench_*.py`` module has a ``main()`` that prints its own table.
``python -m bench svi nuts`` runs only the named ones.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [f"bench_{a}" if not a.startswith("bench_") else a for a in argv]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; available: {[n[6:] for n in names]}")
    for name in wanted or names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"({name} took {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

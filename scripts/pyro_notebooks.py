"""Run Pyro's own beginner notebooks on pplkit, with only the imports (and the data URL) changed.

Usage::

    PYRO_SRC=/path/to/pyro python scripts/pyro_notebooks.py [--no-baseline] [notebook ...]

Reads the notebooks from ``$PYRO_SRC/tutorial/source`` (a checkout of Pyro's repository;
nothing of it is copied into this repository), prepends one cell that makes
``import pyro`` give pplkit (``pyro_shim.py``: every ``pyro.x`` is ``pplkit.x``), points
the rugged-data URL at ``$PPLKIT_DATA_DIR``, drops the notebooks' pin on one Pyro
release (``assert pyro.__version__.startswith('1.9.1')``, which fails under Pyro 1.9.2
itself), and runs each notebook with nbclient in
Pyro's smoke mode (``CI`` set, as Pyro's own CI runs them). Prints one row per
notebook (code cells without error / code cells, and the first failure) and a closing
``N passed, M failed`` line.

With the baseline (the default when Pyro is installed), each notebook also runs under
Pyro itself and cells that fail there are not counted, so that the table measures
pplkit, not the drift between a notebook and today's torch.

Without ``PYRO_SRC`` it prints why and exits 0, so CI passes without a Pyro checkout.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent

NOTEBOOKS = [
    "intro_long",
    "intro_part_i",
    "intro_part_ii",
    "bayesian_regression_ii",
    "model_rendering",
    "tensor_shapes",
    "svi_part_i",
    "svi_part_iii",
    "bayesian_regression",
    "effect_handlers",
]

# Pyro's notebooks pin the exact Pyro release they were last run with; under any other
# release (Pyro 1.9.2 itself, or pplkit) the pin fails and takes the imports after it
# along, so both runs drop it. It is the one change besides imports and data URLs.
VERSION_PIN = re.compile(r"^(\s*)assert pyro\.__version__\.startswith\(.*\)\s*$", re.MULTILINE)

# Where Pyro's notebooks download the tutorial data from; pplkit's tests and CI read a local copy.
DATA_URLS = {"https://d2hg8soec8ck9v.cloudfront.net/datasets/rugged_data.csv": "rugged_data.csv"}

SHIM_CELL = """\
# Added by scripts/pyro_notebooks.py: `import pyro` gives pplkit from here on.
import sys
sys.path.insert(0, {scripts!r})
import pyro_shim
pyro_shim.install()
"""


@dataclass
class Result:
    """One notebook's run: code cells without error, code cells counted, and the first failure."""

    name: str
    ok: int
    total: int
    first_failure: str = ""
    fail_under_pyro: int = 0  # cells left out because Pyro itself fails them

    @property
    def passed(self) -> bool:
        return self.ok == self.total


def swap_data_urls(source: str, data_dir: str) -> str:
    """Replace each known data URL in a cell's source by the local file under ``data_dir``."""
    for url, filename in DATA_URLS.items():
        source = source.replace(url, os.path.join(data_dir, filename))
    return source


def drop_version_pin(source: str) -> str:
    """Replace ``assert pyro.__version__.startswith(...)`` by ``pass``, keeping the indentation."""
    return VERSION_PIN.sub(r"\1pass  # Pyro version pin dropped by scripts/pyro_notebooks.py", source)


def prepare(notebook: Any, data_dir: str, use_pplkit: bool = True) -> Any:
    """A copy of ``notebook`` whose code runs on pplkit: the shim cell first, local data URLs.

    The shim cell is tagged so that :func:`cell_errors` leaves it out of the counts.
    """
    import nbformat

    prepared = copy.deepcopy(notebook)
    for cell in prepared.cells:
        if cell.cell_type == "code":
            cell.source = drop_version_pin(swap_data_urls(cell.source, data_dir))
            cell.outputs = []
    if use_pplkit:
        shim = nbformat.v4.new_code_cell(SHIM_CELL.format(scripts=str(SCRIPTS)))
        shim.metadata["tags"] = ["pplkit-shim"]
        prepared.cells.insert(0, shim)
    return prepared


def cell_errors(executed: Any) -> list[str | None]:
    """Per code cell of the original notebook: None if it ran clean, else 'Error: message'."""
    errors: list[str | None] = []
    for cell in executed.cells:
        if cell.cell_type != "code" or "pplkit-shim" in cell.metadata.get("tags", []):
            continue
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None:
            errors.append(None)
        else:
            message = str(error.get("evalue", "")).strip().splitlines()
            errors.append(f"{error.get('ename', 'Error')}: {message[0] if message else ''}"[:160])
    return errors


def score(errors: list[str | None], baseline: list[str | None] | None, name: str) -> Result:
    """Count the cells, leaving out those that fail under Pyro itself when a baseline is given."""
    ok = total = left_out = 0
    first = ""
    for i, error in enumerate(errors):
        if baseline is not None and i < len(baseline) and baseline[i] is not None:
            left_out += 1  # fails under Pyro too: not pplkit's to fix
            continue
        total += 1
        if error is None:
            ok += 1
        elif not first:
            first = f"cell {i + 1}: {error}"
    return Result(name, ok, total, first, left_out)


def execute(notebook: Any, workdir: Path, timeout: int) -> Any:
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    return client.execute()


def format_table(results: list[Result]) -> str:
    lines = ["| notebook | cells ok / total | first failure | cells failing under Pyro too |", "|---|---|---|---|"]
    for r in results:
        failure = r.first_failure.replace("|", "/") or "-"
        lines.append(f"| {r.name} | {r.ok} / {r.total} | {failure} | {r.fail_under_pyro} |")
    passed = sum(r.passed for r in results)
    lines.append("")
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS, help="notebook names (default: the beginner set)")
    parser.add_argument("--no-baseline", action="store_true", help="do not run the notebooks under Pyro itself")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)

    pyro_src = os.environ.get("PYRO_SRC")
    if not pyro_src:
        print("PYRO_SRC is not set: skipping Pyro's notebooks (point it at a checkout of pyro-ppl/pyro to run them)")
        return 0
    source = Path(pyro_src) / "tutorial" / "source"
    if not source.is_dir():
        print(f"PYRO_SRC={pyro_src} has no tutorial/source folder: skipping Pyro's notebooks")
        return 0
    data_dir = os.environ.get("PPLKIT_DATA_DIR") or str(REPO.parent / "shared" / "data")

    import nbformat

    # The kernels inherit the environment: pplkit from this checkout, Pyro's smoke mode, one thread.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    os.environ["CI"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "agg")
    baseline = not args.no_baseline and importlib.util.find_spec("pyro") is not None

    results = []
    for name in args.notebooks:
        path = source / f"{name}.ipynb"
        if not path.is_file():
            results.append(Result(name, 0, 0, f"not found in {source}"))
            continue
        notebook = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as workdir:  # whatever a notebook writes stays out of both checkouts
            errors = cell_errors(execute(prepare(notebook, data_dir), Path(workdir), args.timeout))
            reference = None
            if baseline:
                reference = cell_errors(
                    execute(prepare(notebook, data_dir, use_pplkit=False), Path(workdir), args.timeout)
                )
        result = score(errors, reference, name)
        results.append(result)
        print(f"{name}: {result.ok} / {result.total} {result.first_failure}", file=sys.stderr, flush=True)
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

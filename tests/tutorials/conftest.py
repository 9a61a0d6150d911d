"""Executing the tutorials with nbclient, once per notebook per test session.

Each notebook runs top to bottom in a fresh python3 kernel, in ``tutorials/``, with
``CI=1`` (notebooks use it to take fewer steps), ``PPLKIT_DATA_DIR`` passed through and
one torch thread unless ``OMP_NUM_THREADS`` says otherwise.
A notebook may publish numbers for its tests in a dict named ``tutorial_results``; after
the last cell the runner prints it as JSON from the same kernel, so the tests check what
the notebook itself computed.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
CELL_TIMEOUT_S = 300
_RESULTS_MARKER = "pplkit-tutorial-results:"
_PROBE = f"""
import json as _json, resource as _resource
print({_RESULTS_MARKER!r} + _json.dumps({{
    "results": globals().get("tutorial_results"),
    "peak_memory_mb": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class ExecutedNotebook:
    name: str
    cells: list[Any]
    results: dict[str, Any] | None  # the notebook's ``tutorial_results``, if it defines one
    seconds: float
    metadata: dict[str, Any] | None = None  # the executed notebook's metadata, with the saved widget state
    peak_memory_mb: float = 0.0  # the kernel's peak resident memory


def execute_notebook(path: Path) -> ExecutedNotebook:
    """Run every cell of ``path`` (the file is not modified); raise on the first failing cell."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = dict(os.environ, CI="1")
    # One torch thread: on a busy CI machine two threads spin against other processes, which
    # made AutoMultivariateNormal's SVI steps 5-20x slower (2 ms -> 10-48 ms) when measured here.
    env.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    probe = notebook.cells.pop()
    printed = "".join(out.get("text", "") for out in probe.outputs if out.output_type == "stream")
    probed = json.loads(printed.split(_RESULTS_MARKER, 1)[1])
    return ExecutedNotebook(
        path.name, notebook.cells, probed["results"], seconds, dict(notebook.metadata), probed["peak_memory_mb"]
    )


@pytest.fixture(scope="session")
def run_tutorial() -> Callable[[str], ExecutedNotebook]:
    """``run_tutorial("01_introduction.ipynb")``: the executed notebook, run once per session."""
    from nbclient.exceptions import CellExecutionError

    done: dict[str, ExecutedNotebook | str] = {}

    def run(name: str) -> ExecutedNotebook:
        if name not in done:
            try:
                done[name] = execute_notebook(TUTORIALS / name)
            except CellExecutionError as error:
                done[name] = f"tutorials/{name} failed in a cell:\n{_ANSI.sub('', str(error))}"
        outcome = done[name]
        if isinstance(outcome, str):
            pytest.fail(outcome, pytrace=False)
        return outcome

    return run

"""Executing the tutorials with nbclient, once per notebook per test session, as a learner would.

The notebooks run through ``make lab``'s path: the repository's files are copied into a
throw-away git repository, ``make workspace`` seeds the learner's working copies there, and
each copy runs top to bottom in a fresh python3 kernel in that folder and is saved back with
its outputs, as JupyterLab's autosave would (so ``test_learner_leaves_git_status_clean`` can
check that ``git status`` stays clean). The kernel gets ``CI=1`` (notebooks use it to take
fewer steps), ``PPLKIT_DATA_DIR`` passed through and one torch thread unless
``OMP_NUM_THREADS`` says otherwise.

The tutorials publish nothing for the tests. After the last cell the runner evaluates the
notebook's probe from ``PROBES`` (a Python expression over the notebook's own variables) in
the same kernel, so the tests check what the notebook itself computed; with it come the
kernel's peak memory and CPU time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
CELL_TIMEOUT_S = 300

# What each tutorial's tests read from its kernel after the last cell: expressions over the
# notebook's variables. A tutorial that renames one of them must change its probe here.
PROBES = {
    "01_introduction.ipynb": """{
        "posterior": summary,
        "slopes": {"inside_africa": slope_inside.mean().item(), "outside_africa": slope_outside.mean().item()},
        "final_loss": {"AutoNormal": float(np.mean(losses[-100:])),
                       "AutoMultivariateNormal": float(np.mean(mvn_losses[-100:]))},
    }""",
    "02_live_svi.ipynb": """{
        "steps": len(controller.losses),
        "status": controller.chart.status,
        "final_loss": sum(controller.losses[-50:]) / 50,
        "slope_inside": float(slope_inside),
        "slope_outside": float(slope_outside),
    }""",
    "03_explore.ipynb": """{
        "guide": explorer.fitted.request.guide,
        "changes": explorer.toggles.describe(),
        "status": explorer.chart.status,
        "steps": explorer.chart.step,
        "a_under_narrow_prior": float(a_under_narrow_prior),
        "sigma_free_mean": float(sigma_free.mean()),
    }""",
}

_MARKER = "pplkit-tutorial-probe:"
# The kernel's peak memory is its VmHWM: ru_maxrss survives exec on Linux, so a kernel started
# by a large pytest process would report that process's size (seen: 1.3 GB for every tutorial).
_PROBE_CELL = """
import json as _json, resource as _resource
_usage = _resource.getrusage(_resource.RUSAGE_SELF)
try:
    _hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
    _peak_mb = int(_hwm[0].split()[1]) / 1024
except (OSError, IndexError):
    _peak_mb = _usage.ru_maxrss / 1024
print({marker!r} + _json.dumps({{
    "results": {probe},
    "peak_memory_mb": _peak_mb,
    "cpu_seconds": _usage.ru_utime + _usage.ru_stime,
}}))
"""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class ExecutedNotebook:
    name: str
    cells: list[Any]
    results: dict[str, Any] | None  # the value of the notebook's probe, if it has one
    seconds: float
    metadata: dict[str, Any] | None = None  # the executed notebook's metadata, with the saved widget state
    peak_memory_mb: float = 0.0  # the kernel's peak resident memory
    cpu_seconds: float = 0.0  # the kernel's user + system CPU time (its own threads, not its children)


def execute_notebook(path: Path, probe: str | None = None, save: bool = False) -> ExecutedNotebook:
    """Run every cell of ``path`` in its folder; raise on the first failing cell.

    With ``save`` the executed notebook (outputs and widget state, without the probe) is
    written back to ``path``, as JupyterLab's autosave would; otherwise the file is untouched.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE_CELL.format(marker=_MARKER, probe=probe or "None")))
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
    probe_cell = notebook.cells.pop()
    if save:
        nbformat.write(notebook, path)
    printed = "".join(out.get("text", "") for out in probe_cell.outputs if out.output_type == "stream")
    probed = json.loads(printed.split(_MARKER, 1)[1])
    return ExecutedNotebook(path.name, notebook.cells, probed["results"], seconds, dict(notebook.metadata),
                            probed["peak_memory_mb"], probed["cpu_seconds"])


def learner_checkout(destination: Path) -> Path:
    """A git repository holding this checkout's files (tracked and new, not ignored), committed, with
    ``make workspace`` run in it: what a learner has after cloning and starting ``make lab``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git = ["git", "-c", "user.name=learner", "-c", "user.email=learner@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *command], cwd=destination, check=True)
    subprocess.run(["make", "--no-print-directory", "-s", "workspace"], cwd=destination, check=True,
                   capture_output=True)
    return destination


@pytest.fixture(scope="session")
def learner_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The throw-away learner's repository; its ``workspace/`` is where the tutorials run."""
    return learner_checkout(tmp_path_factory.mktemp("learner"))


@pytest.fixture(scope="session")
def run_tutorial(learner_repo: Path) -> Callable[[str], ExecutedNotebook]:
    """``run_tutorial("01_introduction.ipynb")``: the executed notebook, run once per session."""
    from nbclient.exceptions import CellExecutionError

    done: dict[str, ExecutedNotebook | str] = {}

    def run(name: str) -> ExecutedNotebook:
        if name not in done:
            try:
                done[name] = execute_notebook(learner_repo / "workspace" / name, PROBES.get(name), save=True)
            except CellExecutionError as error:
                done[name] = f"tutorials/{name} failed in a cell:\n{_ANSI.sub('', str(error))}"
        outcome = done[name]
        if isinstance(outcome, str):
            pytest.fail(outcome, pytrace=False)
        return outcome

    return run

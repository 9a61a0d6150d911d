"""Every tutorial runs top to bottom, names its kernel, and leaves a learner's `git status` clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"

NOTEBOOKS = sorted(path.name for path in TUTORIALS.glob("*.ipynb"))
MEMORY_LIMIT_MB = 1024
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, run_tutorial):
    executed = run_tutorial(name)
    assert any(cell.cell_type == "code" for cell in executed.cells)
    # Binder gives a learner about 2 GB; a tutorial's kernel must stay well inside it.
    assert executed.peak_memory_mb < MEMORY_LIMIT_MB, f"{name}: kernel peaked at {executed.peak_memory_mb:.0f} MB"
    print(f"{name}: {executed.seconds:.0f} s, kernel peak memory {executed.peak_memory_mb:.0f} MB")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_names_its_kernel(name):
    # Its outputs are committed for readers (see tests/scripts/test_render_tutorials.py); learners
    # get copies without them (scripts/workspace.py).
    notebook = json.loads((TUTORIALS / name).read_text())
    # Without a kernelspec JupyterLab and Binder ask the learner to pick a kernel.
    assert notebook["metadata"].get("kernelspec") == KERNELSPEC, f"{name}: set the kernelspec to {KERNELSPEC}"


@pytest.mark.notebook
@pytest.mark.slow
def test_learner_leaves_git_status_clean(learner_repo, run_tutorial):
    """Every tutorial run through `make lab`'s path, saved with its outputs: git sees nothing to commit."""
    import subprocess

    for name in NOTEBOOKS:
        run_tutorial(name)
    saved = json.loads((learner_repo / "workspace" / NOTEBOOKS[0]).read_text())
    assert any(cell.get("outputs") for cell in saved["cells"]), "the learner's copy was not saved with its outputs"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=learner_repo,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", f"running the tutorials left changes for git:\n{status}"


def test_demo_dashboard_is_committed_clean():
    dashboard = json.loads((TUTORIALS.parent / "demo" / "dashboard.ipynb").read_text())
    assert dashboard["metadata"].get("kernelspec") == KERNELSPEC
    assert all(not c.get("outputs") for c in dashboard["cells"] if c["cell_type"] == "code")

"""`make lab` opens copies of the tutorials in workspace/, seeded without ever losing a learner's edits."""

from __future__ import annotations

import doctest
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("workspace_script", ROOT / "scripts" / "workspace.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


workspace = load_script()


@pytest.fixture
def folders(tmp_path):
    source, dest = tmp_path / "tutorials", tmp_path / "workspace"
    source.mkdir()
    (source / "01.ipynb").write_text("v1")
    (source / "02.ipynb").write_text("two")
    return source, dest


def test_first_run_copies_every_tutorial(folders):
    source, dest = folders
    assert workspace.seed(source, dest) == ["added 01.ipynb", "added 02.ipynb"]
    assert (dest / "01.ipynb").read_text() == "v1" and (dest / "02.ipynb").read_text() == "two"
    assert workspace.seed(source, dest) == []  # nothing new: nothing to say


def test_learner_edits_survive_a_second_run(folders):
    source, dest = folders
    workspace.seed(source, dest)
    (dest / "01.ipynb").write_text("v1 with the learner's outputs")
    assert workspace.seed(source, dest) == []
    assert (dest / "01.ipynb").read_text() == "v1 with the learner's outputs"


def test_upstream_change_updates_an_untouched_copy(folders):
    source, dest = folders
    workspace.seed(source, dest)
    (source / "01.ipynb").write_text("v2")
    (source / "03.ipynb").write_text("new")
    assert workspace.seed(source, dest) == ["updated 01.ipynb", "added 03.ipynb"]
    assert (dest / "01.ipynb").read_text() == "v2"


def test_upstream_change_keeps_an_edited_copy_and_says_how_to_update(folders):
    source, dest = folders
    workspace.seed(source, dest)
    (dest / "01.ipynb").write_text("learner's work")
    (source / "01.ipynb").write_text("v2")
    (line,) = workspace.seed(source, dest)
    assert line.startswith("kept your") and "rename or delete your copy" in line
    assert (dest / "01.ipynb").read_text() == "learner's work"
    assert workspace.seed(source, dest) == [line]  # said again until the learner decides


def test_make_lab_serves_the_workspace_and_git_ignores_it():
    makefile = (ROOT / "Makefile").read_text()
    assert "--notebook-dir $(WORKSPACE)" in makefile and "WORKSPACE ?= workspace" in makefile
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "scripts/workspace.py tutorials workspace" in dry
    ignored = subprocess.run(["git", "check-ignore", "-q", "workspace/01_introduction.ipynb"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, "workspace/ must be gitignored"


def rendered(source: Path, outputs: list[dict]) -> None:
    """A tutorial as `make tutorials` saves it: outputs, execution counts and a render stamp."""
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": outputs, "source": "1 + 1"}
    notebook = {"cells": [cell], "metadata": {workspace.RENDER_STAMP: {"inputs": "..."}},
                "nbformat": 4, "nbformat_minor": 5}
    (source / "01.ipynb").write_text(json.dumps(notebook))


def test_learners_get_the_tutorials_without_their_rendered_outputs(folders):
    source, dest = folders
    rendered(source, [{"output_type": "execute_result", "data": {"text/plain": "2"}}])
    workspace.seed(source, dest)
    copy = json.loads((dest / "01.ipynb").read_text())
    assert copy["cells"][0]["outputs"] == [] and copy["cells"][0]["execution_count"] is None
    assert workspace.RENDER_STAMP not in copy["metadata"] and copy["cells"][0]["source"] == "1 + 1"


def test_a_new_render_of_the_same_cells_is_no_change_for_the_learner(folders):
    source, dest = folders
    rendered(source, [{"output_type": "execute_result", "data": {"text/plain": "2"}}])
    workspace.seed(source, dest)
    (dest / "01.ipynb").write_text("the learner's run")
    rendered(source, [{"output_type": "execute_result", "data": {"text/plain": "2.0"}}])
    assert workspace.seed(source, dest) == []  # no "kept your copy" line for new pictures only


def test_the_committed_tutorials_reach_learners_as_they_were_before_they_had_outputs():
    for tutorial in sorted((ROOT / "tutorials").glob("*.ipynb")):
        copy = json.loads(workspace.learner_copy(tutorial))
        original = json.loads(tutorial.read_text())
        assert [c["source"] for c in copy["cells"]] == [c["source"] for c in original["cells"]]
        assert not any(c.get("outputs") for c in copy["cells"]), tutorial.name


def test_the_scripts_examples_run():
    result = doctest.testmod(workspace)
    assert result.attempted > 0 and result.failed == 0

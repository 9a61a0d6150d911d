"""The committed tutorials carry fresh outputs a reader can see without running them.

``make tutorials`` (``scripts/render_tutorials.py``) saves every tutorial with its outputs:
static pictures for the widgets, no widget views or state, and a stamp of what the outputs
were made from. These tests read the committed files; the first two fail as soon as a
tutorial's cells or pplkit's sources change without a new render.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("render_tutorials", ROOT / "scripts" / "render_tutorials.py")
assert _spec is not None and _spec.loader is not None
render_tutorials = importlib.util.module_from_spec(_spec)
sys.modules["render_tutorials"] = render_tutorials
_spec.loader.exec_module(render_tutorials)

NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]
RERENDER = "run `make tutorials` and commit the notebooks"
MAX_OUTPUT_BYTES = 3 * 1024 * 1024
# Code that shows a widget (or a frozen picture of one): its cell must show a picture.
SHOWS_A_WIDGET = re.compile(r"\bdisplay\(|\bwidgets\.(?:live_svi|model_view|explore|train)\(|\.freeze\(")


def committed(name: str) -> dict:
    return json.loads((ROOT / "tutorials" / name).read_text(encoding="utf-8"))


def outputs(notebook: dict) -> list[tuple[int, dict]]:
    return [(i, o) for i, cell in enumerate(notebook["cells"]) for o in cell.get("outputs", [])]


@pytest.mark.parametrize("name", NAMES)
def test_outputs_were_rendered_from_the_cells_as_committed(name):
    notebook = committed(name)
    assert render_tutorials.STAMP in notebook["metadata"], f"{name} has no rendered outputs: {RERENDER}"
    assert notebook["metadata"][render_tutorials.STAMP]["inputs"] == render_tutorials.inputs_hash(notebook), (
        f"{name}: its cells changed since its outputs were rendered: {RERENDER}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_outputs_were_rendered_from_the_current_pplkit_and_widgets(name):
    stamp = committed(name)["metadata"].get(render_tutorials.STAMP, {})
    assert stamp.get("sources") == render_tutorials.sources_hash(), (
        f"{name}: pplkit's or the widgets' Python sources changed since its outputs were rendered: {RERENDER}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_ran_in_order_without_errors(name):
    nbformat.validate(nbformat.reads(json.dumps(committed(name)), as_version=4))
    code = [cell for cell in committed(name)["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    errors = [o for _, o in outputs(committed(name)) if o["output_type"] == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"


@pytest.mark.parametrize("name", NAMES)
def test_every_widget_output_is_a_static_picture_without_widget_state(name):
    notebook = committed(name)
    assert "widgets" not in notebook["metadata"], f"{name} stores widget state: viewers would show blank views"
    for index, output in outputs(notebook):
        data = output.get("data", {})
        assert render_tutorials.WIDGET_VIEW not in data, f"{name}, cell {index}: a widget view was committed"
        if output["output_type"] == "display_data":
            # A widget that lost its view without a picture beside it leaves only its text repr.
            assert {"image/svg+xml", "image/png", "text/html"} & data.keys(), (
                f"{name}, cell {index}: a displayed output with nothing to see: {data.get('text/plain')!r}"
            )
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code" and SHOWS_A_WIDGET.search("".join(cell["source"])):
            pictures = [o["data"]["image/svg+xml"] for o in cell["outputs"] if "image/svg+xml" in o.get("data", {})]
            assert pictures and all("<svg" in "".join(p) for p in pictures), f"{name}, cell {index}: no picture"


def test_the_outputs_stay_small():
    total = sum(len(json.dumps(o)) for path in NOTEBOOKS for _, o in outputs(committed(path.name)))
    assert total < MAX_OUTPUT_BYTES, f"the tutorials' outputs take {total / 1e6:.1f} MB"


# -- the script's own logic --------------------------------------------------------------------


def widget_output(**data: object) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={render_tutorials.WIDGET_VIEW: {"model_id": "m"}, **data})


def test_a_widget_keeps_its_picture_and_loses_its_view_and_state():
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    cell = nbformat.v4.new_code_cell("chart", outputs=[
        widget_output(**{"image/svg+xml": "<svg/>", "text/plain": "<ElboChart object at 0x7f00ab>"})])
    notebook.cells.append(cell)
    render_tutorials.keep_static_pictures(notebook, "a.ipynb")
    assert "widgets" not in notebook.metadata
    assert cell.outputs[0].data == {"image/svg+xml": "<svg/>", "text/plain": "<ElboChart object>"}


def test_a_progress_bar_is_dropped():
    notebook = nbformat.v4.new_notebook()
    bar = widget_output(**{"text/plain": "Warmup:   0%|          | 0/1500 [00:00<?, ?it/s]"})
    printed = nbformat.v4.new_output("stream", text="summary")
    notebook.cells.append(nbformat.v4.new_code_cell("mcmc.run()", outputs=[bar, printed]))
    render_tutorials.keep_static_pictures(notebook, "a.ipynb")
    assert notebook.cells[0].outputs == [printed]


def test_a_widget_without_a_picture_stops_the_render_and_names_its_cell():
    notebook = nbformat.v4.new_notebook()
    notebook.cells += [nbformat.v4.new_markdown_cell("text"),
                       nbformat.v4.new_code_cell("bar", outputs=[widget_output(**{"text/plain": "Warmup: 0%"})])]
    with pytest.raises(RuntimeError, match=r"a\.ipynb, cell 1: a widget output with no static picture"):
        render_tutorials.keep_static_pictures(notebook, "a.ipynb")
    assert "outputs" not in notebook.cells[0]  # a markdown cell has none, and gets none
    nbformat.validate(notebook)


def test_a_changed_cell_or_source_makes_the_outputs_stale(tmp_path):
    (tmp_path / "pplkit").mkdir()
    (tmp_path / "widgets").mkdir()
    (tmp_path / "pplkit" / "core.py").write_text("x = 1\n")
    notebook = {"cells": [{"cell_type": "code", "source": ["a = 1\n", "a"], "outputs": []}], "metadata": {}}
    assert render_tutorials.stale_reasons(notebook, tmp_path) == ["it was never rendered"]
    notebook["metadata"][render_tutorials.STAMP] = {"inputs": render_tutorials.inputs_hash(notebook),
                                                    "sources": render_tutorials.sources_hash(tmp_path)}
    assert render_tutorials.stale_reasons(notebook, tmp_path) == []
    notebook["cells"][0]["source"] = "a = 2"
    (tmp_path / "widgets" / "chart.py").write_text("y = 2\n")
    assert render_tutorials.stale_reasons(notebook, tmp_path) == [
        "its cells changed since it was rendered",
        "pplkit's or the widgets' sources changed since it was rendered",
    ]


def test_the_scripts_examples_run():
    result = doctest.testmod(render_tutorials)
    assert result.attempted > 0 and result.failed == 0

"""Blocking by default only where no one could click, and the static picture in the mime bundle."""

from __future__ import annotations

import pytest

from widgets.plots.display import default_blocking, in_kernel
from widgets.training.elbo_chart import ElboChart


def test_outside_a_kernel_training_blocks(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not in_kernel()
    assert default_blocking()


@pytest.mark.parametrize("value, blocking", [("1", True), ("true", True), ("0", False), ("false", False)])
def test_ci_variable_decides_inside_a_kernel(monkeypatch, value, blocking):
    monkeypatch.setattr("widgets.plots.display.in_kernel", lambda: True)
    monkeypatch.setenv("CI", value)
    assert default_blocking() is blocking


@pytest.mark.parametrize("value, blocking", [("1", True), ("0", False), ("", False)])
def test_pplkit_widgets_blocking_asks_for_blocking_without_ci(monkeypatch, value, blocking):
    # scripts/render_tutorials.py: the tutorials' own settings (no CI), each fit finished in its cell
    monkeypatch.setattr("widgets.plots.display.in_kernel", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PPLKIT_WIDGETS_BLOCKING", value)
    assert default_blocking() is blocking


def test_only_a_displayed_widget_refreshes_its_picture(monkeypatch):
    monkeypatch.setattr("widgets.plots.display.in_kernel", lambda: True)
    monkeypatch.setattr("widgets.plots.display._current_request_id", lambda: "cell-1")
    shown, updated = [], []
    monkeypatch.setattr("IPython.display.display", lambda data, **kwargs: shown.append(kwargs["display_id"]))
    monkeypatch.setattr("IPython.display.update_display",
                        lambda data, **kwargs: updated.append((kwargs["display_id"], data["image/svg+xml"])))
    chart = ElboChart()
    chart.refresh_static_picture()  # never displayed: there is no output to replace
    assert updated == []
    chart._ipython_display_()
    chart.step = 7
    chart.refresh_static_picture()
    assert [display_id for display_id, _ in updated] == shown  # the output it was shown in
    assert "step 7" in updated[0][1]  # with the picture as it is now


def test_a_closed_widget_shows_nothing(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append(a))
    chart = ElboChart()
    chart.close()
    chart._ipython_display_()
    chart.refresh_static_picture()
    assert shown == []


def test_a_widget_shown_by_a_function_is_not_shown_again_by_the_same_cell(monkeypatch):
    published = []
    monkeypatch.setattr("IPython.display.display", lambda data, **kwargs: published.append(kwargs["display_id"]))
    request = ["cell-1"]
    monkeypatch.setattr("widgets.plots.display._current_request_id", lambda: request[0])
    chart = ElboChart()
    chart._ipython_display_()  # widgets.live_svi(...) shows it
    chart._ipython_display_()  # ...and returns it as the cell's value
    request[0] = "cell-2"
    chart._ipython_display_()  # a later cell may show it again
    assert len(published) == 2 and published[0] == published[1] == chart._display_id


def test_static_only_keeps_the_pictures_and_drops_widget_state_and_views():
    import nbformat

    from widgets.export import WIDGET_VIEW, static_only

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    with_picture = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "m"},
                                                                "image/svg+xml": "<svg/>", "text/plain": "chart"})
    view_only = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "n"}})
    nb.cells.append(nbformat.v4.new_code_cell("chart", outputs=[with_picture, view_only]))
    static_only(nb)
    assert "widgets" not in nb.metadata
    assert set(nb.cells[0].outputs[0]["data"]) == {"image/svg+xml", "text/plain"}
    assert WIDGET_VIEW in nb.cells[0].outputs[1]["data"]  # nothing else to show: left as it was

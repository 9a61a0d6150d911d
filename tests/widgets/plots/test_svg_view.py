"""SvgView: a click in the browser selects a target, validated in Python."""

from __future__ import annotations

import pytest
import traitlets

from widgets.plots.svg_view import SvgView


def browser_sets(widget, **state):
    """Exactly what the kernel does when the browser changes a synced trait."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
                        "buffers": []})


def test_a_click_from_the_browser_runs_observers():
    view = SvgView(svg="<svg/>", targets={"node:a": "a", "node:b": "b"})
    seen = []
    view.observe(lambda change: seen.append(change["new"]), names=["selected"])
    browser_sets(view, selected="b")
    assert view.selected == "b" and seen == ["b"]


def test_selecting_something_that_is_not_a_target_is_refused():
    view = SvgView(targets={"node:a": "a"})
    with pytest.raises(traitlets.TraitError, match="not one of the clickable names"):
        view.selected = "zzz"
    view.selected = ""  # nothing selected is always fine


def test_static_picture_is_the_svg_itself(comms):
    view = SvgView(svg='<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    data, _ = view._repr_mimebundle_()
    assert data["image/svg+xml"] == view.svg
    assert "application/vnd.jupyter.widget-view+json" in data

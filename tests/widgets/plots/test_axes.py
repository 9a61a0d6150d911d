"""widgets.plots.axes: the one description of a chart's axes that both the static SVG and the browser draw."""

from __future__ import annotations

import json
import math
import random

import pytest

from widgets.plots.axes import YAxis, describe_panel, off_scale_points, x_axis, y_fraction


def descent(steps=800, seed=0):
    rng = random.Random(seed)
    return [250 + 450 * 0.97 ** t + rng.gauss(0, 1.5) for t in range(steps)]


def test_an_x_axis_has_round_ticks_and_their_labels():
    assert x_axis(0.0, 800.0) == {"lo": 0.0, "hi": 800.0, "ticks": [0.0, 200.0, 400.0, 600.0, 800.0],
                                  "labels": ["0", "200", "400", "600", "800"]}


@pytest.mark.parametrize("scale", ["symlog", "linear", "zoom"])
def test_the_description_places_every_value_where_the_axis_does(scale):
    losses = descent()
    axis = YAxis(losses, scale)
    described = json.loads(json.dumps(axis.describe(), allow_nan=False))  # what reaches the browser
    assert all(math.isclose(y_fraction(described, v), axis.fraction(v), abs_tol=1e-12) for v in losses)
    assert off_scale_points(described, losses) == axis.off_scale
    assert (axis.off_scale != []) == (scale == "zoom")


def test_labels_are_the_ticks_printed_to_five_figures_and_never_repeat():
    described = YAxis([1234.5, 1234.6, 1234.4] * 10, "linear").describe()
    assert described["labels"] == [f"{t:.5g}" for t in described["ticks"]]
    assert len(set(described["labels"])) == len(described["labels"]) >= 3


@pytest.mark.parametrize("values", [[5.0] * 30, [], [math.nan, 1e6, math.inf]], ids=["flat", "empty", "one value"])
def test_a_degenerate_curve_still_gets_three_distinct_labels(values):
    described = YAxis(values, "symlog").describe()
    assert described["transform"] == "linear"
    assert len(set(described["labels"])) == len(described["labels"]) >= 3


def test_zoom_notes_the_points_it_marks():
    losses = descent()
    panel = describe_panel("loss", "loss", losses, (0.0, 800.0), "zoom")
    marked = off_scale_points(panel["y"], losses)
    assert panel["title"] == "loss (zoom)" and 0 < len(marked) <= 80
    assert panel["y"]["note"].startswith(f"▲ {len(marked)} points above ")

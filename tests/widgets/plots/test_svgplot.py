"""The SVG plotter: tick values, limits, and well-formed documents."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from widgets.plots.svgplot import SvgFigure, format_tick, limits, nice_ticks, readable_ticks, stack_svgs


@pytest.mark.parametrize(
    "lo, hi, expected",
    [
        (0.0, 9.3, [0.0, 2.0, 4.0, 6.0, 8.0]),
        (-1.8, 0.3, [-1.5, -1.0, -0.5, 0.0]),
        (248.0, 252.5, [248.0, 249.0, 250.0, 251.0, 252.0]),
        (0.0012, 0.0021, [0.0012, 0.0014, 0.0016, 0.0018, 0.002]),
    ],
)
def test_nice_ticks(lo, hi, expected):
    assert nice_ticks(lo, hi, 5) == pytest.approx(expected)


def test_nice_ticks_degenerate_ranges():
    assert nice_ticks(3.0, 3.0) == [3.0]
    assert nice_ticks(math.nan, 1.0) == []


def test_limits_ignore_nonfinite_and_pad():
    assert limits([1.0, math.inf, 3.0, math.nan], pad=0.5) == (0.0, 4.0)
    assert limits([]) == (0.0, 1.0)
    lo, hi = limits([2.0, 2.0])
    assert lo < 2.0 < hi


def test_figure_is_well_formed_svg_with_escaped_text():
    fig = SvgFigure(300, 160)
    ax = fig.axes((40, 15, 250, 115), xs=[0, 1, 2], ys=[0, 1, 4]).frame(xlabel="x <a & b>", title="t")
    ax.line([0, 1, 2], [0, 1, 4], "#1f77b4")
    ax.scatter([0, 1], [0, 1], "#222")
    ax.band([0, 1, 2], [0, 0, 1], [1, 2, 5], "#999")
    ax.vline(1.0, "#e8710a")
    ax.legend([("prior", "#999"), ("posterior", "#1f77b4")])
    root = ET.fromstring(fig.to_svg())
    assert root.tag.endswith("svg") and root.get("width") == "300"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "x <a & b>" in texts and "posterior" in texts


def test_points_map_data_to_the_box_and_clip_at_the_top():
    fig = SvgFigure(100, 100)
    ax = fig.axes((0, 0, 100, 100), xlim=(0, 10), ylim=(0, 10))
    assert (ax.px(5), ax.py(5)) == (50.0, 50.0)
    assert ax.py(1e6) == 0.0  # a huge early loss sits on the top edge


def test_stack_svgs_reads_pixel_and_point_sizes():
    a = SvgFigure(200, 100).to_svg()
    b = '<svg width="150pt" height="75pt" xmlns="http://www.w3.org/2000/svg"></svg>'
    root = ET.fromstring(stack_svgs([a, b]))
    assert float(root.get("width")) == 200.0
    assert float(root.get("height")) == pytest.approx(100 + 8 + 100 + 8)


@pytest.mark.parametrize("lo, hi", [(0.0, 0.9), (0.0, 1.08e-12), (998.0, 1002.0), (-2e-4, 2e-4), (0.0, 5.4)])
def test_readable_ticks_give_at_least_three_distinct_labels(lo, hi):
    ticks = readable_ticks(lo, hi, 3)
    labels = [format_tick(t) for t in ticks]
    assert len(set(labels)) == len(labels) >= 3 and all(lo <= t <= hi for t in ticks)

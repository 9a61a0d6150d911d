"""The ELBO chart's browser view and its static SVG draw the same axes: one description, two pictures.

The view (elbo_chart.js) is loaded into a blank chromium page with a stand-in for the
widget model that holds a finished chart's traits, as a reloaded notebook would. No
Jupyter server is needed: this checks the drawing, not the transport.
"""

from __future__ import annotations

import math
import random
import re
from array import array
from pathlib import Path

import pytest

import widgets.training.elbo_chart
from widgets.training.elbo_chart import ElboChart

pytestmark = [pytest.mark.browser]

VIEW = (Path(widgets.training.elbo_chart.__file__).parent / "elbo_chart.js").read_text()

RENDER = """async ([source, state]) => {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const view = (await import(url)).default;
  const buffer = (values) => new Float64Array(values).buffer;
  const traits = { ...state };
  for (const name of ["curve_steps", "curve_elapsed", "curve_loss", "curve_smoothed"]) {
    traits[name] = buffer(state[name]);
  }
  traits.curve_terms = Object.fromEntries(Object.entries(state.curve_terms).map(([k, v]) => [k, buffer(v)]));
  const model = { get: (name) => traits[name], set() {}, save_changes() {}, on() {}, off() {}, send() {} };
  const root = document.createElement("div");
  document.body.appendChild(root);
  view.render({ model, el: root });
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  // Each panel's tick labels, with each y tick's height as a fraction of its frame.
  return [...root.querySelectorAll("g.pk-panel")].map((panel) => {
    const frame = panel.querySelector("rect.pk-frame");
    const top = Number(frame.getAttribute("y")), height = Number(frame.getAttribute("height"));
    const ticks = [...panel.querySelectorAll("text.pk-tick")];
    return {
      title: panel.querySelector(".pk-panel-title").textContent,
      y: ticks.filter((t) => t.getAttribute("text-anchor") === "end")
        .map((t) => [t.textContent, (top + height - (Number(t.getAttribute("y")) - 4)) / height]),
      x: ticks.filter((t) => t.getAttribute("text-anchor") === "middle").map((t) => t.textContent),
      marks: Number(panel.querySelector("g.pk-off-scale").getAttribute("data-n")),
      note: panel.querySelector(".pk-off-note").textContent,
    };
  });
}"""


class Record:
    def __init__(self, step, loss, elapsed, terms=None):
        self.step, self.loss, self.elapsed, self.terms = step, loss, elapsed, terms


def finished_chart(y_scale: str) -> ElboChart:
    rng = random.Random(1)
    chart = ElboChart(y_scale=y_scale)
    for step in range(1, 801):
        loss = 250 + 450 * 0.97 ** step + rng.gauss(0, 1.5)
        chart(Record(step, loss, step * 1e-3, {"log_likelihood": -loss + 10, "kl": 10 + 5 * (1 - 0.99 ** step)}))
    chart.finish("done")
    return chart


def static_panels(svg: str) -> list[dict[str, object]]:
    """The static picture's panels: title, y tick labels with their heights in the frame, x tick labels."""
    panels = []
    for rect in re.finditer(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"', svg):
        left, top, height = float(rect[1]), float(rect[2]), float(rect[4])
        end = svg.find("<rect", rect.end())
        body = svg[rect.end(): end if end > 0 else len(svg)]
        texts = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]*)</text>', body)
        y_ticks = [(label, (top + height - (float(y) - 4)) / height) for x, y, anchor, label in texts
                   if anchor == "end" and float(x) == left - 5]
        x_ticks = [label for x, y, anchor, label in texts if anchor == "middle" and float(y) == top + height + 15]
        title = next(label for x, y, anchor, label in texts if float(y) == top - 6)
        panels.append({"title": title, "y": y_ticks, "x": x_ticks})
    return panels


def curve_state(chart: ElboChart) -> dict[str, object]:
    floats = lambda raw: list(array("d", raw))  # noqa: E731
    return {
        "title": chart.title, "status": chart.status, "message": "", "verdict": "", "converged": None,
        "step": chart.step, "total_steps": chart.total_steps, "loss": chart.loss,
        "smoothed_loss": chart.smoothed_loss, "steps_per_second": chart.steps_per_second, "bucket_size": 1,
        "smoothing": chart.smoothing, "y_scale": chart.y_scale, "x_axis": chart.x_axis, "axes": chart.axes,
        "curve_steps": floats(chart.curve_steps), "curve_elapsed": floats(chart.curve_elapsed),
        "curve_loss": floats(chart.curve_loss), "curve_smoothed": floats(chart.curve_smoothed),
        "curve_terms": {name: floats(raw) for name, raw in chart.curve_terms.items()},
    }


@pytest.mark.parametrize("y_scale", ["symlog", "linear", "zoom"])
def test_the_view_draws_the_axes_of_the_static_picture(page, y_scale):
    chart = finished_chart(y_scale)
    drawn = page.evaluate(RENDER, [VIEW, curve_state(chart)])
    static = static_panels(chart.static_svg())
    assert [p["title"] for p in drawn] == [p["title"] for p in static] == [
        p["title"] for p in chart.axes["panels"]]
    for view_panel, svg_panel, described in zip(drawn, static, chart.axes["panels"]):
        assert [label for label, _ in view_panel["y"]] == [label for label, _ in svg_panel["y"]] \
            == described["y"]["labels"]
        assert len(described["y"]["labels"]) >= 3
        for (_, in_view), (_, in_svg) in zip(view_panel["y"], svg_panel["y"]):
            assert math.isclose(in_view, in_svg, abs_tol=0.01)  # each tick at the same height of its frame
        assert view_panel["x"] == svg_panel["x"] == described["x"]["labels"]
    marks = drawn[0]["marks"]
    assert (marks > 0) == (y_scale == "zoom")
    if marks:
        assert drawn[0]["note"] == chart.axes["panels"][0]["y"]["note"] == f"▲ {marks} points above " \
            + chart.axes["panels"][0]["y"]["note"].rsplit(" ", 1)[1]
        assert chart.axes["panels"][0]["y"]["note"] in chart.static_svg()

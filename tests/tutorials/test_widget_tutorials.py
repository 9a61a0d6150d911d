"""The widget tutorials, executed with nbclient: their numbers and the widget state saved in them.

A notebook saved after a run keeps every widget's state in its metadata; these tests read
that state as a learner's JupyterLab (or nbviewer) would find it, and check the static
pictures saved beside each widget view.
"""

from __future__ import annotations

import base64
import html
import re
from array import array
from typing import Any

import pytest

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHART = "widgets.training.elbo_chart.ElboChart"


def saved_state(executed) -> dict[str, Any]:
    """model id -> {"model_name", "state", "buffers"?} from the notebook's metadata."""
    return executed.metadata["widgets"][WIDGET_STATE]["state"]


def models(state: dict[str, Any], model_name: str, **matching: Any) -> list[dict[str, Any]]:
    found = [m for m in state.values() if m["model_name"] == model_name]
    return [m for m in found if all(m["state"].get(k) == v for k, v in matching.items())]


def saved_floats(model: dict[str, Any], trait: str) -> list[float]:
    """A float64 curve the widget sent as bytes, decoded from the saved buffers."""
    buffer = next(b for b in model.get("buffers", []) if b["path"] == [trait])
    return array("d", base64.b64decode(buffer["data"])).tolist()


def outputs_with_view(executed) -> list[dict[str, Any]]:
    return [o for cell in executed.cells for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]


def check_views_and_pictures(executed, state: dict[str, Any]) -> None:
    views = outputs_with_view(executed)
    assert views, "no widget was displayed"
    for output in views:
        assert output["data"][WIDGET_VIEW]["model_id"] in state  # the view's model was saved
        assert output["data"]["image/svg+xml"].startswith("<svg")  # and a static picture beside it


def saved_term(model: dict[str, Any], name: str) -> list[float]:
    buffer = next(b for b in model.get("buffers", []) if b["path"] == ["curve_terms", name])
    return array("d", base64.b64decode(buffer["data"])).tolist()


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.mark.notebook
@pytest.mark.slow
def test_live_svi_tutorial(run_tutorial):
    executed = run_tutorial("02_live_svi.ipynb")
    results = executed.results
    # the controller trains on past its 500 steps until the loss has converged (budget: 1500)
    assert results["status"] == "done" and 500 <= results["steps"] <= 1500
    assert results["final_loss"] < 265  # about 248-250 when converged
    assert results["slope_inside"] > 0 > results["slope_outside"]

    state = saved_state(executed)
    check_views_and_pictures(executed, state)
    charts = models(state, "AnyModel", _anywidget_id=CHART)
    done = [c for c in charts if c["state"]["status"] == "done"]
    assert len(done) == 2
    chart, controller_chart = sorted(done, key=lambda c: bool(c["state"]["curve_terms"]))
    assert chart["state"]["step"] == 500 and chart["state"]["verdict"]  # the verdict is shown on the chart
    assert controller_chart["state"]["step"] == results["steps"]
    assert controller_chart["state"]["verdict"] == "converged"
    for saved in done:
        steps = saved_floats(saved, "curve_steps")
        assert 0 < len(steps) <= 2000 and steps[-1] == saved["state"]["step"]  # the last step reached the browser
    # trained from scratch, as the text says: the log-likelihood rises and the KL grows
    log_likelihood, kl = saved_term(controller_chart, "log_likelihood"), saved_term(controller_chart, "kl")
    assert mean(log_likelihood[:10]) < mean(log_likelihood[-50:]) - 100
    assert mean(kl[:10]) < mean(kl[-50:]) - 2
    loss = saved_floats(controller_chart, "curve_loss")
    assert mean(loss[:10]) > mean(loss[-50:]) + 100  # the whole descent is on the chart
    failed = [c for c in charts if c["state"]["status"] == "error"]
    assert len(failed) == 1 and "no sample site" in failed[0]["state"]["message"].splitlines()[0]  # message first
    # the pictures saved with the outputs show the final curve, not the empty chart of the start
    pictures = [o["data"]["image/svg+xml"] for o in outputs_with_view(executed)]
    assert any(f"step {results['steps']}" in p and "done" in p for p in pictures)


@pytest.mark.notebook
@pytest.mark.slow
def test_explore_tutorial(run_tutorial):
    executed = run_tutorial("03_explore.ipynb")
    results = executed.results
    assert results["status"] == "done" and 500 <= results["steps"] <= 2000  # 500 asked; more until converged
    assert results["guide"] == "AutoMultivariateNormal" and results["changes"] == "the model as written"
    assert results["a_under_narrow_prior"] < 1.5  # a Normal(0, 0.1) prior holds the intercept near 0
    assert 4.0 < results["sigma_free_mean"] < 6.0  # freed from the data, sigma returns to Uniform(0, 10)

    state = saved_state(executed)
    check_views_and_pictures(executed, state)
    (chart,) = models(state, "AnyModel", _anywidget_id=CHART)
    assert chart["state"]["status"] == "done" and chart["state"]["step"] == results["steps"]
    assert chart["state"]["verdict"] == "converged" and chart["state"]["converged"] is True  # on the chart
    (guide,) = models(state, "DropdownModel", description="guide")
    assert guide["state"]["index"] == guide["state"]["_options_labels"].index("AutoMultivariateNormal")
    (data_switch,) = models(state, "ToggleButtonsModel")
    assert data_switch["state"]["_options_labels"][data_switch["state"]["index"]] == "conditioned"
    svgs = [m["state"]["svg"] for m in models(state, "AnyModel", _anywidget_id="widgets.plots.svg_view.SvgView")]
    assert any('id="marginal:bAR"' in s for s in svgs)  # the marginals, one click target per site
    assert any('id="node:obs"' in s for s in svgs)  # the model graph
    assert any("posterior correlations (AutoMultivariateNormal)" in s for s in svgs)


# -- every section's picture agrees with the numbers printed beside it -------------------------

SUMMARY = re.compile(r"(-?[\d.]+(?:e[-+]?\d+)? ± [\d.]+(?:e[-+]?\d+)?)")


def section(executed, code_start: str, pictures_shown: int = 1) -> tuple[str, str]:
    """(printed text, the frozen picture's SVG) of the cell whose code starts with ``code_start``."""
    cell = next(c for c in executed.cells if c.cell_type == "code" and "".join(c.source).startswith(code_start))
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    pictures = [o["data"]["image/svg+xml"] for o in cell.outputs if "image/svg+xml" in o.get("data", {})]
    assert len(pictures) == pictures_shown, f"the cell {code_start!r} shows {len(pictures)} pictures"
    return printed, pictures[0] if pictures else ""


def svg_texts(svg: str) -> list[str]:
    """The text of every <text> element, unescaped, as a browser would show it."""
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]


def assert_converged_caption(texts: list[str], fit_of: str) -> None:
    caption = " ".join(t for t in texts if "fit of" in t or ": converged" in t or "after" in t)
    assert f"fit of {fit_of}: converged: loss" in caption, caption
    assert not any("NOT CONVERGED" in t for t in texts)


@pytest.mark.notebook
@pytest.mark.slow
def test_explore_tutorial_sections_show_their_own_moment(run_tutorial):
    executed = run_tutorial("03_explore.ipynb")

    printed, svg = section(executed, 'explorer.set_prior("a"')  # Priors: a ~ Normal(0, 0.1)
    texts = svg_texts(svg)
    assert_converged_caption(texts, "a ~ Normal(loc=0, scale=0.1)")
    (a_shown,) = SUMMARY.findall(printed)
    assert a_shown in texts  # the printed a is the a the marginal shows
    assert "a ~ Normal(0, 0.1)" in texts  # the marginal's title: the narrow prior, not the model's
    assert float(a_shown.split(" ± ")[0]) < 1.5
    followup, _ = section(executed, "print(f\"sigma: {explorer.summary('sigma')}", pictures_shown=0)
    for shown in SUMMARY.findall(followup):  # sigma and bA, printed in the next cell, are in this picture too
        assert shown in texts

    printed, svg = section(executed, 'explorer.set_free("obs")')  # Conditioning: obs free
    texts = svg_texts(svg)
    assert_converged_caption(texts, "obs: free (not conditioned on its data)")
    (sigma_shown,) = SUMMARY.findall(printed)
    assert sigma_shown in texts and 4.0 < float(sigma_shown.split(" ± ")[0]) < 6.0  # back to its prior
    assert "a ~ Normal(0, 10)" in texts  # back to the model's prior for a, in this picture

    printed, svg = section(executed, 'explorer.intervene("bR", 0.0)')  # Interventions: do(bR = 0)
    texts = svg_texts(svg)
    assert_converged_caption(texts, "do(bR = 0)")
    shown = SUMMARY.findall(printed)
    assert len(shown) == 2 and all(s in texts for s in shown)
    assert "bR (intervened)" in texts and "do(bR = 0)" in texts  # the marginal: a fixed value, not a prior
    node = re.search(r'<g id="node:bR" class="node intervened">(.*?)</g>', svg, re.S)
    assert node and "<ellipse" not in node.group(1), "bR drawn as a fixed box in the graph"
    assert "bR = 0" in texts

    printed, svg = section(executed, 'explorer.use_guide("AutoMultivariateNormal")')  # Guides
    texts = svg_texts(svg)
    assert_converged_caption(texts, "the model as written")
    assert "AutoMultivariateNormal fit" in " ".join(texts)
    assert "posterior correlations (AutoMultivariateNormal)" in texts
    correlations = re.findall(r"corr\((\w+), (\w+)\) = (-?[\d.]+)", printed)
    assert len(correlations) == 2
    for first, second, value in correlations:  # the matrix cell (hover title) holds the printed value
        assert f"corr({first}, {second}) = {value}" in html.unescape(svg)
    assert float(correlations[0][2]) < -0.3  # a and bR: a steeper slope goes with a higher intercept

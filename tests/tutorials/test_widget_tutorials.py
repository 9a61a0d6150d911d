"""The widget tutorials, executed with nbclient: their numbers and the widget state saved in them.

A notebook saved after a run keeps every widget's state in its metadata; these tests read
that state as a learner's JupyterLab (or nbviewer) would find it, and check the static
pictures saved beside each widget view.
"""

from __future__ import annotations

import base64
from array import array
from typing import Any

import pytest

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHART = "widgets.elbo_chart.ElboChart"


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
    assert results["status"] == "done" and results["steps"] == 500
    assert results["guide"] == "AutoMultivariateNormal" and results["changes"] == "the model as written"
    assert results["a_under_narrow_prior"] < 1.5  # a Normal(0, 0.1) prior holds the intercept near 0
    assert 4.0 < results["sigma_free_mean"] < 6.0  # freed from the data, sigma returns to Uniform(0, 10)

    state = saved_state(executed)
    check_views_and_pictures(executed, state)
    (chart,) = models(state, "AnyModel", _anywidget_id=CHART)
    assert chart["state"]["status"] == "done" and chart["state"]["step"] == 500
    (guide,) = models(state, "DropdownModel", description="guide")
    assert guide["state"]["index"] == guide["state"]["_options_labels"].index("AutoMultivariateNormal")
    (data_switch,) = models(state, "ToggleButtonsModel")
    assert data_switch["state"]["_options_labels"][data_switch["state"]["index"]] == "conditioned"
    svgs = [m["state"]["svg"] for m in models(state, "AnyModel", _anywidget_id="widgets.svg_view.SvgView")]
    assert any('id="marginal:bAR"' in s for s in svgs)  # the marginals, one click target per site
    assert any('id="node:obs"' in s for s in svgs)  # the model graph
    assert any("posterior correlations (AutoMultivariateNormal)" in s for s in svgs)

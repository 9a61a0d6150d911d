"""The one-line functions: each builds its widget, shows it in a kernel, and returns it."""

from __future__ import annotations

import pplkit
import widgets
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam

from .conftest import Y, fit_threads, hierarchical


def test_train_builds_svi_and_trains_in_the_callers_thread_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    controller = widgets.train(hierarchical, AutoNormal(hierarchical), Y, num_steps=20, lr=0.05, step_budget=20)
    assert isinstance(controller, widgets.TrainingController) and controller.blocking
    assert controller.chart.status == "done" and len(controller.losses) == 20
    assert controller.chart.verdict.startswith("not converged")  # 20 steps are too few to judge
    assert sorted(controller.chart.curve_terms) == ["kl", "log_likelihood"]  # train() charts the terms
    assert not fit_threads()


def test_live_svi_can_wait_for_a_click_on_run():
    svi = SVI(hierarchical, AutoNormal(hierarchical), Adam({"lr": 0.05}), Trace_ELBO())
    controller = widgets.live_svi(svi, Y, num_steps=10, run=False, step_budget=10)
    assert controller.chart.status == "idle" and len(pplkit.get_param_store()) == 0
    controller.run_button.click()
    assert controller.chart.status == "done" and controller.chart.step == 10


def test_model_view_and_explore(monkeypatch):
    shown = []
    monkeypatch.setattr("widgets.in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda widget: shown.append(widget))
    view = widgets.model_view(hierarchical, Y)
    explorer = widgets.explore(hierarchical, Y, num_steps=20, num_samples=50, blocking=True)
    assert shown == [view, explorer]
    assert explorer.fitted is not None and explorer.chart.status == "done"  # explore() starts the first fit

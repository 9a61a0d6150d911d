"""TrainingController: Run, Stop, Reset, the learning rate, errors shown and re-raised, no leftover threads."""

from __future__ import annotations

import time
from array import array

import pytest
import torch

import pplkit
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam
from widgets.training.controller import TrainingController

from ..conftest import Y, fit_threads, hierarchical


def make_svi(lr=0.05):
    return SVI(hierarchical, AutoNormal(hierarchical), Adam({"lr": lr}), Trace_ELBO())


def test_blocking_run_trains_and_finishes():
    controller = TrainingController(make_svi(), Y, num_steps=30, blocking=True, terms=True, step_budget=30)
    controller.run()
    assert controller.chart.status == "done" and controller.chart.step == 30
    assert len(controller.losses) == 30
    assert sorted(controller.chart.curve_terms) == ["kl", "log_likelihood"]
    assert any(name.startswith("AutoNormal.locs") for name in controller.trajectories.names)
    controller.run(10)  # a second run continues from the learned params and the curve (budget: 30 steps)
    assert 40 <= controller.chart.step <= 60 and controller.chart.total_steps == controller.chart.step
    assert not fit_threads()


def test_an_empty_explicit_store_is_used_and_its_trajectories_recorded():
    store = pplkit.ParamStore()  # empty, so falsy: it must still be the store trained in
    svi = SVI(hierarchical, AutoNormal(hierarchical), Adam({"lr": 0.05}), Trace_ELBO(), param_store=store)
    controller = TrainingController(svi, Y, num_steps=10, blocking=True, step_budget=10)
    controller.run()
    assert controller.chart.status == "done" and controller.store is store
    assert any(name.startswith("AutoNormal.") for name in store) and len(pplkit.get_param_store()) == 0
    assert any(name.startswith("AutoNormal.locs") for name in controller.trajectories.names)
    assert array("d", controller.trajectories.steps)[-1] == 10


def test_params_are_sampled_at_each_chart_sync_and_labelled_with_its_step(monkeypatch, comms):
    now = [0.0]

    def ticking_clock():  # 60 ms per reading: the chart syncs every other step
        now[0] += 0.06
        return now[0]

    monkeypatch.setattr("widgets.training.elbo_chart.time.monotonic", ticking_clock)
    controller = TrainingController(make_svi(), Y, num_steps=30, blocking=True, step_budget=30)
    controller.run()
    synced_steps = [update["step"] for update in comms.of(controller.chart).updates("step")]
    assert len(synced_steps) > 5 and synced_steps[-1] == 30
    assert array("d", controller.trajectories.steps).tolist() == synced_steps


def test_stop_stops_a_background_run_and_the_step_count_stays():
    controller = TrainingController(make_svi(), Y, num_steps=100_000, blocking=False)
    controller.run()
    deadline = time.monotonic() + 30
    while controller.chart.step < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert controller.running and controller.stop_button.disabled is False
    controller.stop()
    controller.wait(timeout=30)
    stopped_at = controller.chart.step
    assert controller.chart.status == "stopped" and 5 <= stopped_at < 100_000
    time.sleep(0.2)
    assert controller.chart.step == stopped_at == len(controller.losses)
    assert array("d", controller.trajectories.steps)[-1] == stopped_at  # the last sample: the params at Stop
    assert controller.run_button.disabled is False and controller.stop_button.disabled is True
    assert not fit_threads()


def test_an_error_in_training_shows_in_the_chart_and_is_raised_by_wait():
    def broken_guide(y=None):
        raise ValueError("the guide is broken")

    svi = SVI(hierarchical, broken_guide, Adam({"lr": 0.01}), Trace_ELBO())
    controller = TrainingController(svi, Y, num_steps=5, blocking=False)
    controller.run()
    with pytest.raises(ValueError, match="the guide is broken"):
        controller.wait(timeout=30)
    assert controller.chart.status == "error"
    assert "ValueError: the guide is broken" in controller.chart.message
    assert isinstance(controller.error, ValueError)
    blocking = TrainingController(svi, Y, num_steps=5, blocking=True)
    with pytest.raises(ValueError, match="the guide is broken"):
        blocking.run()  # in blocking mode the cell itself fails
    assert blocking.chart.status == "error"


def test_the_learning_rate_slider_sets_the_optimizers_rate():
    svi = make_svi(lr=0.05)
    controller = TrainingController(svi, Y, num_steps=3, blocking=True)
    assert controller.lr.value == pytest.approx(0.05)
    controller.run()
    controller.lr.value = 0.001
    assert all(group["lr"] == 0.001 for group in svi.optim.optimizer.param_groups)
    assert svi.optim.pt_optim_args["lr"] == 0.001  # params created later get it too


def test_reset_forgets_params_and_history_but_keeps_other_params():
    pplkit.param("unrelated", lambda: pplkit.distributions.Normal(0.0, 1.0).sample())
    controller = TrainingController(make_svi(), Y, num_steps=5, blocking=True)
    controller.run()
    assert any(name.startswith("AutoNormal") for name in pplkit.get_param_store())
    assert "unrelated" not in controller.trajectories.names  # another model's param is not this fit's
    controller.reset()
    assert [name for name in pplkit.get_param_store()] == ["unrelated"]
    assert controller.chart.status == "idle" and controller.losses == [] and controller.trajectories.names == []
    assert controller.chart.total_steps == 0 and controller.chart.verdict == ""  # not "step 0 / 15"
    controller.run(5)
    assert controller.chart.total_steps == controller.chart.step  # counts from the reset, not the old total


def test_training_uses_the_store_active_when_the_controller_was_made():
    store = pplkit.ParamStore()
    with pplkit.use_param_store(store):
        controller = TrainingController(make_svi(), Y, num_steps=3, blocking=False)
    controller.run()
    controller.wait(timeout=30)
    assert any(name.startswith("AutoNormal") for name in store)
    assert len(pplkit.get_param_store()) == 0


def test_static_picture_holds_the_curve_and_the_trajectories():
    controller = TrainingController(make_svi(), Y, num_steps=5, blocking=True, step_budget=5)
    controller.run()
    data, _ = controller._repr_mimebundle_()
    svg = data["image/svg+xml"]
    assert "step 5" in svg and "locs.mu = " in svg
    assert "HBox" not in data["text/plain"] and "VBox" not in data["text/plain"]


def test_an_unconverged_run_keeps_going_within_its_budget_and_then_says_not_converged():
    from pplkit.infer import AutoDelta

    svi = SVI(hierarchical, AutoDelta(hierarchical), Adam({"lr": 0.002}), Trace_ELBO())  # far too slow
    controller = TrainingController(svi, Y, num_steps=100, blocking=True, step_budget=250)
    controller.run()
    assert controller.chart.step == 250 == controller.chart.total_steps  # 100, then chunks of 100 and 50
    assert controller.verdict is not None and not controller.verdict.converged
    assert controller.chart.converged is False and controller.chart.verdict.startswith("not converged: ")
    assert controller.chart.status == "done"


def test_a_converging_run_stops_extending_once_converged():
    from pplkit.infer import AutoDelta

    svi = SVI(hierarchical, AutoDelta(hierarchical), Adam({"lr": 0.05}), Trace_ELBO())  # a noiseless loss
    controller = TrainingController(svi, Y, num_steps=100, blocking=True, step_budget=5000)
    controller.run()
    assert controller.verdict.converged and controller.chart.verdict == "converged"
    assert 100 <= controller.chart.step < 5000 and controller.chart.step == controller.chart.total_steps


def test_only_this_svis_params_are_shown_not_other_models_params_in_the_store():
    pplkit.param("a_loc", torch.tensor(9.0))  # from an earlier cell of the notebook
    controller = TrainingController(make_svi(), Y, num_steps=5, blocking=True, step_budget=5)
    controller.run()
    assert controller.trajectories.names and all(n.startswith("AutoNormal.") for n in controller.trajectories.names)


def user_guide_that_fails(y=None):
    pplkit.sample("mu", pplkit.distributions.Normal(torch.tensor(0.0), -1.0))  # a negative scale


def test_the_error_panel_shows_the_message_first_then_the_users_frames_then_the_librarys():
    svi = SVI(hierarchical, user_guide_that_fails, Adam({"lr": 0.01}), Trace_ELBO())
    controller = TrainingController(svi, Y, num_steps=5, blocking=True)
    with pytest.raises(ValueError):
        controller.run()
    message = controller.chart.message
    first = message.splitlines()[0]
    assert first.startswith("ValueError") and "scale" in first
    user, library = message.index("in your code"), message.index("in pplkit and libraries")
    assert user < message.index("user_guide_that_fails") < library
    assert "pplkit/infer" in message[library:] and "pplkit/infer" not in message[:library]


def test_a_closed_controller_never_starts_work():
    controller = TrainingController(make_svi(), Y, num_steps=5, blocking=False)
    controller.close()
    with pytest.raises(RuntimeError, match="closed"):
        controller.run()
    assert not fit_threads() and controller.chart.step == 0

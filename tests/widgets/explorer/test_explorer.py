"""ModelExplorer: controls -> toggles -> wrapped model; prior views at once; the latest fit wins."""

from __future__ import annotations

import random
import time

import pytest

import pplkit
import pplkit.distributions as dist
from pplkit.inspect import NodeRole
from widgets.explorer.explorer import ModelExplorer
from widgets.explorer.explorer_controls import LatentSiteControls, ObservedSiteControls
from widgets.views.priors import PriorChoice

from ..conftest import Y, fit_threads, hierarchical, mean_field_guide

FAST = dict(num_steps=40, num_samples=100, lr=0.05)


def test_controls_follow_the_models_sites():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    assert isinstance(explorer.controls["y"], ObservedSiteControls)
    assert [n for n, c in explorer.controls.items() if isinstance(c, LatentSiteControls)] == ["mu", "theta", "sigma"]
    sigma = explorer.controls["sigma"]
    assert sigma.family.options[0] == "HalfNormal" and "Normal" not in sigma.family.options
    theta = explorer.controls["theta"]
    assert theta.family.disabled  # its prior depends on mu: not a constant to slide
    assert explorer.fitted is None  # nothing is fitted before start()


def test_the_model_views_shapes_panel_wraps_onto_its_own_row():
    # Seen in the Voila dashboard at 1280 px: with the explorer's layout replacing the model
    # view's, graph, node panel and the "tensor shapes" panel shared one row and were clipped.
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    view = explorer.model_view
    assert view.layout.flex_flow == "row wrap"
    shapes_panel = view.children[-1]
    assert shapes_panel.layout.flex == "1 1 100%"  # a full row of its own once the row wraps


def test_blocking_fit_publishes_the_posterior():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    explorer.start()
    # 40 steps are too few to judge convergence: the fit continues, within 4x the request
    assert explorer.chart.status == "done" and 40 <= explorer.chart.step <= 160
    assert explorer.chart.step == len(explorer.fitted.losses) == explorer.fitted.convergence.steps
    assert explorer.fitted.request == explorer._request
    assert set(explorer.fitted.posterior) >= {"mu", "theta", "sigma", "y"}
    assert explorer.marginals.targets == {"marginal:mu": "mu", "marginal:theta": "theta", "marginal:sigma": "sigma"}
    assert "posterior correlations (AutoNormal" in explorer.correlations.svg  # ", not converged" after 160 steps
    assert "posterior predictive" in explorer.predictive.svg


def test_a_prior_change_redraws_the_prior_view_before_the_fit_finishes():
    explorer = ModelExplorer(hierarchical, Y, blocking=False, **{**FAST, "num_steps": 100_000})
    before = explorer.predictive.svg
    explorer.set_prior("mu", "Normal", loc=4.0, scale=0.5)
    assert explorer.predictive.svg != before  # drawn in this thread, without waiting for the fit
    assert explorer.toggles.priors == {"mu": PriorChoice("Normal", {"loc": 4.0, "scale": 0.5})}
    assert "mu ~ Normal(4, 0.5)" in explorer.marginals.svg
    assert "mu ~ Normal(loc=4, scale=0.5)" in explorer.changes.value
    time.sleep(0.3)
    assert explorer.chart.status == "running"
    explorer.close()
    assert not fit_threads()


def test_freeing_the_data_gives_back_the_prior():
    explorer = ModelExplorer(hierarchical, Y, blocking=True,
                             **{**FAST, "num_steps": 1000, "num_samples": 400, "lr": 0.05})
    explorer.start()
    assert float(explorer.fitted.posterior["theta"].std()) < 0.5  # the data pin theta near 2.1
    explorer.set_free("y")
    assert explorer.snapshot.graph.nodes["y"].role is NodeRole.LATENT
    assert "y (free: not conditioned on its data)" in explorer.predictive.svg
    # Back to the prior. Mean-field fits each marginal's variance to the inverse of the prior's
    # precision: theta | mu ~ Normal(mu, 1) has precision 1, so q(theta) heads for sd 1.
    theta = explorer.fitted.posterior["theta"]
    assert 0.6 < float(theta.std()) < 1.4


def test_an_intervention_cuts_the_site_from_its_causes():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, guides={"mine": mean_field_guide},
                             guide="mine", **FAST)
    explorer.intervene("theta", 2.0)
    graph = explorer.snapshot.graph
    assert graph.nodes["theta"].role is NodeRole.INTERVENED and ("mu", "theta") not in graph.edges()
    assert "theta" not in explorer.fitted.posterior or bool((explorer.fitted.posterior["theta"] == 2.0).all())
    assert "do(theta = 2)" in explorer.marginals.svg
    explorer.intervene("theta", None)
    assert explorer.snapshot.graph.nodes["theta"].role is NodeRole.LATENT


def test_switching_the_guide_refits_with_it():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    explorer.start()
    normal = explorer.fitted
    explorer.use_guide("AutoMultivariateNormal")
    assert explorer.fitted is not normal and explorer.fitted.request.guide == "AutoMultivariateNormal"
    assert type(explorer.fitted.guide).__name__ == "AutoMultivariateNormal"
    assert "posterior correlations (AutoMultivariateNormal" in explorer.correlations.svg  # ", not converged"?
    with pytest.raises(ValueError, match="unknown guide"):
        explorer.use_guide("AutoMagic")


def test_a_users_plot_function_gets_the_draws_and_its_errors_surface():
    calls = []

    def plot(fig, draws):
        calls.append(draws)
        ax = fig.panel("custom")
        for role, samples in draws.predictions("y"):
            ax.interval(range(len(Y)), samples, color=role, label=role)

    explorer = ModelExplorer(hierarchical, Y, blocking=True, plot=plot, **FAST)
    explorer.start()
    assert calls[-1].args == (Y,) and calls[-1].posterior is not None and "custom" in explorer.predictive.svg

    def broken(fig, draws):
        raise KeyError("no such site")

    with pytest.raises(KeyError):
        ModelExplorer(hierarchical, Y, blocking=True, plot=broken, **FAST)
    shown = ModelExplorer(hierarchical, Y, blocking=False, plot=broken, **FAST)
    assert "the plot function raised" in shown.predictive.svg and isinstance(shown.plot_error, KeyError)


def test_errors_in_a_fit_show_in_the_chart_and_are_raised_by_wait():
    def bad_guide(y=None):
        raise RuntimeError("bad guide")

    explorer = ModelExplorer(hierarchical, Y, blocking=False, guides={"bad": bad_guide}, guide="bad", **FAST)
    explorer.start()
    with pytest.raises(RuntimeError, match="bad guide"):
        explorer.wait(timeout=30)
    assert explorer.chart.status == "error" and "with bad on: the model as written" in explorer.chart.message


def test_selection_is_shared_between_graph_and_marginals():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    explorer.marginals.selected = "sigma"
    assert explorer.model_view.selected == "sigma"
    explorer.model_view.selected = "y"
    assert explorer.marginals.selected == ""


def test_site_names_are_checked():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    with pytest.raises(ValueError, match="latent sites are \\['mu', 'theta', 'sigma'\\]"):
        explorer.set_prior("y", "Normal", loc=0.0, scale=1.0)
    with pytest.raises(ValueError, match="observed sites are \\['y'\\]"):
        explorer.set_free("mu")
    with pytest.raises(ValueError, match="not offered"):
        explorer.set_prior("sigma", "Normal", loc=0.0, scale=1.0)


def test_stress_200_rapid_random_toggles_while_fitting():
    rng = random.Random(0)
    explorer = ModelExplorer(hierarchical, Y, blocking=False, debounce=0.01, num_steps=60, num_samples=60, lr=0.05)
    explorer.start()
    families = list(explorer.controls["sigma"].family.options)
    for _ in range(200):
        action = rng.randrange(5)
        if action == 0:
            explorer.set_prior("mu", "Normal", loc=rng.uniform(-3, 3), scale=rng.uniform(0.5, 5))
        elif action == 1:
            family = rng.choice(families)
            explorer.controls["sigma"].family.value = family
        elif action == 2:
            explorer.set_free("y", rng.random() < 0.5)
        elif action == 3:
            explorer.intervene("theta", rng.choice([None, rng.uniform(0, 3)]))
        else:
            explorer.use_guide(rng.choice(["AutoNormal", "AutoDelta", "AutoMultivariateNormal"]))
        time.sleep(rng.choice([0.0, 0.0, 0.005, 0.03]))
    explorer.wait(timeout=120)  # raises if the last fit failed
    final = explorer._read_request()
    assert explorer.fitted.request == final == explorer._request
    assert explorer.chart.status == "done" and explorer.chart.step == len(explorer.fitted.losses)
    assert 60 <= explorer.chart.step <= 240
    graph = explorer.snapshot.graph
    assert (graph.nodes["y"].role is NodeRole.LATENT) == ("y" in final.toggles.free)
    assert (graph.nodes["theta"].role is NodeRole.INTERVENED) == ("theta" in final.toggles.interventions)
    sigma_prior = explorer.snapshot.trace.nodes["sigma"].fn
    assert type(sigma_prior).__name__ == explorer.controls["sigma"].family.value
    assert not fit_threads()


def test_stop_leaves_the_chart_stopped_and_refit_starts_again():
    explorer = ModelExplorer(hierarchical, Y, blocking=False, **{**FAST, "num_steps": 100_000})
    explorer.start()
    deadline = time.monotonic() + 30
    while explorer.chart.step < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    explorer.stop_button.click()
    explorer.wait(timeout=30)
    assert explorer.chart.status == "stopped" and explorer.fitted is None
    explorer.steps.value = 30  # a change refits with the new number of steps
    explorer.wait(timeout=30)
    assert explorer.chart.status == "done" and 30 <= explorer.chart.step <= 120
    explorer.refit_button.click()
    explorer.wait(timeout=30)
    assert explorer.chart.status == "done" and not fit_threads()


# -- pictures that keep their moment, the convergence guard, closed explorers, bad priors ------


def test_a_frozen_picture_keeps_its_moment_while_the_views_move_on():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, **FAST)
    explorer.set_prior("mu", "Normal", loc=4.0, scale=0.5)
    frozen = explorer.freeze("predictive", "marginals")
    assert "mu ~ Normal(4, 0.5)" in frozen.svg  # the marginal's title, as the views showed it then
    assert "fit of mu ~ Normal(loc=4, scale=0.5)" in frozen.svg  # and the caption says which fit it is
    mu = explorer.fitted.posterior["mu"]
    assert f"{float(mu.mean()):.3g}" in frozen.svg  # the marginal's mean ± sd of that fit
    shown = frozen.svg
    explorer.set_prior("mu", "Normal", loc=-4.0, scale=0.5)
    assert frozen.svg == shown and "mu ~ Normal(-4, 0.5)" not in frozen.svg
    assert "mu ~ Normal(-4, 0.5)" in explorer.marginals.svg  # the explorer itself stays live
    assert frozen.targets == {} and not frozen.busy  # a picture: nothing to click, never dimmed
    with pytest.raises(ValueError, match="unknown view"):
        explorer.freeze("histogram")


def test_an_unconverged_fit_is_marked_in_every_view_and_in_fitted():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, guide="AutoDelta", num_steps=50, num_samples=50, lr=1e-3)
    explorer.start()
    fitted = explorer.fitted
    assert not fitted.converged and len(fitted.losses) == 200  # 4x the request, then a verdict
    for view in (explorer.predictive, explorer.marginals, explorer.correlations):
        assert "NOT CONVERGED AFTER 200 STEPS" in view.svg and 'class="warning"' in view.svg
    assert "posterior correlations (AutoDelta, not converged)" in explorer.correlations.svg
    assert explorer.chart.verdict.startswith("not converged: ") and explorer.chart.converged is False
    assert explorer.chart.total_steps == 200
    assert "not converged" in explorer.freeze().svg


def test_a_converged_fit_says_so_on_the_chart_and_shows_no_badge():
    explorer = ModelExplorer(hierarchical, Y, blocking=True, guide="AutoDelta", num_steps=400, num_samples=50, lr=0.1)
    explorer.start()
    assert explorer.fitted.converged
    assert explorer.chart.verdict == "converged" and explorer.chart.converged is True
    assert "NOT CONVERGED" not in explorer.marginals.svg + explorer.predictive.svg


def test_a_closed_explorer_starts_no_work():
    explorer = ModelExplorer(hierarchical, Y, blocking=False, **{**FAST, "num_steps": 100_000})
    explorer.start()
    explorer.close()
    assert explorer.closed and not fit_threads()
    for change in (lambda: explorer.set_prior("mu", "Normal", loc=1.0, scale=1.0), explorer.start,
                   lambda: explorer.set_free("y"), lambda: explorer.use_guide("AutoDelta")):
        with pytest.raises(RuntimeError, match="closed"):
            change()
    explorer.controls["mu"].set_prior("Normal", loc=2.0, scale=1.0)  # a control of the closed widget
    time.sleep(0.1)
    assert not fit_threads()


def scale_from_prior(y=None):
    """A model in which a prior can give another site's distribution an invalid parameter."""
    s = pplkit.sample("s", dist.Normal(0.0, 0.1))
    with pplkit.plate("data", len(Y)):
        return pplkit.sample("y", dist.Normal(2.0, 1.0 + s), obs=y)


@pytest.mark.parametrize("blocking", [True, False])
def test_a_prior_that_breaks_the_model_shows_a_message_and_leaves_the_views_usable(blocking):
    explorer = ModelExplorer(scale_from_prior, Y, blocking=blocking, **FAST)
    explorer.start()
    explorer.wait(timeout=60)
    good = explorer.marginals.svg
    explorer.set_prior("s", "Normal", loc=-2.0, scale=0.1)  # 1 + s < 0: raises nothing out of the callback
    explorer.wait(timeout=60)
    assert explorer.prior_error is not None and "scale" in str(explorer.prior_error)
    assert "cannot run with s ~ Normal(loc=-2, scale=0.1)" in explorer.changes.value
    assert "Choose other prior parameters" in explorer.changes.value
    assert explorer.chart.status == "error" and "cannot run" in explorer.chart.message
    assert not (explorer.marginals.busy or explorer.predictive.busy or explorer.model_view.busy)
    assert explorer.marginals.svg == good  # the last good pictures stay
    assert "cannot run with this change" in explorer.caption()
    explorer.set_prior("s", "Normal", loc=0.0, scale=0.2)  # a valid prior brings everything back
    explorer.wait(timeout=60)
    assert explorer.prior_error is None and explorer.chart.status == "done"
    assert "s ~ Normal(0, 0.2)" in explorer.marginals.svg
    explorer.close()

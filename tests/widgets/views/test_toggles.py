"""Toggles: the wrapped model each explorer change produces, checked in its trace and its graph."""

from __future__ import annotations

import torch

import pplkit
import pplkit.distributions as dist
from pplkit.handlers import trace
from pplkit.inspect import NodeRole, get_model_relations
from widgets.views.priors import PriorChoice
from widgets.views.toggles import Toggles

from ..conftest import Y, hierarchical, mean_field_guide


def test_no_toggles_is_the_model_as_written():
    wrapped = Toggles().model(hierarchical)
    assert trace(wrapped).get_trace(Y).stochastic_nodes == ["mu", "theta", "sigma"]


def test_unobserving_a_site_makes_it_latent_in_the_trace():
    toggles = Toggles(free={"y"})
    tr = trace(toggles.model(hierarchical)).get_trace(Y)
    assert "y" in tr.stochastic_nodes and not tr.nodes["y"].is_observed
    fit_trace = trace(toggles.fit_model(hierarchical)).get_trace(Y)
    assert "y" not in fit_trace.nodes  # the fit marginalises it: no guide site needed
    assert trace(hierarchical).get_trace(Y).nodes["y"].is_observed  # the user's model is untouched


def test_do_removes_the_incoming_edges_in_the_graph():
    before = get_model_relations(hierarchical, (Y,))
    assert before.nodes["theta"].parents == ("mu",)
    after = get_model_relations(Toggles(interventions={"theta": 2.5}).model(hierarchical), (Y,))
    assert after.nodes["theta"].parents == ()
    assert after.nodes["theta"].role is NodeRole.INTERVENED
    assert ("mu", "theta") not in after.edges() and ("theta", "y") in after.edges()
    tr = trace(Toggles(interventions={"theta": 2.5}).model(hierarchical)).get_trace(Y)
    assert float(tr.nodes["theta"].value) == 2.5


def test_a_prior_change_changes_the_sites_distribution_in_the_trace():
    toggles = Toggles(priors={"sigma": PriorChoice("Gamma", {"concentration": 2.0, "rate": 4.0})})
    fn = trace(toggles.model(hierarchical)).get_trace(Y).nodes["sigma"].fn
    assert isinstance(fn, dist.Gamma)
    assert float(fn.concentration) == 2.0 and float(fn.rate) == 4.0


def test_a_hand_written_guide_stops_proposing_intervened_sites():
    toggles = Toggles(interventions={"theta": 2.0})
    with pplkit.use_param_store(pplkit.ParamStore()):
        guide_trace = trace(toggles.guide(mean_field_guide)).get_trace(Y)
    assert "theta" not in guide_trace.nodes and "mu" in guide_trace.nodes


def test_toggles_compare_and_hash_by_value():
    a = Toggles(priors={"mu": PriorChoice("Normal", {"loc": 1.0, "scale": 2.0})}, free={"y"},
                interventions={"theta": 0.0})
    b = Toggles().with_prior("mu", PriorChoice("Normal", {"loc": 1.0, "scale": 2.0})).with_free("y", True)
    b = b.with_intervention("theta", 0.0)
    assert a == b and hash(a) == hash(b)
    assert a.with_free("y", False) != a
    assert a.with_intervention("theta", None).interventions == {}
    # an intervention overrides a prior on the same site: the prior is dropped
    both = Toggles(priors={"theta": PriorChoice("Normal", {"loc": 0.0, "scale": 1.0})}, interventions={"theta": 1.0})
    assert both.priors == {}


def test_describe_lists_each_change():
    toggles = Toggles(priors={"mu": PriorChoice("Normal", {"loc": 1.0, "scale": 2.0})}, free={"y"},
                      interventions={"theta": 0.5})
    assert toggles.describe().splitlines() == [
        "mu ~ Normal(loc=1, scale=2)", "do(theta = 0.5)", "y: free (not conditioned on its data)"]
    assert Toggles().describe() == "the model as written"


def test_freed_observation_fit_gives_back_the_prior():
    """With its only data freed, the ELBO is -KL(q || prior): a Normal guide recovers the prior."""
    from pplkit.infer import SVI, AutoNormal, TraceMeanField_ELBO
    from pplkit.optim import Adam

    def model(y):
        mu = pplkit.sample("mu", dist.Normal(3.0, 2.0))
        with pplkit.plate("data", len(y)):
            pplkit.sample("y", dist.Normal(mu, 0.1), obs=y)

    fit_model = Toggles(free={"y"}).fit_model(model)
    guide = AutoNormal(fit_model)
    svi = SVI(fit_model, guide, Adam({"lr": 0.1}), TraceMeanField_ELBO())  # exact KL: no gradient noise
    svi.run(500, torch.zeros(5))
    loc = float(guide.median()["mu"])
    scale = float(pplkit.get_param_store()["AutoNormal.scales.mu"].detach())
    assert abs(loc - 3.0) < 0.01 and abs(scale - 2.0) < 0.01

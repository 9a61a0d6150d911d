"""condition and uncondition."""

from __future__ import annotations

import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    return pplkit.sample("x", dist.Normal(z, 1.0))


def test_condition_observes_the_named_sites():
    tr = poutine.trace(pplkit.condition(model, data={"x": torch.tensor(2.0)})).get_trace()
    assert tr["x"].is_observed and tr["x"].value.item() == 2.0
    assert tr.stochastic_nodes == ["z"] and tr.observation_nodes == ["x"]


def test_condition_accepts_plain_numbers():
    tr = poutine.trace(pplkit.condition(model, data={"x": 2.0})).get_trace()
    assert isinstance(tr["x"].value, torch.Tensor)


def test_condition_warns_about_names_the_model_never_samples_and_lists_its_sites():
    with pytest.warns(UserWarning, match=r"never sampled \['xx'\].*sample sites are: \['x', 'z'\]"):
        pplkit.condition(model, data={"xx": 1.0})()


def test_condition_is_silent_when_every_name_is_used():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pplkit.condition(model, data={"x": 1.0, "z": 0.0})()


def test_condition_needs_a_mapping():
    with pytest.raises(TypeError, match="dict of site name"):
        pplkit.condition(model, data=[1.0])


def test_uncondition_samples_observed_sites_and_keeps_the_data():
    def observed():
        return pplkit.sample("x", dist.Normal(0.0, 1.0), obs=torch.tensor(5.0))

    tr = poutine.trace(poutine.uncondition(observed)).get_trace()
    site = tr["x"]
    assert not site.is_observed and site.value.item() != 5.0
    assert site.infer["was_observed"] and site.infer["obs"].item() == 5.0
    assert tr.stochastic_nodes == ["x"]


def test_uncondition_leaves_deterministic_and_factor_sites_alone():
    def m():
        x = pplkit.sample("x", dist.Normal(0.0, 1.0))
        pplkit.deterministic("d", x + 1)
        pplkit.factor("f", torch.tensor(-1.0))

    tr = poutine.trace(poutine.uncondition(m)).get_trace()
    assert tr["d"].is_observed and tr["f"].is_observed


def hierarchical(y):
    theta = pplkit.sample("theta", dist.Normal(0.0, 1.0))
    with pplkit.plate("data", len(y)):
        return pplkit.sample("y", dist.Normal(theta, 1.0), obs=y)


Y = torch.tensor([0.5, 1.5, -0.2])


def test_uncondition_with_names_frees_only_those_sites_and_keeps_their_data():
    tr = poutine.trace(poutine.uncondition(hierarchical, names=["y"])).get_trace(Y)
    site = tr.nodes["y"]
    assert not site.is_observed
    assert "y" in tr.stochastic_nodes
    assert torch.equal(site.infer["obs"], Y) and not torch.equal(site.value, Y)
    kept = poutine.trace(poutine.uncondition(hierarchical, names=["other"])).get_trace(Y)
    assert kept.nodes["y"].is_observed


def test_uncondition_leaves_interventions_fixed():
    intervened = pplkit.do(hierarchical, data={"theta": torch.tensor(2.0)})
    tr = poutine.trace(poutine.uncondition(intervened, names=["theta"])).get_trace(Y)
    assert tr.nodes["theta"].intervened and tr.nodes["theta"].is_observed
    assert tr.nodes["y"].is_observed


def test_uncondition_names_must_be_a_list():
    with pytest.raises(TypeError, match="list of site names"):
        poutine.uncondition(hierarchical, names="y")


def test_a_none_value_leaves_the_site_latent_and_a_trace_can_be_the_data():
    import pplkit.distributions as dist
    from pplkit import poutine

    def model():
        pplkit.sample("a", dist.Normal(0.0, 1.0))
        pplkit.sample("b", dist.Normal(0.0, 1.0))

    tr = poutine.trace(poutine.condition(model, data={"a": None, "b": 2.0})).get_trace()
    assert not tr.nodes["a"]["is_observed"] and tr.nodes["b"]["is_observed"]
    tr = poutine.trace(poutine.do(model, data={"a": None, "b": 3.0})).get_trace()
    assert not tr.nodes["a"]["is_observed"] and float(tr.nodes["b"]["value"]) == 3.0

    recorded = poutine.trace(model).get_trace()
    replayed = poutine.trace(poutine.condition(model, data=recorded)).get_trace()
    assert all(replayed.nodes[n]["is_observed"] for n in ("a", "b"))
    assert torch.equal(replayed.nodes["a"]["value"], recorded.nodes["a"]["value"])

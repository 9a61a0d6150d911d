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

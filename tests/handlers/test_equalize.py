"""equalize: shared values by regular expression, and conditioning on equality with keep_dist."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def per_category(categories):
    for c in categories:
        pplkit.param(f"{c}_shift", torch.tensor(float(len(c))))
        std = pplkit.sample(f"{c}_std", dist.LogNormal(0.0, 1.0))
        pplkit.sample(f"{c}_value", dist.Normal(0.0, std))


def test_matching_sample_sites_take_the_first_value_and_add_no_density():
    tr = poutine.trace(poutine.equalize(per_category, ".+_std")).get_trace(["a", "bb", "ccc"])
    first = tr.nodes["a_std"]["value"]
    assert tr.nodes["bb_std"]["value"] is first and tr.nodes["ccc_std"]["value"] is first
    tr.compute_log_prob()
    assert float(tr.nodes["bb_std"].log_prob) == 0.0
    assert tr.stochastic_nodes == ["a_std", "a_value", "bb_value", "ccc_value"]


def test_params_are_equalized_when_asked():
    tr = poutine.trace(poutine.equalize(per_category, ".+_shift", "param")).get_trace(["a", "bb"])
    assert float(tr.nodes["bb_shift"]["value"]) == 1.0  # a's init (len("a")), not bb's
    assert "bb_shift" not in pplkit.get_param_store()


def test_keep_dist_conditions_on_equality():
    def model():
        pplkit.sample("x", dist.Normal(0.0, 1.0))
        pplkit.sample("y", dist.Normal(5.0, 3.0))

    tr = poutine.trace(poutine.equalize(model, ["x", "y"], keep_dist=True)).get_trace()
    x = tr.nodes["x"]["value"]
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(x) + torch.distributions.Normal(5.0, 3.0).log_prob(x)
    assert torch.allclose(tr.log_prob_sum(), expected)
    assert tr.nodes["y"]["is_observed"]


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="sites="):
        poutine.equalize(per_category)
    with pytest.raises(ValueError, match="'sample' or 'param'"):
        poutine.equalize(per_category, "x", type="factor")

"""LatentStableReparam: a latent Stable site as Uniform and Exponential latents and a transform."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer.reparam import LatentStableReparam

PROBS = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])


def stable_model(stability: float, skew: float):
    def model():
        with pplkit.plate("draws", 50_000):
            return pplkit.sample("x", dist.Stable(stability, skew, 1.5, 0.5))

    return poutine.reparam(model, config={"x": LatentStableReparam()})


def test_gaussian_case_samples_a_normal_and_scores_only_the_auxiliary_sites():
    torch.manual_seed(0)
    tr = poutine.trace(stable_model(2.0, 0.0)).get_trace()
    expected = dist.Normal(0.5, math.sqrt(2) * 1.5).icdf(PROBS)
    assert torch.allclose(torch.quantile(tr.nodes["x"].value, PROBS), expected, atol=0.06)
    tr.compute_log_prob()
    e = tr.nodes["x_exponential"].value  # log density: -log(pi) per uniform, -e per exponential
    exact = (-math.log(math.pi) - e).sum()
    assert torch.allclose(tr.log_prob_sum(), exact)


def test_reparameterised_samples_have_stables_quantiles():
    torch.manual_seed(1)
    value = poutine.trace(stable_model(1.3, -0.4)).get_trace().nodes["x"].value
    torch.manual_seed(2)
    direct = dist.Stable(1.3, -0.4, 1.5, 0.5).rsample((50_000,))
    assert torch.allclose(torch.quantile(value, PROBS), torch.quantile(direct, PROBS), atol=0.08)


def test_refuses_observed_and_non_stable_sites():
    def observed():
        pplkit.sample("x", dist.Stable(1.5, 0.0), obs=torch.tensor(0.0))

    with pytest.raises(NotImplementedError, match="site 'x'.*observed"):
        poutine.trace(poutine.reparam(observed, config={"x": LatentStableReparam()})).get_trace()

    def normal():
        pplkit.sample("x", dist.Normal(0.0, 1.0))

    with pytest.raises(TypeError, match="site 'x'.*expected a Stable"):
        poutine.trace(poutine.reparam(normal, config={"x": LatentStableReparam()})).get_trace()

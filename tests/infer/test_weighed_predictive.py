"""WeighedPredictive and MHResampler against a conjugate model whose posterior is known exactly."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer import MHResampler, Predictive, WeighedPredictive
from pplkit.ops.stats import quantile, weighed_quantile

DATA = torch.tensor([1.2, 0.8, 1.5, 1.1])
# z ~ N(0, 1), x_i ~ N(z, 1): the posterior is N(sum(x) / (n + 1), 1 / (n + 1)).
POST_LOC, POST_SCALE = DATA.sum().item() / 5, math.sqrt(1 / 5)


def model(data=None):
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    with pplkit.plate("data", 4):
        pplkit.sample("x", dist.Normal(z, 1.0), obs=data)
    return z


def wide_guide(data=None):
    # A deliberately poor guide: right centre, twice the posterior's scale.
    pplkit.sample("z", dist.Normal(POST_LOC, 2 * POST_SCALE))


conditioned = poutine.condition(model, data={"x": DATA})


def test_log_weights_are_model_minus_guide_log_density():
    result = WeighedPredictive(model, guide=wide_guide, num_samples=50, return_sites=["z", "x"])(
        model_guide=conditioned
    )
    z = result.samples["z"].reshape(-1)  # (50, 1): Predictive's shapes leave room for the model's plate
    assert result.samples["x"].shape == (50, 4) and result.log_weights.shape == (50,)
    expected_model = dist.Normal(0.0, 1.0).log_prob(z) + dist.Normal(z[:, None], 1.0).log_prob(DATA).sum(-1)
    expected_guide = dist.Normal(POST_LOC, 2 * POST_SCALE).log_prob(z)
    assert torch.allclose(result.model_log_prob, expected_model, atol=1e-5)
    assert torch.allclose(result.log_weights, expected_model - expected_guide, atol=1e-5)


def test_weighted_quantiles_correct_a_poor_guide():
    result = WeighedPredictive(model, guide=wide_guide, num_samples=800, return_sites=["z"])(model_guide=conditioned)
    z = result.samples["z"].reshape(-1)
    true = dist.Normal(POST_LOC, POST_SCALE).icdf(torch.tensor([0.1, 0.9]))
    unweighted = quantile(z, [0.1, 0.9])
    weighted = weighed_quantile(z, [0.1, 0.9], result.log_weights)
    assert (unweighted - true).abs().max() > 0.25  # the guide alone is too wide
    assert torch.allclose(weighted, true, atol=0.1)


def test_mh_resampling_makes_unweighted_draws_of_the_posterior():
    sampler = WeighedPredictive(model, guide=wide_guide, num_samples=600, return_sites=["z"])
    resampler = MHResampler(sampler)
    for _ in range(5):
        result = resampler(model_guide=conditioned)
    z = result.samples["z"].reshape(-1)
    assert resampler.get_total_transition_count() > 600
    assert z.mean().item() == pytest.approx(POST_LOC, abs=0.06)
    assert z.std().item() == pytest.approx(POST_SCALE, abs=0.06)


def test_weighed_predictive_needs_a_guide_and_call_returns_a_sorted_tuple():
    with pytest.raises(ValueError, match="needs a guide"):
        WeighedPredictive(model, num_samples=3)()
    result = WeighedPredictive(model, guide=wide_guide, num_samples=3, return_sites=["z", "x"]).call()
    assert isinstance(result.samples, tuple) and result.samples[0].shape == (3, 4)  # "x" before "z"
    assert isinstance(Predictive(model, num_samples=2)(), dict)

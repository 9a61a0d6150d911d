"""Stable: Chambers-Mallows-Stuck samples against closed forms (alpha=2 Normal, alpha=1 Cauchy) and Pyro."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist

PROBS = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])


def quantiles(d, n: int = 100_000) -> torch.Tensor:
    return torch.quantile(d.rsample((n,)), PROBS)


def test_stability_two_is_a_normal_with_scale_sqrt2_sigma():
    torch.manual_seed(0)
    expected = dist.Normal(0.5, math.sqrt(2) * 1.5).icdf(PROBS)
    assert torch.allclose(quantiles(dist.Stable(2.0, 0.3, 1.5, 0.5)), expected, atol=0.05)


def test_stability_one_without_skew_is_a_cauchy():
    torch.manual_seed(1)
    expected = dist.Cauchy(1.0, 2.0).icdf(PROBS)
    assert torch.allclose(quantiles(dist.Stable(1.0, 0.0, 2.0, 1.0)), expected, atol=0.1)


@pytest.mark.parametrize("stability,skew", [(1.5, 0.5), (0.8, -0.7), (1.0, 0.6)])
def test_skewed_samples_match_pyros_sampler(stability, skew):
    pdist = pytest.importorskip("pyro.distributions")
    torch.manual_seed(2)
    theirs = torch.quantile(pdist.Stable(stability, skew).sample((100_000,)), PROBS)
    torch.manual_seed(3)  # another seed: the statistics agree, not the draws
    ours = quantiles(dist.Stable(stability, skew))
    assert torch.allclose(ours, theirs, atol=0.05, rtol=0.05)


def test_rsample_is_differentiable_in_every_parameter():
    params = [torch.tensor(v, requires_grad=True) for v in (1.5, 0.2, 2.0, 0.5)]
    x = dist.Stable(*params).rsample((10,))
    grads = torch.autograd.grad(x.sum(), params)
    assert grads[3].item() == 10.0  # d/d(loc)
    assert all(torch.isfinite(g) for g in grads)


def test_shapes_mean_and_what_it_refuses():
    d = dist.Stable(torch.tensor([1.5, 2.0]), 0.5, 2.0)
    assert d.batch_shape == (2,)
    assert d.expand((3, 2)).rsample((4,)).shape == (4, 3, 2)
    # S0 coordinates: the mean is loc - scale * skew * tan(pi * alpha / 2).
    assert torch.allclose(d.mean, torch.tensor([-2.0 * 0.5 * math.tan(0.75 * math.pi), 0.0]), atol=1e-6)
    assert d.variance[1].item() == 8.0 and d.variance[0].item() == math.inf
    with pytest.raises(NotImplementedError, match="LatentStableReparam"):
        d.log_prob(torch.zeros(2))
    with pytest.raises(ValueError, match="coords must be 'S0' or 'S'"):
        dist.Stable(1.5, 0.0, coords="S1")

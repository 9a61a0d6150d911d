"""The fast log-density sum equals the sum of torch's own log_prob terms, gradients included."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist
from pplkit.infer.mcmc.scoring import LogDensitySum, normal_log_density_sum


def test_normal_sum_in_closed_form_matches_torch_with_broadcast_scales():
    loc = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    scale = torch.rand(1, 4, dtype=torch.float64).add(0.5).requires_grad_()
    value = torch.randn(3, 4, dtype=torch.float64)
    fast = normal_log_density_sum(loc, scale, value)
    exact = torch.distributions.Normal(loc, scale).log_prob(value).sum()
    assert fast.item() == pytest.approx(exact.item())
    fast_grads = torch.autograd.grad(fast, (loc, scale))
    exact_grads = torch.autograd.grad(exact, (loc, scale))
    assert all(torch.allclose(a, b) for a, b in zip(fast_grads, exact_grads))


def test_a_mix_of_sites_sums_to_torchs_total():
    a, b = torch.tensor(0.3, requires_grad=True), torch.tensor(-1.2, requires_grad=True)
    sites = [
        (dist.Normal(0.0, 10.0), a),  # scalar Normals are stacked and scored together
        (dist.Normal(1.0, 2.0), b),
        (dist.Normal(torch.zeros(3), 1.0).to_event(1), torch.stack([a, b, a])),  # Independent is unwrapped
        (dist.Gamma(2.0, 1.0), a.exp()),  # any other family: its own log_prob
    ]
    total = LogDensitySum()
    for fn, value in sites:
        total.add(fn, value)
    fast = total.sum()
    exact = sum(fn.log_prob(value).sum() for fn, value in sites)
    assert fast.item() == pytest.approx(exact.item(), rel=1e-6)
    fast_grads = torch.autograd.grad(fast, (a, b), retain_graph=True)  # the values are shared
    exact_grads = torch.autograd.grad(exact, (a, b))
    assert all(torch.allclose(x, y) for x, y in zip(fast_grads, exact_grads))


def test_scale_and_mask_are_applied():
    value = torch.tensor([0.5, 1.5, -0.2])
    mask = torch.tensor([True, False, True])
    total = LogDensitySum()
    total.add(dist.Normal(0.0, 1.0).expand([3]), value, scale=2.0, mask=mask)
    expected = 2.0 * torch.distributions.Normal(0.0, 1.0).log_prob(value)[mask].sum()
    assert float(total.sum()) == pytest.approx(float(expected))


def test_dropping_constants_changes_the_total_by_a_constant_only():
    loc = torch.tensor(0.4, requires_grad=True)
    sigma = torch.tensor(1.3, requires_grad=True)
    data = torch.tensor([0.5, 1.5, -0.2])

    def totals(drop_constants):
        total = LogDensitySum(drop_constants=drop_constants)
        total.add(dist.Normal(0.0, 10.0), loc)  # fixed scale: log(10) is a constant
        total.add(dist.Uniform(0.0, 5.0), sigma, latent_with_fixed_support=True)  # a constant density
        total.add(dist.Normal(loc, sigma).expand([3]), data)  # log(sigma) moves with sigma: kept
        return total.sum()

    full, reduced = totals(False), totals(True)
    constants = -math.log(10.0) - 0.5 * math.log(2 * math.pi) * 4 - math.log(5.0)
    assert full.item() - reduced.item() == pytest.approx(constants, rel=1e-6)
    full_grads = torch.autograd.grad(full, (loc, sigma))
    assert all(torch.allclose(a, b) for a, b in zip(full_grads, torch.autograd.grad(reduced, (loc, sigma))))

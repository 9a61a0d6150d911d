"""ProjectedNormal: its density against numerical integration, the uniform case in closed form, Pyro's sphere."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist
from pplkit.distributions import constraints


def ray_integral_density(concentration: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """p(u) by integrating Normal(c, I)'s density along the ray r*u (trapezoid rule, float64)."""
    d = concentration.numel()
    r = torch.linspace(0.0, 30.0, 200_001, dtype=torch.float64)
    points = r[:, None] * u.double()
    sq = (points - concentration.double()).square().sum(-1)
    integrand = r ** (d - 1) * torch.exp(-0.5 * sq) / (2 * math.pi) ** (d / 2)
    return torch.trapezoid(integrand, r)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_log_prob_is_the_normal_integrated_along_the_ray(d):
    torch.manual_seed(d)
    concentration = 2.0 * torch.randn(d, dtype=torch.float64)
    for _ in range(3):
        u = torch.nn.functional.normalize(torch.randn(d, dtype=torch.float64), dim=-1)
        expected = ray_integral_density(concentration, u).log()
        assert dist.ProjectedNormal(concentration).log_prob(u).item() == pytest.approx(expected.item(), abs=1e-6)


def test_circle_density_integrates_to_one():
    theta = torch.linspace(-math.pi, math.pi, 20_001, dtype=torch.float64)
    u = torch.stack([theta.cos(), theta.sin()], -1)
    density = dist.ProjectedNormal(torch.tensor([1.5, -0.5], dtype=torch.float64)).log_prob(u).exp()
    assert torch.trapezoid(density, theta).item() == pytest.approx(1.0, abs=1e-8)


def test_two_sphere_density_integrates_to_one():
    theta = torch.linspace(0.0, math.pi, 801, dtype=torch.float64)
    phi = torch.linspace(-math.pi, math.pi, 1601, dtype=torch.float64)
    t, p = torch.meshgrid(theta, phi, indexing="ij")
    u = torch.stack([t.sin() * p.cos(), t.sin() * p.sin(), t.cos()], -1)
    density = dist.ProjectedNormal(torch.tensor([0.3, 2.0, -1.0], dtype=torch.float64)).log_prob(u).exp()
    inner = torch.trapezoid(density * t.sin(), phi, dim=-1)
    assert torch.trapezoid(inner, theta).item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_zero_concentration_is_uniform_on_the_sphere(d):
    # Uniform density: 1 / area of the unit sphere in R^d = Gamma(d/2) / (2 pi^(d/2)).
    u = torch.nn.functional.normalize(torch.randn(4, d, dtype=torch.float64), dim=-1)
    log_p = dist.ProjectedNormal(torch.zeros(d, dtype=torch.float64)).log_prob(u)
    expected = math.lgamma(d / 2) - math.log(2) - (d / 2) * math.log(math.pi)
    assert torch.allclose(log_p, torch.full((4,), expected, dtype=torch.float64))


def test_a_direction_far_from_the_mode_keeps_a_finite_log_density_in_float32():
    concentration = torch.tensor([20.0, 0.0, 0.0])
    log_p = dist.ProjectedNormal(concentration).log_prob(torch.tensor([-1.0, 0.0, 0.0]))
    truth = ray_integral_density(concentration, torch.tensor([-1.0, 0.0, 0.0])).log()
    assert log_p.item() == pytest.approx(truth.item(), rel=1e-3)


def test_samples_lie_on_the_sphere_and_center_on_the_concentrations_direction():
    torch.manual_seed(0)
    d = dist.ProjectedNormal(torch.tensor([[0.0, 4.0, 0.0]]).expand(2, 3))
    x = d.rsample((5000,))
    assert x.shape == (5000, 2, 3) and d.batch_shape == (2,) and d.event_shape == (3,)
    assert bool(constraints.sphere.check(x).all())
    mean_direction = torch.nn.functional.normalize(x.mean(0), dim=-1)
    assert torch.allclose(mean_direction, d.mean, atol=0.02)
    assert torch.allclose(d.mean, torch.tensor([0.0, 1.0, 0.0]).expand(2, 3))


def test_sphere_constraint_and_its_transform():
    assert constraints.sphere.event_dim == 1 and "sphere" in constraints.__all__
    assert constraints.sphere.check(torch.tensor([[0.6, 0.8], [1.0, 1.0]])).tolist() == [True, False]
    t = dist.transform_to(constraints.sphere)
    assert torch.allclose(t(torch.tensor([3.0, 4.0])), torch.tensor([0.6, 0.8]))
    with pytest.raises(NotImplementedError):
        dist.biject_to(constraints.sphere)


def test_a_scalar_concentration_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="must be a vector"):
        dist.ProjectedNormal(torch.tensor(1.0))

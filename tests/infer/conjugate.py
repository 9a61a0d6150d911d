"""Conjugate models with closed-form posteriors, shared by the guide and Predictive tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import SVI, Trace_ELBO
from pplkit.optim import ClippedAdam

# -- Normal-Normal with known scale: one mean per group, data in a plate --------------------------

GROUP_DATA = torch.tensor(
    [[1.2, 0.4, 2.1, 1.6, 0.9], [-0.5, -1.1, 0.2, -0.8, -0.3], [3.1, 2.4, 2.9, 3.6, 2.2], [0.1, -0.2, 0.4, 0.0, 0.3]]
)
GROUP_PRIOR_SCALE, GROUP_NOISE = 2.0, 1.0


def group_means_model(data: torch.Tensor) -> None:
    """mu_k ~ N(0, 2) per group; x_kj ~ N(mu_k, 1)."""
    with plate("groups", data.shape[0], dim=-2):
        mu = sample("mu", dist.Normal(0.0, GROUP_PRIOR_SCALE))
        with plate("obs_per_group", data.shape[1], dim=-1):
            sample("x", dist.Normal(mu, GROUP_NOISE), obs=data)


def group_means_posterior(data: torch.Tensor = GROUP_DATA) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means and sds of mu, shape (groups, 1) like the site."""
    precision = 1 / GROUP_PRIOR_SCALE**2 + data.shape[1] / GROUP_NOISE**2
    mean = (data.sum(-1, keepdim=True) / GROUP_NOISE**2) / precision
    return mean, torch.full_like(mean, precision**-0.5)


# -- Beta-Bernoulli and Gamma-Poisson --------------------------------------------------------------

FLIPS = torch.tensor([1.0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1])
BETA_PRIOR = (2.0, 2.0)


def beta_bernoulli_model(flips: torch.Tensor) -> None:
    p = sample("p", dist.Beta(*BETA_PRIOR))
    with plate("data", len(flips)):
        sample("obs", dist.Bernoulli(p), obs=flips)


def beta_posterior(flips: torch.Tensor = FLIPS) -> tuple[float, float]:
    heads = flips.sum().item()
    return BETA_PRIOR[0] + heads, BETA_PRIOR[1] + len(flips) - heads


COUNTS = torch.tensor([3.0, 5, 4, 6, 2, 4, 7, 3, 5, 4])
GAMMA_PRIOR = (2.0, 1.0)  # concentration, rate


def gamma_poisson_model(counts: torch.Tensor) -> None:
    rate = sample("rate", dist.Gamma(*GAMMA_PRIOR))
    with plate("data", len(counts)):
        sample("obs", dist.Poisson(rate), obs=counts)


def gamma_posterior(counts: torch.Tensor = COUNTS) -> tuple[float, float]:
    return GAMMA_PRIOR[0] + counts.sum().item(), GAMMA_PRIOR[1] + len(counts)


# -- Bayesian linear regression with known noise -------------------------------------------------

WEIGHT_SCALE, REGRESSION_NOISE = 2.0, 0.5


def regression_data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(30, 3, generator=generator)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + REGRESSION_NOISE * torch.randn(30, generator=generator)
    return x, y


def regression_model(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    w = sample("w", dist.Normal(0.0, WEIGHT_SCALE).expand([3]).to_event(1))
    with plate("data", x.shape[0]):
        return sample("obs", dist.Normal((x * w).sum(-1), REGRESSION_NOISE), obs=y)


def regression_posterior() -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and covariance of w: N(S X^T y / s^2, S), S = (X^T X / s^2 + I / t^2)^-1."""
    x, y = regression_data()
    precision = x.T @ x / REGRESSION_NOISE**2 + torch.eye(3) / WEIGHT_SCALE**2
    covariance = torch.linalg.inv(precision)
    return covariance @ x.T @ y / REGRESSION_NOISE**2, covariance


# -- fitting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    steps: int = 600
    lr: float = 0.1
    lrd: float = 0.992  # the learning rate falls to 0.8% of lr: the last iterate settles
    particles: int = 8


def fit(model: Callable[..., Any], guide: Callable[..., Any], *args: Any, settings: Fit = Fit()) -> None:
    """SVI with a decaying learning rate and a few vectorised particles, for tight answers."""
    elbo = Trace_ELBO(num_particles=settings.particles, vectorize_particles=True)
    svi = SVI(model, guide, ClippedAdam({"lr": settings.lr, "lrd": settings.lrd}), elbo)
    svi.run(settings.steps, *args)


def guide_moments(guide: Callable[..., Any], site: str, *args: Any, n: int = 20000) -> tuple[float, float]:
    """Mean and sd of ``site`` under the guide, from ``n`` samples drawn at once."""
    with torch.no_grad(), plate("samples", n, dim=-1):
        values = guide(*args)[site]
    return values.mean().item(), values.std().item()


def beta_moments(a: float, b: float) -> tuple[float, float]:
    return a / (a + b), math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

"""Small models with known graphs, shared by the inspect tests as fixtures.

Each fixture returns the model function itself, so a test takes e.g. ``nested_plates``
as an argument and calls ``get_model_relations(nested_plates)``.
"""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate


def _intro_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The intro tutorial's three columns, made up, with its shapes (170 nations)."""
    generator = torch.Generator().manual_seed(0)
    is_cont_africa = torch.randint(0, 2, (170,), generator=generator).float()
    ruggedness = torch.rand(170, generator=generator) * 6
    log_gdp = 9.0 - 0.2 * ruggedness + 0.3 * torch.randn(170, generator=generator)
    return is_cont_africa, ruggedness, log_gdp


def _nested_plates() -> None:
    """A hierarchical model: group means in plate 'groups', items inside each group."""
    scale = pplkit.sample("scale", dist.HalfNormal(1.0))
    with plate("groups", 3, dim=-2):
        mu = pplkit.sample("mu", dist.Normal(0.0, scale))
        with plate("items", 4, dim=-1):
            pplkit.sample("y", dist.Normal(mu, 1.0), obs=torch.zeros(3, 4))


def _crossing_plates() -> None:
    """Row effects in plate 'rows', column effects in 'cols', cells in both: the plates cross."""
    rows = plate("rows", 3, dim=-2)
    cols = plate("cols", 4, dim=-1)
    with rows:
        r = pplkit.sample("r", dist.Normal(0.0, 1.0))
    with cols:
        c = pplkit.sample("c", dist.Normal(0.0, 1.0))
    with rows, cols:
        pplkit.sample("cell", dist.Normal(r + c, 1.0), obs=torch.zeros(3, 4))


def _deterministic_and_factor() -> None:
    """A chain through a deterministic site, a factor on it, and a discrete latent."""
    a = pplkit.sample("a", dist.Normal(0.0, 1.0))
    b = pplkit.sample("b", dist.LogNormal(a, 1.0))
    mean = pplkit.deterministic("mean", a + b)
    pplkit.factor("penalty", -(mean**2))
    k = pplkit.sample("k", dist.Categorical(torch.ones(3) / 3))
    offsets = torch.tensor([-1.0, 0.0, 1.0])
    pplkit.sample("y", dist.Normal(mean + offsets[k], 1.0), obs=torch.tensor(0.5))


def _semi_supervised(xs: torch.Tensor, ys: torch.Tensor | None = None) -> None:
    """Labels ``y`` observed for some batches and latent for others."""
    w = pplkit.sample("w", dist.Normal(0.0, 1.0))
    with plate("data", len(xs)):
        y = pplkit.sample("y", dist.Bernoulli(logits=w * xs), obs=ys)
        pplkit.sample("x", dist.Normal(y, 1.0), obs=xs)


def _fragile() -> None:
    """Runs only when ``rate`` is non-negative, which a prior draw never is."""
    rate = pplkit.sample("rate", dist.Normal(-3.0, 0.1))
    n = pplkit.sample("n", dist.Poisson(rate))
    pplkit.sample("y", dist.Normal(n, 1.0), obs=torch.tensor(2.0))


@pytest.fixture
def intro_args() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return _intro_data()


@pytest.fixture
def nested_plates():
    return _nested_plates


@pytest.fixture
def crossing_plates():
    return _crossing_plates


@pytest.fixture
def deterministic_and_factor():
    return _deterministic_and_factor


@pytest.fixture
def semi_supervised():
    return _semi_supervised


@pytest.fixture
def fragile():
    return _fragile

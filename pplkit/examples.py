"""The models of the "Introduction to Pyro" tutorial, written with pplkit.

They regress the log GDP per capita of a nation on its terrain ruggedness, inside and
outside Africa. Tests, benchmarks and widget demos share these definitions; the
tutorial notebook writes them out again, because reading them is the lesson.

Example::

    from pplkit.examples import rugged_data, model
    is_cont_africa, ruggedness, log_gdp = rugged_data()
    model(is_cont_africa, ruggedness, log_gdp)
"""

from __future__ import annotations

import torch

from . import distributions as dist
from .distributions import constraints
from .plate import plate
from .primitives import param, sample

__all__ = ["custom_guide", "model", "rugged_data", "simple_model"]


def rugged_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(is_cont_africa, ruggedness, log_gdp) for the 170 nations with a known GDP."""
    import numpy as np

    from .datasets import load_rugged

    df = load_rugged()[["cont_africa", "rugged", "rgdppc_2000"]]
    df = df[np.isfinite(df.rgdppc_2000)].copy()
    df["rgdppc_2000"] = np.log(df["rgdppc_2000"])
    train = torch.tensor(df.values, dtype=torch.get_default_dtype())
    return train[:, 0], train[:, 1], train[:, 2]


def linear_mean(
    a: torch.Tensor, b_a: torch.Tensor, b_r: torch.Tensor, b_ar: torch.Tensor,
    is_cont_africa: torch.Tensor, ruggedness: torch.Tensor,
) -> torch.Tensor:
    """The regression line: separate slopes on ruggedness inside and outside Africa."""
    return a + b_a * is_cont_africa + b_r * ruggedness + b_ar * is_cont_africa * ruggedness


def simple_model(
    is_cont_africa: torch.Tensor, ruggedness: torch.Tensor, log_gdp: torch.Tensor | None = None
) -> torch.Tensor:
    """Maximum-likelihood regression: the coefficients are params, not random variables."""
    a = param("a", lambda: torch.randn(()))
    b_a = param("bA", lambda: torch.randn(()))
    b_r = param("bR", lambda: torch.randn(()))
    b_ar = param("bAR", lambda: torch.randn(()))
    sigma = param("sigma", lambda: torch.ones(()), constraint=constraints.positive)
    mean = linear_mean(a, b_a, b_r, b_ar, is_cont_africa, ruggedness)
    with plate("data", len(ruggedness)):
        return sample("obs", dist.Normal(mean, sigma), obs=log_gdp)


def model(
    is_cont_africa: torch.Tensor, ruggedness: torch.Tensor, log_gdp: torch.Tensor | None = None
) -> torch.Tensor:
    """Bayesian regression: priors on the coefficients and on the noise scale."""
    a = sample("a", dist.Normal(0.0, 10.0))
    b_a = sample("bA", dist.Normal(0.0, 1.0))
    b_r = sample("bR", dist.Normal(0.0, 1.0))
    b_ar = sample("bAR", dist.Normal(0.0, 1.0))
    sigma = sample("sigma", dist.Uniform(0.0, 10.0))
    mean = linear_mean(a, b_a, b_r, b_ar, is_cont_africa, ruggedness)
    with plate("data", len(ruggedness)):
        return sample("obs", dist.Normal(mean, sigma), obs=log_gdp)


def custom_guide(
    is_cont_africa: torch.Tensor, ruggedness: torch.Tensor, log_gdp: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """The tutorial's hand-written mean-field guide for :func:`model`."""
    a_loc = param("a_loc", lambda: torch.tensor(0.0))
    a_scale = param("a_scale", lambda: torch.tensor(1.0), constraint=constraints.positive)
    sigma_loc = param("sigma_loc", lambda: torch.tensor(1.0), constraint=constraints.positive)
    weights_loc = param("weights_loc", lambda: torch.randn(3))
    weights_scale = param("weights_scale", lambda: torch.ones(3), constraint=constraints.positive)
    a = sample("a", dist.Normal(a_loc, a_scale))
    b_a = sample("bA", dist.Normal(weights_loc[0], weights_scale[0]))
    b_r = sample("bR", dist.Normal(weights_loc[1], weights_scale[1]))
    b_ar = sample("bAR", dist.Normal(weights_loc[2], weights_scale[2]))
    sigma = sample("sigma", dist.Normal(sigma_loc, torch.tensor(0.05)))
    return {"a": a, "b_a": b_a, "b_r": b_r, "b_ar": b_ar, "sigma": sigma}

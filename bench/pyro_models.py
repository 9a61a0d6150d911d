"""The intro tutorial's models written for Pyro, for side-by-side benchmarks.

They mirror :mod:`pplkit.examples` line for line; only the import differs, which is
the point of pplkit's Pyro-compatible names. Pyro is imported here and nowhere in
pplkit. ``pyro_models()`` returns None when pyro-ppl is not installed.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from pplkit.examples import linear_mean


def pyro_models() -> dict[str, Callable[..., Any]] | None:
    """``{"model", "simple_model", "custom_guide"}`` written with Pyro, or None without pyro-ppl."""
    try:
        import pyro
        import pyro.distributions as dist
        from pyro.distributions import constraints
    except ImportError:
        return None

    def simple_model(is_cont_africa, ruggedness, log_gdp=None):  # type: ignore[no-untyped-def]
        a = pyro.param("a", lambda: torch.randn(()))
        b_a = pyro.param("bA", lambda: torch.randn(()))
        b_r = pyro.param("bR", lambda: torch.randn(()))
        b_ar = pyro.param("bAR", lambda: torch.randn(()))
        sigma = pyro.param("sigma", lambda: torch.ones(()), constraint=constraints.positive)
        mean = linear_mean(a, b_a, b_r, b_ar, is_cont_africa, ruggedness)
        with pyro.plate("data", len(ruggedness)):
            return pyro.sample("obs", dist.Normal(mean, sigma), obs=log_gdp)

    def model(is_cont_africa, ruggedness, log_gdp=None):  # type: ignore[no-untyped-def]
        a = pyro.sample("a", dist.Normal(0.0, 10.0))
        b_a = pyro.sample("bA", dist.Normal(0.0, 1.0))
        b_r = pyro.sample("bR", dist.Normal(0.0, 1.0))
        b_ar = pyro.sample("bAR", dist.Normal(0.0, 1.0))
        sigma = pyro.sample("sigma", dist.Uniform(0.0, 10.0))
        mean = linear_mean(a, b_a, b_r, b_ar, is_cont_africa, ruggedness)
        with pyro.plate("data", len(ruggedness)):
            return pyro.sample("obs", dist.Normal(mean, sigma), obs=log_gdp)

    def custom_guide(is_cont_africa, ruggedness, log_gdp=None):  # type: ignore[no-untyped-def]
        a_loc = pyro.param("a_loc", lambda: torch.tensor(0.0))
        a_scale = pyro.param("a_scale", lambda: torch.tensor(1.0), constraint=constraints.positive)
        sigma_loc = pyro.param("sigma_loc", lambda: torch.tensor(1.0), constraint=constraints.positive)
        weights_loc = pyro.param("weights_loc", lambda: torch.randn(3))
        weights_scale = pyro.param("weights_scale", lambda: torch.ones(3), constraint=constraints.positive)
        a = pyro.sample("a", dist.Normal(a_loc, a_scale))
        b_a = pyro.sample("bA", dist.Normal(weights_loc[0], weights_scale[0]))
        b_r = pyro.sample("bR", dist.Normal(weights_loc[1], weights_scale[1]))
        b_ar = pyro.sample("bAR", dist.Normal(weights_loc[2], weights_scale[2]))
        sigma = pyro.sample("sigma", dist.Normal(sigma_loc, torch.tensor(0.05)))
        return {"a": a, "b_a": b_a, "b_r": b_r, "b_ar": b_ar, "sigma": sigma}

    return {"model": model, "simple_model": simple_model, "custom_guide": custom_guide}

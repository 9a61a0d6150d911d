"""The benchmark models written for NumPyro, to run side by side with pplkit's and Pyro's.

NumPyro and JAX are an optional benchmark extra (``pip install .[bench]``), imported only
here and only when called; pplkit never imports them. ``numpyro_models()`` returns None
when they are not installed. JAX is told to use one CPU thread, as torch is in the
benchmarks, before it is first imported.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from pplkit.examples import linear_mean


def numpyro_models() -> dict[str, Callable[..., Any]] | None:
    """``{"model", "hierarchical"}`` written with NumPyro, or None without numpyro and jax."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import numpyro
        import numpyro.distributions as dist
    except ImportError:
        return None

    def model(is_cont_africa, ruggedness, log_gdp=None):  # type: ignore[no-untyped-def]
        a = numpyro.sample("a", dist.Normal(0.0, 10.0))
        b_a = numpyro.sample("bA", dist.Normal(0.0, 1.0))
        b_r = numpyro.sample("bR", dist.Normal(0.0, 1.0))
        b_ar = numpyro.sample("bAR", dist.Normal(0.0, 1.0))
        sigma = numpyro.sample("sigma", dist.Uniform(0.0, 10.0))
        mean = linear_mean(a, b_a, b_r, b_ar, is_cont_africa, ruggedness)  # plain arithmetic: works on JAX arrays
        with numpyro.plate("data", len(ruggedness)):
            return numpyro.sample("obs", dist.Normal(mean, sigma), obs=log_gdp)

    def hierarchical(group, y, num_groups):  # type: ignore[no-untyped-def]
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfNormal(5.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(5.0))
        with numpyro.plate("groups", num_groups):
            theta_raw = numpyro.sample("theta_raw", dist.Normal(0.0, 1.0))
        theta = mu + tau * theta_raw
        with numpyro.plate("data", len(y)):
            numpyro.sample("y", dist.Normal(theta[group], sigma), obs=y)

    return {"model": model, "hierarchical": hierarchical}

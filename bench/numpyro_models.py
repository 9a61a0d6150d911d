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
    """``{"model", "custom_guide", "hierarchical"}`` written with NumPyro, or None without numpyro and jax."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints
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

    def custom_guide(is_cont_africa, ruggedness, log_gdp=None):  # type: ignore[no-untyped-def]
        a_loc = numpyro.param("a_loc", 0.0)
        a_scale = numpyro.param("a_scale", 1.0, constraint=constraints.positive)
        sigma_loc = numpyro.param("sigma_loc", 1.0, constraint=constraints.positive)
        weights_loc = numpyro.param("weights_loc", lambda key: jax.random.normal(key, (3,)))
        weights_scale = numpyro.param("weights_scale", jax.numpy.ones(3), constraint=constraints.positive)
        a = numpyro.sample("a", dist.Normal(a_loc, a_scale))
        b_a = numpyro.sample("bA", dist.Normal(weights_loc[0], weights_scale[0]))
        b_r = numpyro.sample("bR", dist.Normal(weights_loc[1], weights_scale[1]))
        b_ar = numpyro.sample("bAR", dist.Normal(weights_loc[2], weights_scale[2]))
        sigma = numpyro.sample("sigma", dist.Normal(sigma_loc, 0.05))
        return {"a": a, "b_a": b_a, "b_r": b_r, "b_ar": b_ar, "sigma": sigma}

    def hierarchical(group, y, num_groups):  # type: ignore[no-untyped-def]
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfNormal(5.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(5.0))
        with numpyro.plate("groups", num_groups):
            theta_raw = numpyro.sample("theta_raw", dist.Normal(0.0, 1.0))
        theta = mu + tau * theta_raw
        with numpyro.plate("data", len(y)):
            numpyro.sample("y", dist.Normal(theta[group], sigma), obs=y)

    return {"model": model, "custom_guide": custom_guide, "hierarchical": hierarchical}

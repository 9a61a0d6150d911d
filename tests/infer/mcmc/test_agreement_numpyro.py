"""NUTS eager, NUTS jit_compile and NumPyro's NUTS give the same posterior, within Monte-Carlo error.

The model is a small regression with a constrained noise scale, so the comparison covers
the unconstrained transform and its Jacobian as well as the sampler. Two posteriors
agree when every site's mean differs by less than 4 standard errors of the difference
(each error sd / sqrt(ESS), ESS by pplkit's Stan formula for all three) and the
posterior sds agree within 25%. NumPyro is a test dependency only (the ``dev`` extra);
the tests are skipped without it. They are marked slow: JAX's compile of NumPyro's
sampler alone takes 10-45 s on a busy 2-core machine, and each chain here 5-15 s.

``jit_compile=True`` runs here with its traced graph uncompiled: the graph is what
jit_compile runs, and Inductor's compile of it (10-30 s more) is checked against the
closed-form posterior in test_compiled.py.
"""

from __future__ import annotations

import os

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer.mcmc import MCMC, NUTS, effective_sample_size
from pplkit.infer.mcmc import hmc as hmc_module
from pplkit.infer.mcmc.compiled import compile_step

X = torch.linspace(-1.0, 1.0, 15)
Y = 0.5 + 2.0 * X + 0.4 * torch.randn(15, generator=torch.Generator().manual_seed(1))
WARMUP, SAMPLES = 200, 400
SITES = ("a", "b", "sigma")

Posterior = dict[str, torch.Tensor]


def regression(x: torch.Tensor, y: torch.Tensor) -> None:
    a = pplkit.sample("a", dist.Normal(0.0, 5.0))
    b = pplkit.sample("b", dist.Normal(0.0, 5.0))
    sigma = pplkit.sample("sigma", dist.HalfNormal(2.0))
    with pplkit.plate("data", len(x)):
        pplkit.sample("y", dist.Normal(a + b * x, sigma), obs=y)


def pplkit_posterior(jit_compile: bool) -> Posterior:
    kernel = NUTS(regression, jit_compile=jit_compile)
    mcmc = MCMC(kernel, num_samples=SAMPLES, warmup_steps=WARMUP, disable_progbar=True)
    mcmc.run(X, Y)
    if jit_compile:
        assert kernel.compiled_step is not None  # it really ran the traced step
    return {name: mcmc.get_samples()[name] for name in SITES}


def numpyro_posterior() -> Posterior:
    # One CPU thread, as torch here, and set before JAX is first imported.
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    numpyro = pytest.importorskip("numpyro")
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as ndist

    def model(x, y):  # type: ignore[no-untyped-def]
        a = numpyro.sample("a", ndist.Normal(0.0, 5.0))
        b = numpyro.sample("b", ndist.Normal(0.0, 5.0))
        sigma = numpyro.sample("sigma", ndist.HalfNormal(2.0))
        with numpyro.plate("data", len(x)):
            numpyro.sample("y", ndist.Normal(a + b * x, sigma), obs=y)

    mcmc = numpyro.infer.MCMC(
        numpyro.infer.NUTS(model), num_warmup=WARMUP, num_samples=SAMPLES, progress_bar=False
    )
    mcmc.run(jax.random.PRNGKey(0), jnp.asarray(X.numpy()), jnp.asarray(Y.numpy()))
    return {name: torch.tensor(jax.device_get(mcmc.get_samples()[name]).tolist()) for name in SITES}


def assert_agree(ours: Posterior, theirs: Posterior, label: str) -> None:
    for name in SITES:
        p, q = ours[name].double(), theirs[name].double()
        se = (p.var() / effective_sample_size(p[None]) + q.var() / effective_sample_size(q[None])).sqrt()
        assert abs(float(p.mean() - q.mean())) < 4 * float(se), f"{label}: {name} means {p.mean():.3f}, {q.mean():.3f}"
        assert float(p.std()) == pytest.approx(float(q.std()), rel=0.25), f"{label}: {name} sds"


@pytest.fixture(scope="module")
def numpyros() -> Posterior:
    return numpyro_posterior()


@pytest.mark.slow
def test_eager_nuts_agrees_with_numpyro(numpyros: Posterior):
    pplkit.set_rng_seed(0)
    assert_agree(pplkit_posterior(jit_compile=False), numpyros, "eager")


@pytest.mark.slow
def test_jit_compiled_nuts_agrees_with_numpyro(numpyros: Posterior, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        hmc_module, "compile_step", lambda *args, **kwargs: compile_step(*args, **{**kwargs, "inductor": False})
    )
    pplkit.set_rng_seed(1)
    assert_agree(pplkit_posterior(jit_compile=True), numpyros, "traced")

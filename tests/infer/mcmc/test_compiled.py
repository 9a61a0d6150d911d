"""jit_compile=True: the traced leapfrog step equals the eager one; fallbacks warn; one compiled run."""

from __future__ import annotations

import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer.mcmc import MCMC, NUTS
from pplkit.infer.mcmc.compiled import CompiledIntegrator, JitWarning, compile_step
from pplkit.infer.mcmc.hamiltonian import DenseMass, DiagonalMass, Integrator
from pplkit.infer.mcmc.potential import Potential
from pplkit.util import validation_disabled

X = torch.linspace(-1.0, 1.0, 12)
Y = 0.5 + 2.0 * X + 0.3 * torch.randn(12, generator=torch.Generator().manual_seed(0))


def regression(x, y):
    a = pplkit.sample("a", dist.Normal(0.0, 10.0))
    b = pplkit.sample("b", dist.Normal(0.0, 1.0))
    sigma = pplkit.sample("sigma", dist.Uniform(0.0, 10.0))
    scales = pplkit.sample("scales", dist.Gamma(2.0, 2.0).expand([2]).to_event(1))
    with plate("data", len(x)):
        pplkit.sample("y", dist.Normal(a + b * x, sigma * scales.sum()), obs=y)


@pytest.mark.parametrize("dense", [False, True])
def test_a_traced_step_is_the_eager_leapfrog_step(dense):
    with validation_disabled():
        potential = Potential(regression, (X, Y))
        z = potential.initial_point()
        step, reason = compile_step(potential.energy, z, dense=dense, inductor=False)
        assert step is not None, reason
        inverse = torch.linspace(0.5, 2.0, potential.dim)
        mass = DenseMass(torch.diag(inverse) + 0.1) if dense else DiagonalMass(inverse)
        eager, traced = Integrator(potential.energy_and_grad, mass), CompiledIntegrator(step, mass)
        energy, grad = eager.energy_and_grad(z)
        traced_energy, traced_grad = traced.energy_and_grad(z)
        assert traced_energy == pytest.approx(energy, rel=1e-5) and torch.allclose(traced_grad, grad, atol=1e-4)
        point = eager.start(z)
        for step_size in (0.05, -0.02):
            expected, got = eager.leapfrog(point, step_size), traced.leapfrog(point, step_size)
            for field in ("position", "momentum", "velocity", "grad"):
                assert torch.allclose(getattr(got, field), getattr(expected, field), rtol=1e-4, atol=1e-4), field
            assert got.potential == pytest.approx(expected.potential, rel=1e-5)
            assert got.kinetic == pytest.approx(expected.kinetic, rel=1e-5)


def a_beta_likelihood(y):
    a = pplkit.sample("a", dist.HalfNormal(5.0))
    with plate("data", len(y)):
        pplkit.sample("y", dist.Beta(a, 2.0), obs=y)


def test_betas_inner_dirichlet_does_not_stop_the_trace():
    y = torch.linspace(0.1, 0.8, 10)
    with validation_disabled():
        potential = Potential(a_beta_likelihood, (y,))
        step, reason = compile_step(potential.energy, torch.zeros(1), dense=False, inductor=False)
    assert step is not None, reason
    assert torch.distributions.Distribution._validate_args is True  # torch's switch is back as it was


def branches_on_a_latent(y):
    x = pplkit.sample("x", dist.Normal(0.0, 1.0))
    if x > 0:  # data-dependent control flow: no single graph follows it
        pplkit.sample("y", dist.Normal(x, 1.0), obs=y)
    else:
        pplkit.sample("y", dist.Normal(-x, 2.0), obs=y)


def test_a_model_that_branches_on_a_latent_runs_eagerly_with_one_warning():
    mcmc = MCMC(NUTS(branches_on_a_latent, jit_compile=True), num_samples=30, warmup_steps=30, disable_progbar=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        mcmc.run(torch.tensor(0.5))
    jit = [str(w.message) for w in record if issubclass(w.category, JitWarning)]
    assert len(jit) == 1 and "running eagerly" in jit[0] and "control flow depends on latent values" in jit[0]
    assert mcmc.kernel.compiled_step is None and mcmc.get_samples()["x"].shape == (30,)


def conjugate(y):
    loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
    with plate("data", len(y)):
        pplkit.sample("y", dist.Normal(loc, 1.0), obs=y)


@pytest.mark.slow
def test_compiled_nuts_matches_the_closed_form_posterior():
    # The one test that runs Inductor (its compile takes 10-30 s on 2 cores).
    # Normal-Normal: the posterior is N(sum y / (n + 1), 1 / (n + 1)).
    y = torch.tensor([0.8, 1.4, 0.3, 1.1, 0.9])
    kernel = NUTS(conjugate, jit_compile=True)
    mcmc = MCMC(kernel, num_samples=600, warmup_steps=200, disable_progbar=True)
    mcmc.run(y)
    assert kernel.compiled_step is not None and kernel.compiled_step.compiled
    loc = mcmc.get_samples()["loc"]
    n_eff = float(mcmc.diagnostics()["loc"]["n_eff"])
    mean, sd = float(y.sum() / 6), (1 / 6) ** 0.5
    assert abs(float(loc.mean()) - mean) < 4 * sd / n_eff**0.5
    assert float(loc.std()) == pytest.approx(sd, rel=0.2)
    compiled = kernel.compiled_step
    mcmc.run(y)  # the same data: the compiled step is reused, not compiled again
    assert kernel.compiled_step is compiled


def test_importing_mcmc_loads_neither_the_compiler_nor_the_benchmark_extras():
    import subprocess
    import sys

    code = (
        "import sys, pplkit, pplkit.infer.mcmc; "
        "print([m for m in ('torch._dynamo', 'torch._inductor', 'jax', 'numpyro') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

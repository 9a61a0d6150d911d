"""chain_method="vectorized": K chains in one batched step, each as it would run alone."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer.mcmc import HMC, MCMC, NUTS
from pplkit.infer.mcmc.hamiltonian import DiagonalMass, Integrator
from pplkit.infer.mcmc.potential import Potential
from pplkit.infer.mcmc.vectorized import BatchedStep

Y = torch.tensor([0.8, 1.4, 0.3, 1.1, 0.9])


def conjugate(y):
    loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
    scale = pplkit.sample("scale", dist.LogNormal(0.0, 0.5))
    with plate("data", len(y)):
        pplkit.sample("y", dist.Normal(loc, scale), obs=y)


def test_a_batched_step_is_each_chains_own_step():
    kernel = NUTS(conjugate)
    kernel.setup(Y)
    potential = kernel.potential
    assert isinstance(potential, Potential)
    starts = [torch.tensor([0.3, -0.2]), torch.tensor([-1.0, 0.5]), torch.tensor([2.0, 0.0])]
    masses = [
        DiagonalMass(torch.tensor([1.0, 2.0])),
        DiagonalMass(torch.tensor([0.5, 0.5])),
        DiagonalMass(torch.ones(2)),
    ]
    batched = BatchedStep(kernel, starts[0], num_chains=3)
    requests, expected = [], []
    for start, mass, step_size in zip(starts, masses, (0.1, -0.05, 0.2)):
        integrator = Integrator(potential.energy_and_grad, mass)
        point = integrator.start(start)
        requests.append((point, step_size))
        expected.append(integrator.leapfrog(point, step_size))
    answers = batched(requests, [m.inverse for m in masses])
    for got, want in zip(answers, expected):
        assert torch.allclose(got.position, want.position, atol=1e-6)
        assert torch.allclose(got.grad, want.grad, atol=1e-5)
        assert got.potential == pytest.approx(want.potential, rel=1e-6)
        assert got.kinetic == pytest.approx(want.kinetic, rel=1e-6)


def normal_normal(y):
    loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
    with plate("data", len(y)):
        pplkit.sample("y", dist.Normal(loc, 1.0), obs=y)


@pytest.mark.parametrize("kernel", [NUTS, lambda model: HMC(model, num_steps=4)], ids=["NUTS", "HMC"])
def test_vectorized_chains_sample_the_closed_form_posterior(kernel):
    seen: list[tuple[str, int]] = []
    mcmc = MCMC(
        kernel(normal_normal),
        num_samples=300,
        warmup_steps=150,
        num_chains=3,
        chain_method="vectorized",
        disable_progbar=True,
        hook_fn=lambda k, params, stage, i: seen.append((stage, i)),
    )
    mcmc.run(Y)
    grouped = mcmc.get_samples(group_by_chain=True)["loc"]
    assert grouped.shape == (3, 300) and mcmc.get_samples()["loc"].shape == (900,)
    assert len(seen) == 3 * 450 and seen.count(("Sample", 299)) == 3
    mean, sd = float(Y.sum() / 6), (1 / 6) ** 0.5
    n_eff = float(mcmc.diagnostics()["loc"]["n_eff"])
    assert abs(float(grouped.mean()) - mean) < 4 * sd / n_eff**0.5
    assert float(grouped.std()) == pytest.approx(sd, rel=0.15)
    assert not torch.equal(grouped[0], grouped[1])  # independent chains, not copies
    assert len(mcmc.transitions) == 3 and len(mcmc.step_sizes) == 3


def test_summary_reports_r_hat_across_vectorized_chains(capsys):
    mcmc = MCMC(
        NUTS(normal_normal),
        num_samples=200,
        warmup_steps=100,
        num_chains=2,
        chain_method="vectorized",
        disable_progbar=True,
    )
    mcmc.run(Y)
    table = mcmc.summary()
    assert abs(table["loc"]["r_hat"] - 1.0) < 0.1
    assert "r_hat" in capsys.readouterr().out


def test_an_unknown_chain_method_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"chain_method must be one of \('sequential', 'vectorized'\)"):
        MCMC(NUTS(normal_normal), num_samples=10, chain_method="parallel-ish")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")
def test_vectorized_chains_stay_on_the_datas_cuda_device():
    y = Y.cuda()
    mcmc = MCMC(
        NUTS(normal_normal),
        num_samples=50,
        warmup_steps=50,
        num_chains=2,
        chain_method="vectorized",
        disable_progbar=True,
    )
    mcmc.run(y)
    assert mcmc.get_samples()["loc"].device.type == "cuda"

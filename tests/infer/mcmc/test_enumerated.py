"""Discrete latents under HMC and NUTS: summed out exactly, checked against the hand-written marginal."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer import MCMC, NUTS, config_enumerate
from pplkit.infer.autoguide import init_to_mean
from pplkit.infer.mcmc.compiled import compile_step
from pplkit.infer.mcmc.potential import Potential
from pplkit.util import validation_disabled

Normal = torch.distributions.Normal
WEIGHTS = torch.tensor([0.3, 0.7])


def mixture_data() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.cat([torch.randn(6, generator=generator) - 3.0, torch.randn(14, generator=generator) + 3.0])


@config_enumerate
def mixture(data):
    """Two components with known weights. The locations' posterior has a second, local mode with the
    labels switched (e^-9 of the mass); the chains start at the prior means, in the main mode's basin."""
    locs = pplkit.sample("locs", dist.Normal(torch.tensor([-1.0, 1.0]), 2.0).to_event(1))
    with plate("data", len(data)):
        which = pplkit.sample("which", dist.Categorical(WEIGHTS))
        pplkit.sample("x", dist.Normal(locs[which], 1.0), obs=data)


def mixture_log_joint(locs: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """log p(locs) + sum_i log sum_k w_k N(x_i | loc_k, 1), for locs of shape (..., 2)."""
    prior = Normal(torch.tensor([-1.0, 1.0]), 2.0).log_prob(locs).sum(-1)
    per_point = Normal(locs.unsqueeze(-2), 1.0).log_prob(data.unsqueeze(-1)) + WEIGHTS.log()
    return prior + per_point.logsumexp(-1).sum(-1)


def test_the_potential_is_minus_the_log_marginal_of_a_mixture():
    data = mixture_data()
    potential = Potential(mixture, (data,))
    assert list(potential.sites) == ["locs"] and potential.enumeration.site_names == ("which",)
    for point in (torch.tensor([-2.5, 2.0]), torch.tensor([0.4, -1.3])):
        energy, grad = potential.energy_and_grad(point)
        z = point.clone().requires_grad_()
        expected = -mixture_log_joint(z, data)
        (expected_grad,) = torch.autograd.grad(expected, z)
        assert energy == pytest.approx(expected.item(), rel=1e-6)
        assert torch.allclose(grad, expected_grad, rtol=1e-5)


def pyros_bernoulli_latent_model(data):
    """Pyro's own test model (tests/infer/mcmc/test_nuts.py): two chained discrete sites per point."""
    y_prob = pplkit.sample("y_prob", dist.Beta(1.0, 1.0))
    with plate("data", data.shape[0]):
        y = pplkit.sample("y", dist.Bernoulli(y_prob))
        z = pplkit.sample("z", dist.Bernoulli(0.65 * y + 0.1))
        pplkit.sample("obs", dist.Normal(2.0 * z, 1.0), obs=data)


def bernoulli_log_marginal(y_prob: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """sum_i log sum_{y,z} p(y) p(z | y) N(x_i | 2z, 1), for y_prob of shape (...,): Beta(1, 1) is flat."""
    y_prob = y_prob.unsqueeze(-1)
    density_if_z0, density_if_z1 = Normal(0.0, 1.0).log_prob(data).exp(), Normal(2.0, 1.0).log_prob(data).exp()
    total = torch.zeros_like(data + y_prob)
    for y in (0.0, 1.0):
        p_y = y_prob if y else 1 - y_prob
        p_z1 = 0.65 * y + 0.1
        total = total + p_y * (p_z1 * density_if_z1 + (1 - p_z1) * density_if_z0)
    return total.log().sum(-1)


def bernoulli_data(n: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(2)
    y = (torch.rand(n, generator=generator) < 0.3).float()
    z = (torch.rand(n, generator=generator) < 0.65 * y + 0.1).float()
    return 2.0 * z + torch.randn(n, generator=generator)


def test_two_chained_discrete_sites_in_one_plate_are_summed_out_together():
    data = bernoulli_data(50)
    with pytest.warns(UserWarning, match="'y', 'z' are summed out by enumeration"):
        potential = Potential(pyros_bernoulli_latent_model, (data,))
    logit = torch.tensor([-0.4])
    energy, _ = potential.energy_and_grad(logit)
    y_prob = torch.sigmoid(logit)
    log_det = torch.nn.functional.logsigmoid(logit) + torch.nn.functional.logsigmoid(-logit)
    assert energy == pytest.approx(-float(bernoulli_log_marginal(y_prob, data) + log_det), rel=1e-6)


def test_a_global_discrete_site_is_summed_over_the_whole_plate_and_a_local_one_per_element():
    data = torch.tensor([0.3, 2.5, 2.1, -0.4])

    @config_enumerate
    def regimes(data):
        loc = pplkit.sample("loc", dist.Normal(0.0, 3.0))
        shifted = pplkit.sample("shifted", dist.Bernoulli(0.4))  # one value for every point
        with plate("data", len(data)):
            outlier = pplkit.sample("outlier", dist.Bernoulli(0.1))  # one value per point
            scale = 1.0 + 4.0 * outlier
            pplkit.sample("x", dist.Normal(loc + 2.0 * shifted, scale), obs=data)

    potential = Potential(regimes, (data,))
    loc = torch.tensor(0.7)
    per_regime = []
    for shifted, p_shifted in ((0.0, 0.6), (1.0, 0.4)):
        inlier = math.log(0.9) + Normal(loc + 2 * shifted, 1.0).log_prob(data)
        outlier = math.log(0.1) + Normal(loc + 2 * shifted, 5.0).log_prob(data)
        per_regime.append(math.log(p_shifted) + torch.logaddexp(inlier, outlier).sum())
    expected = Normal(0.0, 3.0).log_prob(loc) + torch.stack(per_regime).logsumexp(0)
    energy, _ = potential.energy_and_grad(loc.reshape(1))
    assert energy == pytest.approx(-float(expected), rel=1e-6)


def grid_moments(log_density: torch.Tensor, *axes: torch.Tensor) -> list[tuple[float, float]]:
    """Posterior mean and sd along each axis of a grid of unnormalised log densities."""
    weights = (log_density - log_density.max()).exp()
    weights = weights / weights.sum()
    moments = []
    for i, axis in enumerate(axes):
        shape = [1] * len(axes)
        shape[i] = -1
        values = axis.reshape(shape)
        mean = (weights * values).sum()
        moments.append((float(mean), float((weights * (values - mean) ** 2).sum().sqrt())))
    return moments


def test_nuts_samples_a_mixtures_locations_from_their_exact_posterior():
    data = mixture_data()
    mcmc = MCMC(NUTS(mixture, init_strategy=init_to_mean), num_samples=300, warmup_steps=200, disable_progbar=True)
    mcmc.run(data)
    samples = mcmc.get_samples()
    assert set(samples) == {"locs"}  # the assignments were summed out, as in Pyro
    axis = torch.linspace(-7.0, 7.0, 561)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)
    for k, (mean, sd) in enumerate(grid_moments(mixture_log_joint(grid, data), axis, axis)):
        draws = samples["locs"][:, k]
        assert float(draws.mean()) == pytest.approx(mean, abs=4 * sd / math.sqrt(150))
        assert float(draws.std()) == pytest.approx(sd, rel=0.2)


def test_nuts_on_pyros_bernoulli_latent_model_matches_the_exact_marginal_posterior():
    data = bernoulli_data(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the sites are not marked, as in Pyro's test
        mcmc = MCMC(NUTS(pyros_bernoulli_latent_model, max_plate_nesting=1), 300, 200, disable_progbar=True)
        mcmc.run(data)
    axis = torch.linspace(0.0005, 0.9995, 1000)
    ((mean, sd),) = grid_moments(bernoulli_log_marginal(axis, data), axis)
    draws = mcmc.get_samples()["y_prob"]
    assert float(draws.mean()) == pytest.approx(mean, abs=4 * sd / math.sqrt(150))
    assert float(draws.std()) == pytest.approx(sd, rel=0.2)


def test_the_energy_equals_pyros_up_to_a_constant():
    pyro = pytest.importorskip("pyro")
    import pyro.distributions as pdist
    from pyro.infer.mcmc.util import initialize_model

    def pyro_mixture(data):
        locs = pyro.sample("locs", pdist.Normal(torch.tensor([-1.0, 1.0]), 2.0).to_event(1))
        with pyro.plate("data", len(data)):
            which = pyro.sample("which", pdist.Categorical(WEIGHTS))
            pyro.sample("x", pdist.Normal(locs[which], 1.0), obs=data)

    data = mixture_data()
    _, pyro_energy, _, _ = initialize_model(pyro_mixture, (data,), max_plate_nesting=1)
    potential = Potential(mixture, (data,), max_plate_nesting=1)
    a, b = torch.tensor([-2.5, 2.0]), torch.tensor([0.4, -1.3])
    theirs = float(pyro_energy({"locs": a}) - pyro_energy({"locs": b}))
    ours = potential.energy_and_grad(a)[0] - potential.energy_and_grad(b)[0]
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_the_traced_step_sums_the_sites_out_as_the_eager_potential_does():
    data = mixture_data()
    potential = Potential(mixture, (data,))
    point = torch.tensor([-2.5, 2.0])
    expected_energy, expected_grad = potential.energy_and_grad(point)
    with validation_disabled():  # as under MCMC: torch's checks branch on values, which a trace cannot
        step, reason = compile_step(potential.energy, point, dense=False, inductor=False)
    assert step is not None, reason
    energy, grad = step.energy_and_grad(point)
    assert energy == pytest.approx(expected_energy, rel=1e-6)
    assert torch.allclose(grad, expected_grad, rtol=1e-5)


def test_vectorized_chains_sample_the_mixtures_exact_posterior():
    data = mixture_data()
    kernel = NUTS(mixture, init_strategy=init_to_mean)
    mcmc = MCMC(kernel, 200, 200, num_chains=2, chain_method="vectorized", disable_progbar=True)
    mcmc.run(data)
    draws = mcmc.get_samples(group_by_chain=True)["locs"]
    assert draws.shape == (2, 200, 2)
    axis = torch.linspace(-7.0, 7.0, 561)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)
    for k, (mean, sd) in enumerate(grid_moments(mixture_log_joint(grid, data), axis, axis)):
        assert float(draws[..., k].mean()) == pytest.approx(mean, abs=4 * sd / math.sqrt(150))


@pytest.mark.slow
@pytest.mark.parametrize("num_chains", [1, 2])
def test_compiled_nuts_samples_the_mixtures_exact_posterior(num_chains):
    data = mixture_data()
    kernel = NUTS(mixture, jit_compile=True, init_strategy=init_to_mean)
    mcmc = MCMC(kernel, 300, 200, num_chains=num_chains, chain_method="vectorized", disable_progbar=True)
    mcmc.run(data)
    step = kernel.compiled_step if num_chains == 1 else mcmc.batched_step.compiled  # type: ignore[union-attr]
    assert step is not None and step.compiled
    axis = torch.linspace(-7.0, 7.0, 561)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)
    for k, (mean, sd) in enumerate(grid_moments(mixture_log_joint(grid, data), axis, axis)):
        assert float(mcmc.get_samples()["locs"][:, k].mean()) == pytest.approx(mean, abs=4 * sd / math.sqrt(150))


def test_a_model_the_user_wrapped_in_enum_has_the_same_potential():
    data = mixture_data()
    point = torch.tensor([-2.5, 2.0])
    expected, _ = Potential(mixture, (data,)).energy_and_grad(point)
    for first in (-2, -3):
        wrapped = pplkit.poutine.enum(mixture, first_available_dim=first)
        assert Potential(wrapped, (data,)).energy_and_grad(point)[0] == pytest.approx(expected, rel=1e-6)


def test_a_marked_model_runs_without_the_enumeration_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        Potential(mixture, (mixture_data(),))


# -- what cannot be summed out is refused, naming the site and the fix ------------------------


def test_a_discrete_site_with_infinite_support_is_named_with_the_fixes():
    def counts():
        pplkit.sample("n", dist.Poisson(3.0))
        pplkit.sample("loc", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match=r"latent site 'n' has a discrete distribution \(Poisson\) with no finite"):
        Potential(counts)


def test_a_site_that_turns_enumeration_off_is_named_with_the_fix():
    def opted_out():
        pplkit.sample("which", dist.Bernoulli(0.5), infer={"enumerate": None})
        pplkit.sample("loc", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match=r"'which' \(Bernoulli\) has infer=\{'enumerate': None\}.*'parallel'"):
        Potential(opted_out)


def test_a_too_small_max_plate_nesting_is_named_with_the_right_value():
    with pytest.raises(ValueError, match=r"max_plate_nesting=0, but site '\w+' sits in 1 nested plate dim;.*=1"):
        Potential(mixture, (mixture_data(),), max_plate_nesting=0)


def test_a_discrete_batch_dim_outside_every_plate_is_refused():
    @config_enumerate
    def unplated():
        pplkit.sample("which", dist.Bernoulli(torch.full((3,), 0.5)))
        pplkit.sample("loc", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match=r"'which'.*batch shape \(3,\), and dim -1 \(size 3\).*plate of size 3"):
        Potential(unplated)


def test_a_model_whose_only_latents_are_discrete_points_to_infer_discrete():
    @config_enumerate
    def only_discrete():
        pplkit.sample("which", dist.Bernoulli(0.5))

    with pytest.raises(ValueError, match="only discrete latent sites \\(which\\).*infer_discrete"):
        Potential(only_discrete)

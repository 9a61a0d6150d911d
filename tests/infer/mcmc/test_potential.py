"""The potential energy: against the log joint written by hand, its gradient, supports, bad models."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import biject_to, constraints

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine
from pplkit.infer.mcmc.potential import Potential

X = torch.tensor([0.5, 1.5, 2.0, 0.1])


def model(x):
    loc = pplkit.sample("loc", dist.Normal(0.0, 2.0))
    scale = pplkit.sample("scale", dist.HalfNormal(1.0))
    frac = pplkit.sample("frac", dist.Uniform(0.0, 10.0))
    with plate("data", len(x)):
        pplkit.sample("x", dist.Normal(loc + frac, scale), obs=x)


def energy_by_hand(z: torch.Tensor) -> torch.Tensor:
    """-(log joint + log|det J|) with every constant, written with torch.distributions."""
    loc, log_scale, logit = z.unbind()
    scale, frac = log_scale.exp(), 10 * torch.sigmoid(logit)
    log_joint = (
        torch.distributions.Normal(0.0, 2.0).log_prob(loc)
        + torch.distributions.HalfNormal(1.0).log_prob(scale)
        + torch.distributions.Uniform(0.0, 10.0).log_prob(frac)
        + torch.distributions.Normal(loc + frac, scale).log_prob(X).sum()
    )
    log_det = (
        log_scale + math.log(10.0) + torch.nn.functional.logsigmoid(logit) + torch.nn.functional.logsigmoid(-logit)
    )
    return -(log_joint + log_det)


def test_energy_and_gradient_match_the_log_joint_written_by_hand():
    potential = Potential(model, (X,))
    assert [s.name for s in potential.sites.values()] == ["loc", "scale", "frac"]
    z1, z2 = torch.tensor([0.3, -0.2, 0.5]), torch.tensor([-1.0, 0.4, -2.0])
    u1, g1 = potential.energy_and_grad(z1)
    u2, _ = potential.energy_and_grad(z2)
    # Constant Jacobian terms (the Uniform's affine scale) are left out, so compare differences.
    assert u1 - u2 == pytest.approx(float(energy_by_hand(z1) - energy_by_hand(z2)), rel=1e-5)
    z = z1.clone().requires_grad_()
    (expected,) = torch.autograd.grad(energy_by_hand(z), z)
    assert torch.allclose(g1, expected, rtol=1e-5)


def test_constrain_maps_into_each_support_and_unflatten_splits():
    potential = Potential(model, (X,))
    z = torch.tensor([[0.3, -0.2, 0.5], [1.0, 2.0, -30.0]])  # a batch of two points
    values = potential.constrain(z)
    assert torch.allclose(values["scale"], z[:, 1].exp())
    assert torch.allclose(values["frac"], biject_to(constraints.interval(0.0, 10.0))(z[:, 2]))
    assert bool((values["frac"] > 0).all())
    assert potential.unflatten(z)["loc"].shape == (2,)


def test_vector_and_simplex_sites_take_their_unconstrained_sizes():
    def vectors():
        pplkit.sample("w", dist.Normal(torch.zeros(3), 1.0).to_event(1))
        pplkit.sample("p", dist.Dirichlet(torch.ones(4)))

    potential = Potential(vectors)
    assert potential.dim == 3 + 3  # a 4-simplex has 3 free coordinates
    values = potential.constrain(torch.zeros(6))
    assert values["p"].shape == (4,) and float(values["p"].sum()) == pytest.approx(1.0)
    u, grad = potential.energy_and_grad(torch.zeros(6))
    assert math.isfinite(u) and grad.shape == (6,)


def test_a_support_that_moves_with_another_latent_is_rebuilt_each_time():
    def model():
        theta = pplkit.sample("theta", dist.Exponential(1.0))
        pplkit.sample("x", dist.Uniform(0.0, theta))

    potential = Potential(model)
    assert potential.sites["x"].dynamic and not potential.sites["theta"].dynamic

    def by_hand(z):
        log_theta, logit = z.unbind()
        theta = log_theta.exp()
        x = theta * torch.sigmoid(logit)
        log_joint = torch.distributions.Exponential(1.0).log_prob(theta) - theta.log()
        log_det = log_theta + log_theta + torch.nn.functional.logsigmoid(logit) + torch.nn.functional.logsigmoid(-logit)
        return -(log_joint + log_det), x

    z = torch.tensor([0.4, -0.3], requires_grad=True)
    expected, x = by_hand(z)
    (expected_grad,) = torch.autograd.grad(expected, z)
    expected, x = expected.detach(), x.detach()
    u, grad = potential.energy_and_grad(z.detach())
    assert u == pytest.approx(float(expected), rel=1e-5)
    assert torch.allclose(grad, expected_grad, rtol=1e-5)
    assert float(potential.constrain(z.detach())["x"]) == pytest.approx(float(x))


def test_initial_point_is_uniform_in_unconstrained_space_or_follows_the_strategy():
    potential = Potential(model, (X,))
    z = potential.initial_point()
    assert z.shape == (3,) and bool((z.abs() < 2).all())
    z = potential.initial_point(lambda site: site.fn.mean)
    assert torch.allclose(potential.constrain(z)["loc"], torch.tensor(0.0))
    assert torch.allclose(potential.constrain(z)["frac"], torch.tensor(5.0))
    with pytest.raises(ValueError, match="gave site 'loc' a value of shape \\(2,\\)"):
        potential.initial_point(lambda site: torch.zeros(2))


def test_model_sites_stay_hidden_from_handlers_outside():
    potential = Potential(model, (X,))
    with poutine.trace() as outer:
        potential.energy_and_grad(torch.zeros(3))
    assert len(outer.trace) == 0


def test_a_model_without_latent_sites_is_an_error():
    def all_observed(x):
        pplkit.sample("x", dist.Normal(0.0, 1.0), obs=x)

    with pytest.raises(ValueError, match="all_observed has no latent sample sites"):
        Potential(all_observed, (torch.tensor(0.0),))


def test_a_discrete_latent_site_that_cannot_be_summed_out_is_named():
    def counts():
        pplkit.sample("n", dist.Geometric(0.5))
        pplkit.sample("loc", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="latent site 'n' has a discrete distribution \\(Geometric\\)"):
        Potential(counts)


def test_a_subsampled_plate_is_named():
    def subsampled(x):
        loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
        with plate("data", len(x), subsample_size=2) as idx:
            pplkit.sample("x", dist.Normal(loc, 1.0), obs=x[idx])

    with pytest.raises(ValueError, match="plate 'data', subsampled to 2 of 4"):
        Potential(subsampled, (X,))


def test_a_latent_site_that_appears_later_is_named():
    calls = []

    def grows():
        calls.append(1)
        pplkit.sample("a", dist.Normal(0.0, 1.0))
        if len(calls) > 2:
            pplkit.sample("b", dist.Normal(0.0, 1.0))

    potential = Potential(grows)
    with pytest.raises(ValueError, match="latent site 'b' was not in the model's first run"):
        potential.energy_and_grad(torch.zeros(1))


def test_a_column_of_data_inside_a_plate_is_refused_before_sampling():
    """obs of shape (N, 1) in a plate of N would give NUTS an N x N likelihood, silently."""
    import pplkit
    import pplkit.distributions as dist
    from pplkit.infer.mcmc import MCMC, NUTS

    x = torch.linspace(-1, 1, 20)
    y = (2 * x + 0.3 * torch.randn(20)).unsqueeze(-1)  # what df[["y"]].values gives

    def model(x, y):
        w = pplkit.sample("w", dist.Normal(0.0, 1.0))
        with pplkit.plate("data", len(x)):
            pplkit.sample("y", dist.Normal(w * x, 1.0), obs=y)

    mcmc = MCMC(NUTS(model), num_samples=5, warmup_steps=5, disable_progbar=True)
    with pytest.raises(ValueError, match=r"model site 'y': invalid log_prob shape \(20, 20\).*squeeze\(-1\)"):
        mcmc.run(x, y)
    mcmc.run(x, y.squeeze(-1))  # the fix the message names
    assert mcmc.get_samples()["w"].shape == (5,)

"""TraceTailAdaptive_ELBO: the exact posterior gives the log evidence; beta=0 is Trace_ELBO."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer import Trace_ELBO, TraceTailAdaptive_ELBO

X = 1.2


def model():
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    pplkit.sample("x", dist.Normal(z, 1.0), obs=torch.tensor(X))


def guide(loc: float = X / 2, scale: float = math.sqrt(0.5)):
    pplkit.sample("z", dist.Normal(pplkit.param("loc", torch.tensor(loc)), scale))


def test_at_the_exact_posterior_every_weight_is_the_evidence():
    # w = p(x, z) / q(z) = p(x) for every particle, whatever the tail weights.
    log_evidence = torch.distributions.Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(X))
    elbo = TraceTailAdaptive_ELBO(num_particles=8, vectorize_particles=True)
    surrogate = elbo.differentiable_loss(model, guide)
    assert float(surrogate) == pytest.approx(-float(log_evidence), abs=1e-5)


def test_with_beta_zero_the_gradient_is_trace_elbos():
    def shifted_guide():
        guide(loc=-0.3)

    grads = []
    for elbo in (
        TraceTailAdaptive_ELBO(num_particles=16, vectorize_particles=True, tail_adaptive_beta=0.0),
        Trace_ELBO(num_particles=16, vectorize_particles=True),
    ):
        pplkit.clear_param_store()
        pplkit.set_rng_seed(3)
        loss = elbo.differentiable_loss(model, shifted_guide)
        grads.append(torch.autograd.grad(loss, pplkit.get_param_store().unconstrained("loc"))[0])
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_what_it_does_not_do_is_said():
    elbo = TraceTailAdaptive_ELBO(num_particles=4, vectorize_particles=True)
    with pytest.raises(NotImplementedError, match="estimates only gradients"):
        elbo.loss(model, guide)
    with pytest.raises(NotImplementedError, match="vectorize_particles=True"):
        TraceTailAdaptive_ELBO(num_particles=4).differentiable_loss(model, guide)

"""LocScaleReparam: the same model in decentred coordinates -- exact densities and the same posterior."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer.reparam import LocScaleReparam

MU0, S0 = 1.0, 2.0
DATA = torch.tensor([2.1, 3.4, 2.8, 3.9])


def model(data=DATA):
    theta = pplkit.sample("theta", dist.Normal(MU0, S0))
    with pplkit.plate("data", len(data)):
        pplkit.sample("obs", dist.Normal(theta, 1.0), obs=data)


@pytest.mark.parametrize("centered", [0.0, 0.3, 1.0])
def test_log_joint_is_the_original_plus_the_log_jacobian(centered):
    # x = loc + scale**(1-c) * (x' - c*loc)  =>  log p'(x', data) = log p(x, data) + (1-c) log scale.
    tr = poutine.trace(poutine.reparam(model, config={"theta": LocScaleReparam(centered)})).get_trace()
    theta = tr.nodes["theta"].value
    original = poutine.trace(poutine.condition(model, data={"theta": theta})).get_trace()
    assert torch.allclose(tr.log_prob_sum(), original.log_prob_sum() + (1 - centered) * math.log(S0), atol=1e-5)


def test_learned_centering_is_a_param_in_the_unit_interval():
    tr = poutine.trace(poutine.reparam(model, config={"theta": LocScaleReparam()})).get_trace()
    assert tr.param_nodes == ["theta_centered"]
    assert tr.nodes["theta_centered"].value.item() == pytest.approx(0.5)
    assert pplkit.get_param_store().constraint("theta_centered") is dist.constraints.unit_interval


@pytest.mark.parametrize("centered", [0.0, 0.6])
def test_decentred_model_has_the_same_posterior(centered):
    # Integrate the reparameterised model's joint density over a grid of the auxiliary
    # variable and push the grid through the map to theta: the posterior mean and sd of
    # theta must be the conjugate closed form.
    n = len(DATA)
    post_var = 1.0 / (1.0 / S0**2 + n)
    post_mean = post_var * (MU0 / S0**2 + DATA.sum().item())
    reparam_model = poutine.reparam(model, config={"theta": LocScaleReparam(centered)})
    grid = torch.linspace(-12.0, 12.0, 4001, dtype=torch.float64).unsqueeze(-1)
    with torch.autograd.set_grad_enabled(False):
        tr = poutine.trace(poutine.condition(reparam_model, data={"theta_decentered": grid})).get_trace(DATA.double())
    tr.compute_log_prob()
    log_joint = sum(site.log_prob.reshape(len(grid), -1).sum(-1) for site in tr.scored_sites())
    weights = torch.softmax(log_joint, 0)
    theta = tr.nodes["theta"].value.reshape(-1)
    mean = (weights * theta).sum().item()
    sd = (weights * (theta - mean) ** 2).sum().sqrt().item()
    assert mean == pytest.approx(post_mean, abs=1e-6)
    assert sd == pytest.approx(math.sqrt(post_var), rel=1e-5)


def test_refuses_families_without_loc_and_scale_and_observed_sites():
    with pytest.raises(TypeError, match="site 'p': Beta has no loc and scale"):
        poutine.reparam(lambda: pplkit.sample("p", dist.Beta(1.0, 1.0)), config={"p": LocScaleReparam(0.0)})()
    with pytest.raises(ValueError, match="site 'obs': the site is observed"):
        poutine.reparam(model, config={"obs": LocScaleReparam(0.0)})()
    with pytest.raises(ValueError, match="centered must lie in"):
        LocScaleReparam(centered=1.5)

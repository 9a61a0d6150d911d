"""EnergyDistance: its value against the closed form, its fit, and what it refuses."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer import SVI, EnergyDistance
from pplkit.optim import Adam


def test_the_loss_is_the_energy_distance_of_a_normal_from_a_point():
    # X, X' ~ N(0, 1), data x = 0: E|X - x| = sqrt(2 / pi) and E|X - X'| = 2 / sqrt(pi).
    def model():
        pplkit.sample("x", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))

    pplkit.set_rng_seed(0)
    loss = EnergyDistance(num_particles=2000)(model, lambda: None)
    assert float(loss) == pytest.approx(math.sqrt(2 / math.pi) - 1 / math.sqrt(math.pi), abs=0.04)


def test_training_moves_the_guide_to_the_data():
    data = 3.0 + 0.5 * torch.randn(100, generator=torch.Generator().manual_seed(1))

    def model(data):
        loc = pplkit.sample("loc", dist.Normal(0.0, 10.0))
        with pplkit.plate("rows", len(data)):
            pplkit.sample("x", dist.Normal(loc, 0.5), obs=data)

    def guide(data):
        pplkit.sample("loc", dist.Normal(pplkit.param("m", torch.tensor(0.0)), 0.05))

    pplkit.set_rng_seed(0)
    svi = SVI(model, guide, Adam({"lr": 0.1}), EnergyDistance(num_particles=4))
    for _ in range(150):
        svi.step(data)
    assert float(pplkit.param("m")) == pytest.approx(float(data.mean()), abs=0.2)


def test_the_prior_term_reaches_the_models_params():
    def model():
        z = pplkit.sample("z", dist.Normal(pplkit.param("prior_loc", torch.tensor(1.0)), 1.0))
        pplkit.sample("x", dist.Normal(z, 1.0), obs=torch.tensor(0.0))

    def guide():
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    loss = EnergyDistance(prior_scale=1.0, num_particles=4)(model, guide)
    loss.backward()
    assert pplkit.get_param_store().unconstrained("prior_loc").grad is not None


def test_bad_settings_and_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"beta must be in the open interval \(0, 2\)"):
        EnergyDistance(beta=2.0)
    with pytest.raises(ValueError, match="num_particles must be an int >= 2"):
        EnergyDistance(num_particles=1)
    with pytest.raises(NotImplementedError, match="surrogate"):
        EnergyDistance().loss(lambda: None, lambda: None)

    def no_data():
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="found no observations"):
        EnergyDistance()(no_data, no_data)

    def discrete_guide():
        pplkit.sample("z", dist.Bernoulli(0.5))

    def model():
        z = pplkit.sample("z", dist.Bernoulli(0.5))
        pplkit.sample("x", dist.Normal(z, 1.0), obs=torch.tensor(0.0))

    with pytest.raises(ValueError, match="guide site 'z' is not reparameterisable"):
        EnergyDistance()(model, discrete_guide)

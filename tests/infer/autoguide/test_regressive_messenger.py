"""AutoRegressiveMessenger: an affine map of each prior, against closed-form answers."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import sample
from pplkit.infer import Trace_ELBO
from pplkit.infer.autoguide import AutoRegressiveMessenger

from .. import conjugate as cj
from .test_normal_messenger import DATA, PRIOR_SCALE, log_evidence, mu_posterior, one_mean_model


def test_the_exact_posterior_is_an_affine_map_of_the_prior():
    # mu's posterior N(m, s) is m + (s / 2) * (a N(0, 2) draw); y_new | mu is its prior (loc 0, scale 1).
    guide = AutoRegressiveMessenger(one_mean_model)
    guide(DATA)
    store = pplkit.get_param_store()
    mean, sd = mu_posterior()
    store["locs.mu"] = torch.tensor(mean)
    store["scales.mu"] = torch.tensor(sd / PRIOR_SCALE)
    store["locs.y_new"] = torch.tensor(0.0)
    store["scales.y_new"] = torch.tensor(1.0)
    for _ in range(3):
        assert Trace_ELBO().loss(one_mean_model, guide, DATA) == pytest.approx(-log_evidence(), abs=1e-4)


def test_svi_reaches_the_exact_posterior_of_each_group_mean():
    guide = AutoRegressiveMessenger(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA)
    mean, sd = cj.group_means_posterior()
    store = pplkit.get_param_store()
    assert torch.allclose(store["locs.mu"], mean, atol=0.2 * sd[0, 0].item())
    assert torch.allclose(store["scales.mu"] * cj.GROUP_PRIOR_SCALE, sd, rtol=0.08)


def test_it_starts_between_the_prior_and_the_initial_value():
    # init_scale * prior + (1 - init_scale) * init, in unconstrained space.
    def model():
        sample("rate", dist.LogNormal(1.0, 1.0))

    guide = AutoRegressiveMessenger(model, init_scale=0.25)
    guide()
    store = pplkit.get_param_store()
    init = torch.tensor(1.5).exp()  # the prior mean of LogNormal(1, 1) is e^1.5
    assert store["locs.rate"].item() == pytest.approx(0.75 * init.log().item())
    assert store["scales.rate"].item() == pytest.approx(0.25)
    # The posterior's value: exp(loc + scale * log(prior draw)).
    pplkit.set_rng_seed(1)
    draw = guide()["rate"]
    pplkit.set_rng_seed(1)
    prior_draw = dist.LogNormal(1.0, 1.0).sample()
    assert draw.item() == pytest.approx((0.75 * 1.5 + 0.25 * prior_draw.log()).exp().item(), rel=1e-5)


def test_discrete_site_names_the_site():
    def model():
        sample("k", dist.Categorical(torch.ones(3) / 3))

    with pytest.raises(ValueError, match="site 'k'.*Categorical"):
        AutoRegressiveMessenger(model)()


def test_a_sphere_site_points_to_the_reparam():
    def model():
        sample("x", dist.ProjectedNormal(torch.ones(3)))

    with pytest.raises(ValueError, match="site 'x'.*sphere.*ProjectedNormalReparam"):
        AutoRegressiveMessenger(model)()

"""ProjectedNormalReparam: the site becomes the direction of an auxiliary standard Normal, which guides can fit."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer.autoguide import AutoDelta, AutoDiagonalNormal, AutoNormal
from pplkit.infer.reparam import ProjectedNormalReparam

CONCENTRATION = torch.tensor([0.0, 3.0, 4.0])


def model():
    direction = pplkit.sample("direction", dist.ProjectedNormal(CONCENTRATION))
    pplkit.sample("obs", dist.Normal(direction, 1.0).to_event(1), obs=torch.tensor([1.0, 0.0, 0.0]))
    return direction


reparam_model = poutine.reparam(model, config={"direction": ProjectedNormalReparam()})


def test_the_site_is_the_normalised_noise_plus_concentration_and_scores_nothing():
    tr = poutine.trace(reparam_model).get_trace()
    noise_site, site = tr.nodes["direction_normal"], tr.nodes["direction"]
    assert not noise_site["is_observed"] and noise_site["fn"].event_shape == (3,)
    expected = torch.nn.functional.normalize(noise_site["value"] + CONCENTRATION, dim=-1)
    assert torch.allclose(site["value"], expected)
    tr.compute_log_prob()
    # The joint is the standard Normal noise's density plus the likelihood; the site adds 0.
    assert site["log_prob_sum"].item() == 0.0
    noise_lp = -0.5 * noise_site["value"].square().sum() - 1.5 * math.log(2 * math.pi)
    assert noise_site["log_prob_sum"].item() == pytest.approx(noise_lp.item(), abs=1e-5)


def test_the_reparameterised_direction_has_the_projected_normals_mean_direction():
    torch.manual_seed(0)
    draws = torch.stack([reparam_model() for _ in range(3000)])
    mean_direction = torch.nn.functional.normalize(draws.mean(0), dim=-1)
    assert torch.allclose(mean_direction, torch.tensor([0.0, 0.6, 0.8]), atol=0.02)


@pytest.mark.parametrize("guide_class", [AutoNormal, AutoDiagonalNormal])
def test_continuous_guides_fit_the_reparameterised_model(guide_class):
    guide = guide_class(reparam_model)
    tr = poutine.trace(guide).get_trace()
    tr.compute_log_prob()
    assert "direction_normal" in tr.nodes and "direction" not in guide.sites


@pytest.mark.parametrize("guide_class", [AutoNormal, AutoDiagonalNormal])
def test_a_raw_sphere_site_under_a_continuous_guide_names_the_reparam(guide_class):
    with pytest.raises(ValueError, match=r"site 'direction'.*ProjectedNormalReparam"):
        guide_class(model)()


def test_auto_delta_fits_a_raw_sphere_site_with_its_point_on_the_sphere():
    guide = AutoDelta(model)
    value = guide()["direction"]
    assert value.shape == (3,) and value.norm().item() == pytest.approx(1.0, abs=1e-6)


def test_an_observed_site_is_refused():
    def observed():
        pplkit.sample("direction", dist.ProjectedNormal(CONCENTRATION), obs=torch.tensor([1.0, 0.0, 0.0]))

    with pytest.raises(NotImplementedError, match="latent sites only"):
        poutine.trace(poutine.reparam(observed, config={"direction": ProjectedNormalReparam()})).get_trace()

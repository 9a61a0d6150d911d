"""The checks made before MCMC samples: data outside their support, and naming the sites of a failed start."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer import MCMC, NUTS
from pplkit.infer.mcmc.model_checks import non_finite_sites
from pplkit.infer.mcmc.potential import Potential
from pplkit.util import validation_disabled


def exponential_model(y):
    rate = pplkit.sample("rate", dist.HalfNormal(2.0))
    with plate("data", len(y)):
        pplkit.sample("obs", dist.Exponential(rate), obs=y)


def test_data_outside_the_support_are_warned_about_with_the_site_and_a_value():
    with validation_disabled(), pytest.warns(UserWarning, match=r"site 'obs': 2 of its values \(e.g. -2\) lie outside"):
        Potential(exponential_model, (torch.tensor([1.5, -2.0, 0.5, -1.0]),))


def test_with_validation_on_data_outside_the_support_are_an_error_naming_the_site():
    with pytest.raises(ValueError, match=r"observed site 'obs': 1 of its values \(e.g. -2\) lies outside"):
        MCMC(NUTS(exponential_model), 5, 5, disable_progbar=True, disable_validation=False).run(
            torch.tensor([1.5, -2.0, 0.5])
        )


def test_data_inside_the_support_give_no_warning(recwarn):
    with validation_disabled():
        Potential(exponential_model, (torch.tensor([1.5, 0.0, 0.5]),))
    assert not [w for w in recwarn if "outside the support" in str(w.message)]


def test_non_finite_sites_names_each_site_and_how_many_elements():
    def model(y):
        scale = pplkit.sample("scale", dist.HalfNormal(1.0))
        with plate("data", len(y)):
            pplkit.sample("obs", dist.Gamma(2.0, scale), obs=y)

    with validation_disabled():
        said = non_finite_sites(model, (torch.tensor([1.0, 0.0, 0.0]),), {}, {"scale": torch.tensor(0.5)})
    assert said == f"site 'obs' (Gamma) has log density {-math.inf} at 2 of 3 elements"


def test_non_finite_initial_params_name_the_site_and_the_unconstrained_convention():
    y = torch.tensor([0.3, -0.2])

    def model(y):
        loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
        with plate("data", len(y)):
            pplkit.sample("obs", dist.Normal(loc, 1.0), obs=y)

    start = {"loc": torch.tensor(math.inf)}
    with pytest.raises(ValueError, match=r"not finite at initial_params \(site 'loc' \(Normal\).*unconstrained values"):
        MCMC(NUTS(model), 5, 5, initial_params=start, disable_progbar=True).run(y)

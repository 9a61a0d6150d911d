"""Prior families: domains, parameter supports, shapes, and moment-matched defaults."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist
from widgets.views.priors import (
    FAMILIES,
    PriorChoice,
    domain_of,
    families_for,
    matched_choice,
    param_range,
    prior_choice_of,
)


@pytest.mark.parametrize(
    "prior, domain",
    [
        (dist.Normal(0.0, 10.0), "real"),
        (dist.StudentT(3.0, 0.0, 1.0), "real"),
        (dist.Uniform(0.0, 10.0), "positive"),
        (dist.Uniform(-1.0, 1.0), "real"),
        (dist.HalfNormal(1.0), "positive"),
        (dist.Gamma(2.0, 1.0), "positive"),
        (dist.Beta(2.0, 2.0), "unit_interval"),
        (dist.Normal(0.0, 1.0).expand([3]).to_event(1), "real"),
        (dist.Bernoulli(0.3), None),
        (dist.Dirichlet(torch.ones(3)), None),
    ],
)
def test_domain_of(prior, domain):
    assert domain_of(prior) == domain


@pytest.mark.parametrize("domain", ["real", "positive", "unit_interval"])
def test_every_offered_family_samples_inside_the_domain(domain):
    like = {"real": dist.Normal(0.5, 2.0), "positive": dist.Uniform(0.0, 10.0), "unit_interval": dist.Beta(2.0, 3.0)}
    for family in families_for(domain):
        samples = matched_choice(family, like[domain], domain).distribution().sample((2000,))
        if domain != "real":
            assert bool((samples >= 0).all()), family
        if domain == "unit_interval":
            assert bool((samples <= 1).all()), family
    assert "Normal" not in families_for("positive")  # a scale can never be handed a negative value


@pytest.mark.parametrize("family", ["Normal", "Laplace", "Gamma", "LogNormal", "InverseGamma", "Uniform"])
def test_matched_choice_keeps_mean_and_spread(family):
    domain = "real" if family in ("Normal", "Laplace") else "positive"
    like = dist.Gamma(4.0, 2.0)  # mean 2, sd 1
    choice = matched_choice(family, like, domain)
    d = choice.distribution()
    assert float(d.mean) == pytest.approx(2.0, rel=0.02)
    expected_sd = 1.0 if family != "Laplace" else math.sqrt(2.0)  # Laplace(scale=s) has sd s*sqrt(2)
    assert float(d.stddev) == pytest.approx(expected_sd, rel=0.02)


def test_prior_choice_round_trips_every_family():
    for name, family in FAMILIES.items():
        params = {p: 2.0 for p in family.params}
        if name == "Uniform":
            params = {"low": 1.0, "high": 3.0}
        choice = PriorChoice(name, params)
        assert prior_choice_of(choice.distribution()) == choice, name


def test_prior_choice_of_refuses_per_element_parameters():
    assert prior_choice_of(dist.Normal(torch.tensor([0.0, 1.0]), 1.0)) is None
    assert prior_choice_of(dist.Normal(torch.zeros(4), 1.0)) == PriorChoice("Normal", {"loc": 0.0, "scale": 1.0})
    assert prior_choice_of(dist.Gumbel(0.0, 1.0)) is None


def test_prior_choice_builds_the_original_batch_and_event_shape():
    original = dist.HalfNormal(1.0).expand([2, 3]).to_event(1)
    new = PriorChoice("Gamma", {"concentration": 2.0, "rate": 1.0})(original)
    assert new.batch_shape == (2,) and new.event_shape == (3,)


@pytest.mark.parametrize(
    "family, params, match",
    [
        ("Normall", {"loc": 0.0, "scale": 1.0}, "unknown prior family"),
        ("Normal", {"loc": 0.0}, "takes the parameters"),
        ("Uniform", {"low": 2.0, "high": 1.0}, "low < high"),
        ("Normal", {"loc": math.nan, "scale": 1.0}, "finite"),
    ],
)
def test_prior_choice_validation(family, params, match):
    with pytest.raises(ValueError, match=match):
        PriorChoice(family, params)


def test_param_ranges_respect_each_parameters_support():
    scale = param_range("Normal", "scale", 10.0, "real")
    assert scale.log and scale.low > 0 and scale.low < 10.0 < scale.high
    loc = param_range("Normal", "loc", 0.0, "real", PriorChoice("Normal", {"loc": 0.0, "scale": 10.0}))
    assert not loc.log and loc.low <= -10 and loc.high >= 10
    bounds = param_range("Uniform", "low", 0.0, "positive", PriorChoice("Uniform", {"low": 0.0, "high": 10.0}))
    assert bounds.low == 0.0 and bounds.high >= 10.0
    unit = param_range("Uniform", "low", 0.2, "unit_interval", PriorChoice("Uniform", {"low": 0.2, "high": 0.8}))
    assert (unit.low, unit.high) == (0.0, 1.0)
    rate = param_range("Gamma", "rate", 0.5, "positive")
    assert rate.log and rate.low > 0

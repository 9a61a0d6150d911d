"""init_loc_fn strategies: each gives the value it promises, with the site's full shape."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer.autoguide import (
    AutoDelta,
    InitMessenger,
    init_to_feasible,
    init_to_mean,
    init_to_median,
    init_to_sample,
    init_to_uniform,
    init_to_value,
)


def model():
    sample("loc", dist.Normal(3.0, 1.0))
    sample("rate", dist.Gamma(2.0, 4.0))  # mean 0.5
    sample("frac", dist.Uniform(0.0, 10.0))
    sample("heavy", dist.Cauchy(1.0, 1.0))  # no mean
    with plate("groups", 4):
        sample("theta", dist.Normal(torch.arange(4.0), 0.01))


def initial_values(init_loc_fn) -> dict[str, torch.Tensor]:
    """AutoDelta's params start exactly at the init values."""
    return AutoDelta(model, init_loc_fn=init_loc_fn).median()


def test_init_to_feasible_is_the_image_of_zero():
    values = initial_values(init_to_feasible)
    assert values["loc"].item() == 0.0
    assert values["rate"].item() == pytest.approx(1.0)
    assert values["frac"].item() == pytest.approx(5.0)
    assert values["theta"].shape == (4,) and torch.all(values["theta"] == 0)


def test_init_to_mean_uses_the_prior_mean_and_falls_back_without_one():
    values = initial_values(init_to_mean)
    assert values["loc"].item() == pytest.approx(3.0)
    assert values["rate"].item() == pytest.approx(0.5)
    assert values["frac"].item() == pytest.approx(5.0)
    assert torch.allclose(values["theta"], torch.arange(4.0))
    # Cauchy has no mean: the fallback (median of 15 draws) lands near its median, 1.
    assert abs(values["heavy"].item() - 1.0) < 3.0


def test_init_to_median_is_near_the_prior_median():
    values = initial_values(init_to_median(num_samples=201))
    # The median of 201 draws of N(3, 1) has sd about 1.25 / sqrt(201) = 0.09.
    assert values["loc"].item() == pytest.approx(3.0, abs=0.4)
    assert torch.allclose(values["theta"], torch.arange(4.0), atol=0.01)


def test_init_to_sample_draws_from_the_prior():
    pplkit.set_rng_seed(1)
    first = initial_values(init_to_sample)
    pplkit.clear_param_store()
    pplkit.set_rng_seed(2)
    second = initial_values(init_to_sample)
    assert first["loc"].item() != second["loc"].item()
    assert 0 < first["frac"].item() < 10


def test_init_to_uniform_stays_within_the_radius():
    values = initial_values(init_to_uniform(radius=0.5))
    assert -0.5 <= values["loc"].item() <= 0.5
    assert torch.sigmoid(torch.tensor(-0.5)) * 10 <= values["frac"] <= torch.sigmoid(torch.tensor(0.5)) * 10


def test_init_to_value_uses_given_values_and_falls_back_for_others():
    values = initial_values(init_to_value(values={"loc": 7.0, "theta": torch.tensor([1.0, 2.0, 3.0, 4.0])},
                                          fallback=init_to_feasible))
    assert values["loc"].item() == 7.0
    assert torch.equal(values["theta"], torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert values["frac"].item() == pytest.approx(5.0)


def test_init_to_value_broadcasts_a_scalar_over_a_plate():
    values = initial_values(init_to_value(values={"theta": 2.5}))
    assert torch.equal(values["theta"], torch.full((4,), 2.5))


def test_wrong_shape_or_support_names_the_site():
    with pytest.raises(ValueError, match="site 'theta' an initial value of shape \\(3,\\).*shape \\(4,\\)"):
        initial_values(init_to_value(values={"theta": torch.zeros(3)}))
    with pytest.raises(ValueError, match="site 'rate'.*outside the support"):
        initial_values(init_to_value(values={"rate": -1.0}))


def test_no_fallback_is_an_error_naming_the_site():
    with pytest.raises(ValueError, match="no initial value for site 'rate'"):
        initial_values(init_to_value(values={"loc": 1.0}, fallback=None))


def test_init_messenger_sees_the_plate_broadcast_distribution():
    seen = {}

    def record(site):
        seen[site.name] = tuple(site.fn.batch_shape)
        return init_to_feasible(site)

    with trace() as tracer, InitMessenger(record):
        model()
    assert seen["theta"] == (4,)
    assert tracer.trace.nodes["theta"].value.shape == (4,)

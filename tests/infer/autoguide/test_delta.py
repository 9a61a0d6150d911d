"""AutoDelta: MAP estimates in constrained space, Pyro's param names, plates."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import AutoDelta

from .. import conjugate as cj


def test_map_of_beta_bernoulli_is_the_posterior_mode():
    guide = AutoDelta(cj.beta_bernoulli_model)
    cj.fit(cj.beta_bernoulli_model, guide, cj.FLIPS, settings=cj.Fit(particles=1))
    a, b = cj.beta_posterior()
    mode = (a - 1) / (a + b - 2)  # the MAP of a Beta(a, b) posterior, in constrained space
    # A point mass has no sampling noise: the optimiser converges to 1e-3.
    assert guide.median()["p"].item() == pytest.approx(mode, abs=2e-3)


def test_map_of_group_means_has_one_param_per_group():
    guide = AutoDelta(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA, settings=cj.Fit(particles=1))
    mean, _ = cj.group_means_posterior()  # Gaussian posterior: the mode is the mean
    assert pplkit.get_param_store()["AutoDelta.mu"].shape == (4, 1)
    assert torch.allclose(guide.median()["mu"], mean, atol=2e-3)


def test_param_names_constraints_and_quantiles():
    def model():
        sample("a", dist.Normal(0.0, 1.0))
        sample("sigma", dist.Uniform(0.0, 10.0))

    guide = AutoDelta(model)
    guide()
    assert pplkit.get_param_store().keys() == ["AutoDelta.a", "AutoDelta.sigma"]
    assert pplkit.get_param_store().constraint("AutoDelta.sigma").upper_bound == 10.0
    q = guide.quantiles([0.1, 0.9])
    assert q["sigma"].shape == (2,) and q["sigma"][0] == q["sigma"][1] == guide.median()["sigma"]


def test_samples_are_the_point_under_an_outer_plate():
    def model():
        sample("a", dist.Normal(0.0, 1.0))

    guide = AutoDelta(model)
    with plate("samples", 5, dim=-1):
        samples = guide()
    assert samples["a"].shape == (5,) and torch.all(samples["a"] == guide.median()["a"])


def test_subsampled_plate_reads_the_rows_of_the_subsample():
    def model(data):
        with plate("data", 50, subsample_size=5) as idx:
            sample("z", dist.Normal(0.0, 1.0))
            sample("obs", dist.Normal(0.0, 1.0), obs=data[idx])

    data = torch.randn(50)
    guide = AutoDelta(model)
    guide(data)
    pplkit.get_param_store()["AutoDelta.z"] = torch.arange(50.0)
    with trace() as tracer:
        guide(data)
    assert torch.equal(tracer.trace.nodes["z"].value, tracer.trace.nodes["data"].value.float())

"""AutoContinuous: packing sites into one vector and the guide density of each site."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import AutoDiagonalNormal, AutoMultivariateNormal


def model(x):
    a = sample("a", dist.Normal(0.0, 10.0))
    sigma = sample("sigma", dist.Uniform(0.0, 10.0))
    w = sample("w", dist.Dirichlet(torch.ones(3)))
    with plate("data", len(x)):
        z = sample("z", dist.Normal(0.0, 1.0))
        sample("obs", dist.Normal(a * x + z + w[0], sigma), obs=x)


X = torch.linspace(-1, 1, 20)


def test_latent_vector_packs_every_unconstrained_element():
    guide = AutoDiagonalNormal(model)
    guide(X)
    assert guide.latent_dim == 1 + 1 + 2 + 20  # the simplex has 2 free coordinates


def test_site_density_is_the_vector_density_minus_the_log_jacobian():
    guide = AutoDiagonalNormal(model)
    with trace() as tracer:
        guide(X)
    tr = tracer.trace
    latent = tr.nodes["_AutoDiagonalNormal_latent"]
    assert latent.infer["is_auxiliary"]
    # Recompute log q(value) of sigma by hand: the unconstrained draw's Normal density
    # minus log |d sigma / d u| for sigma = 10 * sigmoid(u).
    u = latent.value[1]
    sigma = tr.nodes["sigma"].value
    assert sigma.item() == pytest.approx(10 * torch.sigmoid(u).item(), rel=1e-5)
    log_jacobian = math.log(10) + torch.nn.functional.logsigmoid(u) + torch.nn.functional.logsigmoid(-u)
    assert tr.nodes["sigma"].fn.log_prob(sigma).item() == pytest.approx(-log_jacobian.item(), abs=1e-5)


def test_median_quantiles_and_batches_have_the_site_shapes():
    guide = AutoMultivariateNormal(model)
    guide(X)
    median = guide.median()
    assert {k: tuple(v.shape) for k, v in median.items()} == {"a": (), "sigma": (), "w": (3,), "z": (20,)}
    assert median["w"].sum().item() == pytest.approx(1.0, abs=1e-5)
    q = guide.quantiles([0.25, 0.5, 0.75])
    assert {k: tuple(v.shape) for k, v in q.items()} == {"a": (3,), "sigma": (3,), "w": (3, 3), "z": (3, 20)}
    assert torch.allclose(q["a"][1], median["a"])
    with plate("samples", 5, dim=-2):
        samples = guide(X)
    # The shapes Pyro 1.9.2 gives for the same model and plate.
    shapes = {k: tuple(v.shape) for k, v in samples.items()}
    assert shapes == {"a": (5, 1), "sigma": (5, 1), "w": (5, 1, 3), "z": (5, 20)}


def test_subsampled_plates_are_refused_by_name():
    def subsampled(data):
        with plate("data", 100, subsample_size=10):
            sample("z", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="site 'z' in the subsampled plate 'data'.*AutoNormal"):
        AutoMultivariateNormal(subsampled)(torch.zeros(100))

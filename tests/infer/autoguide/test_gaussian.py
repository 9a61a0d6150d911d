"""AutoGaussian on a linear-Gaussian chain, whose exact posterior is known in closed form."""

from __future__ import annotations

import io
import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoGaussian
from pplkit.optim import ClippedAdam

Y = torch.tensor([1.0, 2.0, 0.5])
# a ~ N(0,1), b ~ N(a,1), c ~ N(b,1), y_i ~ N(c,1): the posterior's precision and information vector.
POST_PRECISION = torch.tensor([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0 + len(Y)]])
POST_INFO = torch.tensor([0.0, 0.0, float(Y.sum())])


def chain(y):
    a = sample("a", dist.Normal(0.0, 1.0))
    b = sample("b", dist.Normal(a, 1.0))
    c = sample("c", dist.Normal(b, 1.0))
    with plate("data", len(y)):
        sample("y", dist.Normal(c, 1.0), obs=y)


def log_evidence(y):
    """log p(y): y is Normal with mean 0 and covariance 3 (from c's prior variance) + identity."""
    cov = torch.full((len(y), len(y)), 3.0) + torch.eye(len(y))
    return dist.MultivariateNormal(torch.zeros(len(y)), cov).log_prob(y)


def set_to_posterior(guide):
    """The exact posterior, written as the model's own factors (loc 0, scale 1)."""
    guide(Y)
    for name in "abc":
        setattr(guide.locs, name, torch.tensor(0.0))
        setattr(guide.scales, name, torch.tensor(1.0))
    guide.prec_sqrts.a = torch.tensor([[1.0]])  # a²
    guide.prec_sqrts.b = torch.tensor([[-1.0], [1.0]])  # (b - a)²
    guide.prec_sqrts.c = torch.tensor([[-1.0], [1.0]])  # (c - b)²
    guide.prec_sqrts.y = torch.tensor([[math.sqrt(len(Y))]])
    guide.white_vecs.y = torch.tensor([float(Y.sum()) / math.sqrt(len(Y))])


def test_each_factor_spans_its_site_and_its_direct_upstream_latents():
    guide = AutoGaussian(chain)
    guide(Y)
    assert guide.dependencies == {"a": ["a"], "b": ["a", "b"], "c": ["b", "c"], "y": ["c"]}
    assert guide.prec_sqrts.b.shape == (2, 1)
    assert guide.prec_sqrts.y.shape == (1, 1)  # three observations, but one upstream dim


def test_the_precision_is_zero_where_the_model_has_no_factor():
    guide = AutoGaussian(chain)
    guide(Y)
    precision = guide.precision()
    assert precision[0, 2] == 0 and precision[2, 0] == 0  # a and c share no factor
    assert precision[0, 1] != 0 and precision[1, 2] != 0
    assert torch.allclose(precision, torch.linalg.inv(guide.covariance()), atol=1e-3)


def test_the_exact_posterior_is_in_the_family_and_its_elbo_is_the_log_evidence():
    guide = AutoGaussian(chain)
    set_to_posterior(guide)
    assert torch.allclose(guide.precision(), POST_PRECISION)
    mean = torch.linalg.solve(POST_PRECISION, POST_INFO)
    assert torch.allclose(torch.stack([guide.median(Y)[n] for n in "abc"]), mean, atol=1e-6)
    assert torch.allclose(guide.covariance(), torch.linalg.inv(POST_PRECISION), atol=1e-6)
    # With q the posterior, log p(z, y) - log q(z) is log p(y) for every draw.
    elbo = Trace_ELBO(num_particles=5, vectorize_particles=True)
    for _ in range(3):
        assert elbo.loss(chain, guide, Y) == pytest.approx(-float(log_evidence(Y)), abs=1e-4)


def test_a_positive_site_carries_its_jacobian():
    def model():
        sample("s", dist.LogNormal(0.5, 0.7))

    guide = AutoGaussian(model)
    guide()
    guide.locs.s = torch.tensor(0.5)
    guide.scales.s = torch.tensor(0.7)
    guide.prec_sqrts.s = torch.tensor([[1.0]])
    # q equals the prior, so the ELBO of a model with no data is log 1 = 0 for every draw.
    assert Trace_ELBO(num_particles=4, vectorize_particles=True).loss(model, guide) == pytest.approx(0.0, abs=1e-5)
    quantiles = guide.quantiles([0.25, 0.5])["s"]
    assert torch.allclose(quantiles, dist.LogNormal(0.5, 0.7).icdf(torch.tensor([0.25, 0.5])), atol=1e-5)


@pytest.mark.slow
def test_the_fitted_guide_is_the_exact_posterior():
    pplkit.set_rng_seed(0)
    guide = AutoGaussian(chain)
    # A decaying rate, so that the last steps average the gradient noise away.
    optim = ClippedAdam({"lr": 0.05, "lrd": 0.998})
    svi = SVI(chain, guide, optim, Trace_ELBO(num_particles=16, vectorize_particles=True))
    for _ in range(2000):
        svi.step(Y)
    mean = torch.linalg.solve(POST_PRECISION, POST_INFO)
    assert torch.allclose(torch.stack([guide.median(Y)[n] for n in "abc"]), mean, atol=0.1)
    assert torch.allclose(guide.covariance(), torch.linalg.inv(POST_PRECISION), atol=0.05)


def test_a_saved_guide_loads_with_its_values():
    guide = AutoGaussian(chain)
    set_to_posterior(guide)
    buffer = io.BytesIO()
    torch.save(guide, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    pplkit.clear_param_store()
    assert torch.allclose(loaded.precision(), POST_PRECISION)
    pplkit.set_rng_seed(1)
    expected = guide.call(Y)
    pplkit.set_rng_seed(1)
    assert all(torch.equal(a, e) for a, e in zip(loaded.call(Y), expected))


def test_plated_latents_and_funsor_get_clear_errors():
    def plated():
        with plate("p", 2):
            sample("x", dist.Normal(0.0, 1.0))

    with pytest.raises(NotImplementedError, match="'x'.*AutoMultivariateNormal"):
        AutoGaussian(plated)()
    with pytest.raises(NotImplementedError, match="funsor"):
        AutoGaussian(chain, backend="funsor")

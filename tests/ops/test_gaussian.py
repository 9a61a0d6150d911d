"""Gaussian in information form against torch's MultivariateNormal."""

from __future__ import annotations

import math

import pytest
import torch

from pplkit.ops.gaussian import Gaussian


def from_mvn(loc: torch.Tensor, covariance: torch.Tensor) -> Gaussian:
    """The normalised density of N(loc, covariance) in information form."""
    precision = torch.linalg.inv(covariance)
    info_vec = precision @ loc
    n = loc.size(-1)
    log_normalizer = -0.5 * loc @ info_vec - 0.5 * n * math.log(2 * math.pi) + 0.5 * torch.logdet(precision)
    return Gaussian(log_normalizer, info_vec, precision)


LOC = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
COVARIANCE = torch.tensor([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]], dtype=torch.float64)


def test_log_density_is_the_mvn_log_prob_and_integrates_to_one():
    g = from_mvn(LOC, COVARIANCE)
    x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    mvn = torch.distributions.MultivariateNormal(LOC, COVARIANCE)
    assert torch.allclose(g.log_density(x), mvn.log_prob(x))
    assert abs(float(g.event_logsumexp())) < 1e-10


def test_conditioning_keeps_the_density_of_the_fixed_coordinates():
    # Integrating out the free coordinates of g.condition(b) leaves the marginal density of b.
    g = from_mvn(LOC, COVARIANCE)
    b = torch.tensor([0.7, 1.5], dtype=torch.float64)
    marginal = torch.distributions.MultivariateNormal(LOC[1:], COVARIANCE[1:, 1:])
    assert torch.allclose(g.condition(b).event_logsumexp(), marginal.log_prob(b))
    x = torch.tensor([0.3, 0.7, 1.5], dtype=torch.float64)
    assert torch.allclose(g.condition(b).log_density(x[:1]), g.log_density(x))


def test_batches_and_bad_shapes():
    g = Gaussian(torch.zeros(3), torch.zeros(3, 2), torch.eye(2).expand(3, 2, 2))
    assert g.batch_shape == (3,) and g.dim() == 2
    assert torch.allclose(g.event_logsumexp(), torch.full((3,), math.log(2 * math.pi)))
    with pytest.raises(ValueError, match="precision must be square"):
        Gaussian(torch.zeros(()), torch.zeros(2), torch.eye(3))

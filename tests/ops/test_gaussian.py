"""Gaussian in information form: integrals, conditionals and marginals against torch's MultivariateNormal."""

from __future__ import annotations

import math

import pytest
import torch

from pplkit.ops.gaussian import Gaussian

torch.manual_seed(0)
A = torch.randn(3, 3, dtype=torch.float64)
COV = A @ A.T + 0.5 * torch.eye(3, dtype=torch.float64)
MEAN = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
MVN = torch.distributions.MultivariateNormal(MEAN, COV)


def as_gaussian(mean: torch.Tensor, cov: torch.Tensor) -> Gaussian:
    """The normalised density of Normal(mean, cov), in information form."""
    precision = torch.linalg.inv(cov)
    info_vec = precision @ mean
    n = mean.numel()
    log_normalizer = -0.5 * mean @ info_vec - 0.5 * n * math.log(2 * math.pi) - 0.5 * torch.logdet(cov)
    return Gaussian(log_normalizer, info_vec, precision)


def test_log_density_is_the_normals_and_it_integrates_to_one():
    g = as_gaussian(MEAN, COV)
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.allclose(g.log_density(x), MVN.log_prob(x))
    assert g.event_logsumexp().item() == pytest.approx(0.0, abs=1e-10)
    assert g.dim() == 3 and g.batch_shape == ()


def test_condition_keeps_the_value_density_and_integrates_to_the_marginal():
    g = as_gaussian(MEAN, COV)
    x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    conditioned = g.condition(x[1:])
    assert conditioned.dim() == 1
    assert conditioned.log_density(x[:1]).item() == pytest.approx(g.log_density(x).item())
    marginal = torch.distributions.MultivariateNormal(MEAN[1:], COV[1:, 1:])
    assert conditioned.event_logsumexp().item() == pytest.approx(marginal.log_prob(x[1:]).item())


@pytest.mark.parametrize("left,right", [(1, 0), (0, 2)])
def test_marginalize_gives_the_normals_marginal(left, right):
    g = as_gaussian(MEAN, COV).marginalize(left=left, right=right)
    keep = slice(left, 3 - right)
    marginal = torch.distributions.MultivariateNormal(MEAN[keep], COV[keep, keep])
    y = torch.randn(4, 3 - left - right, dtype=torch.float64)
    assert torch.allclose(g.log_density(y), marginal.log_prob(y))


def test_conditioning_the_joint_on_the_data_gives_the_evidence():
    # Prior loc ~ N(0, 1), one observation obs ~ N(loc, 1): joint precision [[2, -1], [-1, 1]].
    precision = torch.tensor([[2.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    joint = Gaussian(torch.zeros(()), torch.zeros(2, dtype=torch.float64), precision)
    y = torch.tensor([1.5], dtype=torch.float64)
    evidence = joint.condition(y).event_logsumexp() - joint.event_logsumexp()
    assert evidence.item() == pytest.approx(torch.distributions.Normal(0.0, math.sqrt(2.0)).log_prob(y).item())


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="precision must end in"):
        Gaussian(torch.zeros(()), torch.zeros(2), torch.eye(3))

"""Delta point masses and the Unit distribution behind factor."""

from __future__ import annotations

import torch

import pplkit.distributions as dist


def test_delta_samples_its_point_and_scores_log_density_there():
    d = dist.Delta(torch.tensor([1.0, 2.0]), log_density=torch.tensor(0.5), event_dim=1)
    assert d.batch_shape == () and d.event_shape == (2,)
    assert torch.equal(d.sample([3]), torch.tensor([[1.0, 2.0]] * 3))
    assert d.log_prob(torch.tensor([1.0, 2.0])) == 0.5
    assert d.log_prob(torch.tensor([1.0, 3.0])) == float("-inf")


def test_delta_expands_like_any_distribution():
    d = dist.Delta(torch.tensor(3.0)).expand([4])
    assert d.batch_shape == (4,) and d.sample().tolist() == [3.0] * 4
    assert torch.equal(d.log_prob(torch.full((4,), 3.0)), torch.zeros(4))


def test_unit_scores_its_log_factor_and_samples_nothing():
    u = dist.Unit(torch.tensor([-1.0, -2.0]))
    value = u.sample()
    assert value.shape == (2, 0)
    assert torch.equal(u.log_prob(value), torch.tensor([-1.0, -2.0]))
    assert u.expand([3, 2]).log_prob(torch.empty(3, 2, 0)).shape == (3, 2)

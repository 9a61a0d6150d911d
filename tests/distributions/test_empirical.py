"""Empirical: moments, probabilities and draws against the weighted samples it holds."""

from __future__ import annotations

import torch

import pplkit.distributions as dist


def test_moments_and_probabilities_are_the_weighted_ones():
    samples = torch.tensor([0.0, 1.0, 1.0, 3.0])
    log_weights = torch.tensor([0.0, 1.0, 0.5, -1.0])
    d = dist.Empirical(samples, log_weights)
    w = log_weights.softmax(-1)
    assert torch.allclose(d.mean, (w * samples).sum())
    assert torch.allclose(d.variance, (w * (samples - (w * samples).sum()) ** 2).sum())
    assert torch.allclose(d.log_prob(torch.tensor(1.0)).exp(), w[1] + w[2])
    assert d.log_prob(torch.tensor(2.0)) == -float("inf")
    assert d.sample_size == 4


def test_draws_follow_the_weights():
    d = dist.Empirical(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0]).log())
    draws = d.sample((4000,))
    assert abs(draws.mean().item() - 0.75) < 0.03


def test_batched_samples_with_event_dims():
    samples = torch.randn(2, 5, 3)  # batch (2,), 5 samples, event (3,)
    log_weights = torch.randn(2, 5)
    d = dist.Empirical(samples, log_weights)
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    assert d.sample((7,)).shape == (7, 2, 3)
    assert torch.allclose(d.log_prob(samples[:, 4]).exp(), log_weights.softmax(-1)[:, 4])
    assert torch.allclose(d.mean, (log_weights.softmax(-1).unsqueeze(-1) * samples).sum(1))

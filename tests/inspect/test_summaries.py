"""Posterior summaries: torch's mean and sd of the draws, from samples or from a guide."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.inspect import SiteSummary, summarize_posterior


def test_summaries_of_samples_are_torch_s_mean_and_sd():
    draws = torch.tensor([[1.0, 10.0], [2.0, 20.0], [6.0, 30.0]])
    summary = summarize_posterior({"w": draws, "k": torch.tensor([0, 1, 1, 1])})
    assert torch.equal(summary["w"].mean, draws.mean(0)) and torch.equal(summary["w"].sd, draws.std(0))
    assert summary["k"].mean.item() == 0.75  # integer draws are summarised as floats


def test_summaries_of_a_guide_match_its_distribution():
    def guide(shift):
        loc = pplkit.param("loc", torch.tensor(3.0))
        z = pplkit.sample("z", dist.Normal(loc + shift, 0.5))
        pplkit.deterministic("double", 2 * z)
        pplkit.sample("obs", dist.Normal(z, 1.0), obs=torch.tensor(0.0))

    summary = summarize_posterior(guide, (1.0,), num_samples=2000)
    # 2000 draws: the mean is within 4 standard errors (4 * 0.5 / sqrt(2000) = 0.045).
    assert abs(summary["z"].mean.item() - 4.0) < 0.045
    assert abs(summary["z"].sd.item() - 0.5) < 0.05
    assert torch.allclose(summary["double"].mean, 2 * summary["z"].mean)
    assert "obs" not in summary  # observed sites are data, not posterior


def test_guide_draws_are_seeded_and_leave_the_random_state_alone():
    def guide():
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    first = summarize_posterior(guide, num_samples=10, seed=1)
    assert torch.equal(torch.rand(1), expected)
    assert torch.equal(summarize_posterior(guide, num_samples=10, seed=1)["z"].mean, first["z"].mean)


def test_text_shows_mean_and_sd_or_the_range_of_means():
    assert str(SiteSummary(torch.tensor(0.5234), torch.tensor(0.1123))) == "0.523 ± 0.11"
    assert str(SiteSummary(torch.tensor([1.0, -2.0, 3.0]), torch.ones(3))) == "3 values, means -2 .. 3"


def test_bad_posteriors_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="site 'z': need a tensor with at least 2 draws"):
        summarize_posterior({"z": torch.tensor(1.0)})
    with pytest.raises(ValueError, match="at least 2"):
        summarize_posterior(lambda: None, num_samples=1)
    with pytest.raises(TypeError, match="a guide or a dict of samples"):
        summarize_posterior(3)

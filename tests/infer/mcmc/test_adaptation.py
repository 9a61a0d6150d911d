"""Warmup adaptation: Stan's window schedule, dual averaging, regularised variance estimates."""

from __future__ import annotations

import math

import pytest
import torch

from pplkit.infer.mcmc.adaptation import DualAveraging, WarmupSchedule, WelfordCovariance


def test_windows_for_500_warmup_steps_are_stans():
    schedule = WarmupSchedule(500)
    assert schedule.windows == [(75, 100), (100, 150), (150, 250), (250, 450)]
    assert not schedule.in_window(74) and schedule.in_window(75) and not schedule.in_window(450)
    assert [i for i in range(500) if schedule.ends_window(i)] == [99, 149, 249, 449]


def test_short_warmups_shrink_the_buffers_or_skip_the_mass_matrix():
    assert WarmupSchedule(100).windows == [(15, 90)]  # 15% first buffer, 10% last buffer
    assert WarmupSchedule(19).windows == []
    assert WarmupSchedule(1000, adapt_mass_matrix=False).windows == []
    assert not WarmupSchedule(0).ends_window(0)


def test_dual_averaging_finds_the_step_size_that_hits_the_target():
    # With acceptance exp(-step size), the target 0.8 is reached at step size -log(0.8).
    adapt = DualAveraging(target_accept_prob=0.8)
    adapt.restart(1.0)
    step_size = 1.0
    for _ in range(2000):
        step_size = adapt.update(math.exp(-step_size))
    assert adapt.final_step_size == pytest.approx(-math.log(0.8), rel=0.05)


def test_a_poor_acceptance_gives_a_smaller_next_step_than_a_good_one():
    poor, good = DualAveraging(), DualAveraging()
    poor.restart(0.5)
    good.restart(0.5)
    assert poor.update(0.1) < good.update(1.0)


@pytest.mark.parametrize("diagonal", [True, False])
def test_welford_estimate_is_the_sample_covariance_shrunk_as_in_stan(diagonal):
    x = torch.randn(40, 3, dtype=torch.float64)
    estimator = WelfordCovariance(diagonal=diagonal)
    for row in x:
        estimator.add(row)
    n = 40
    covariance = torch.cov(x.T)
    expected = (n / (n + 5)) * covariance + 1e-3 * (5 / (n + 5)) * torch.eye(3, dtype=torch.float64)
    expected = expected.diagonal() if diagonal else expected
    assert torch.allclose(estimator.estimate(), expected)
    estimator.restart()
    with pytest.raises(RuntimeError, match="at least two positions"):
        estimator.estimate()

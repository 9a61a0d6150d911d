"""fit(): SVI with a convergence guard — continue within a step budget, then give a verdict."""

from __future__ import annotations

import pytest

import pplkit
from widgets.explorer.fitting import AUTOGUIDES, BUDGET_FACTOR, FitRequest, fit
from widgets.training.convergence import assess
from widgets.views.toggles import Toggles

from ..conftest import Y, hierarchical


def test_a_fit_stops_as_soon_as_it_has_levelled_off():
    pplkit.set_rng_seed(0)
    result = fit(hierarchical, (Y,), {}, FitRequest(Toggles(), "AutoDelta", 400, 0.1), AUTOGUIDES, num_samples=20)
    assert result is not None and result.converged, result.convergence.describe()
    steps = len(result.losses)
    assert steps == result.convergence.steps and steps in (400, 600, 800, 1000, 1200, 1400, 1600)
    if steps > 400:  # it continued only because the curve so far had not levelled off
        assert not assess(result.losses[: steps - 200]).converged
    assert result.convergence.level == pytest.approx(min(result.losses), rel=1e-3)  # MAP: a noiseless minimum


def test_a_fit_still_descending_continues_then_says_not_converged():
    pplkit.set_rng_seed(0)
    totals: list[int] = []
    # lr 1e-3 moves the MAP point by ~0.4 in 400 steps: far from mu ~ 2, and its noiseless loss still falls
    result = fit(hierarchical, (Y,), {}, FitRequest(Toggles(), "AutoDelta", 100, 1e-3), AUTOGUIDES,
                 on_extend=totals.append, num_samples=20)
    assert result is not None and not result.converged
    assert len(result.losses) == BUDGET_FACTOR * 100  # the whole budget was spent first
    assert totals == [150, 200, 250, 300, 350, 400]  # each extension told the chart its new total
    assert "not converged after 400 steps" in result.convergence.describe()
    assert "still falls" in result.convergence.reason


def test_a_cancelled_fit_returns_nothing():
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 10

    request = FitRequest(Toggles(), "AutoNormal", 1000, 0.01)
    assert fit(hierarchical, (Y,), {}, request, AUTOGUIDES, cancelled=cancelled, num_samples=20) is None

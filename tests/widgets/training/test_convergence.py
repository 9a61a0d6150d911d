"""assess(): a loss curve's trend against its own noise decides convergence."""

from __future__ import annotations

import math
import random

import pytest

from widgets.training.convergence import MIN_WINDOW, assess


def noisy(values: list[float], sd: float, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [v + rng.gauss(0.0, sd) for v in values]


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_loss_has_converged(seed: int) -> None:
    verdict = assess(noisy([250.0] * 2000, sd=2.0, seed=seed))
    assert verdict.converged, verdict.describe()
    assert verdict.noise == pytest.approx(2.0, rel=0.2)  # the noise is measured, not assumed
    assert verdict.level == pytest.approx(250.0, abs=0.5)
    assert verdict.describe().startswith("converged: loss 2") and "after 2,000 steps" in verdict.describe()


@pytest.mark.parametrize("seed", range(5))
def test_a_loss_still_falling_faster_than_its_noise_has_not(seed: int) -> None:
    # 5 per 100 steps against a noise of 2: invisible step to step, plain over a window.
    verdict = assess(noisy([500.0 - 0.05 * t for t in range(1000)], sd=2.0, seed=seed))
    assert not verdict.converged
    assert verdict.drift == pytest.approx(0.05 * verdict.window, rel=0.3)
    assert "still falls" in verdict.reason and "more steps" in verdict.reason


def test_a_rising_loss_asks_for_a_lower_learning_rate() -> None:
    verdict = assess(noisy([100.0 + 0.1 * t for t in range(800)], sd=1.0))
    assert not verdict.converged and "lower the learning rate" in verdict.reason


def test_a_noiseless_objective_converges_once_it_stops_moving() -> None:
    losses = [10.0 + 5.0 * 0.95**t for t in range(1000)]  # AutoDelta-like: no sampling noise
    assert assess(losses).converged
    assert not assess(losses[:120]).converged  # 120 steps in, it still falls by far more than 0.01%


def test_too_short_or_non_finite_curves_are_never_converged() -> None:
    short = assess([1.0] * (2 * MIN_WINDOW - 1))
    assert not short.converged and "too few steps" in short.reason
    broken = assess([1.0] * 300 + [math.nan])
    assert not broken.converged and "not finite" in broken.reason


def test_one_wild_step_does_not_decide_the_verdict() -> None:
    losses = noisy([250.0] * 1000, sd=1.0)
    losses[-3] = 1e6  # medians, not means
    assert assess(losses).converged


def test_the_window_follows_the_run_length_within_bounds() -> None:
    assert assess([1.0] * 100).window == MIN_WINDOW
    assert assess([1.0] * 1200).window == 300
    assert assess([1.0] * 100_000).window == 500
    with pytest.raises(ValueError, match="window"):
        assess([1.0] * 10, window=1)


@pytest.mark.slow
def test_it_tells_the_intro_models_unconverged_fit_from_the_converged_one() -> None:
    """At 800 steps the hand-written guide is still far from the optimum (loss ~440 against ~249)."""
    import pplkit
    from pplkit.examples import custom_guide, model, rugged_data
    from pplkit.infer import SVI, Trace_ELBO
    from pplkit.optim import Adam

    data = rugged_data()
    pplkit.clear_param_store()
    pplkit.set_rng_seed(0)
    svi = SVI(model, custom_guide, Adam({"lr": 0.03}), Trace_ELBO())
    early = assess(svi.run(800, *data))
    assert not early.converged
    late = assess(late_losses := svi.run(3000, *data))  # continues from the same params
    assert late.converged, late.describe()
    assert 240 < late.level < 260 and min(late_losses) > 200
    pplkit.clear_param_store()

"""Has a fit converged? Decided from the loss curve's own trend against its own noise.

A stochastic ELBO never settles on one number, so "the loss stopped changing" has to be
read against the noise of the estimate. :func:`assess` compares the median loss of the
last window of steps with that of the window before it: the fit has converged when the
loss no longer moves by more than a fraction of its step-to-step noise between the two.
Medians make one bad step harmless; the noise comes from successive differences, so a
loss that is still falling does not inflate its own noise estimate.

Every widget that shows a fitted answer (the explorer, ``widgets.train``,
``widgets.live_svi``) asks this module first, and says "not converged" when it must.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Convergence", "assess", "MIN_WINDOW"]

MIN_WINDOW = 50  # fewer steps per window than this cannot tell a trend from noise
MAX_WINDOW = 500  # more adds little and would make a long fit slow to be judged converged
TOLERANCE = 0.5  # converged when the loss moves by under half a noise sd from window to window
RELATIVE_FLOOR = 1e-4  # for noiseless objectives (AutoDelta): a change under 0.01% of the loss is none


@dataclass(frozen=True)
class Convergence:
    """The verdict on one loss curve.

    ``drift`` is how much the median loss fell from the window before the last to the last
    (negative when the loss rose); ``noise`` is the loss's step-to-step standard deviation
    in the last window; ``level`` is the last window's median loss.
    """

    converged: bool
    steps: int
    window: int
    drift: float
    noise: float
    level: float
    reason: str

    def describe(self) -> str:
        """One line for a learner, e.g. ``converged: loss 249.3 ± 1.2 after 1,200 steps``."""
        if self.converged:
            return f"converged: loss {self.level:,.4g} ± {self.noise:.2g} after {self.steps:,} steps"
        return f"not converged after {self.steps:,} steps: {self.reason}"


def assess(losses: Sequence[float], *, window: int | None = None, tolerance: float = TOLERANCE) -> Convergence:
    """Judge whether the loss curve ``losses`` (one value per step) has levelled off.

    Args:
        losses: the loss of every step so far, oldest first.
        window: steps per comparison window; by default a quarter of the run, kept
            between 50 and 500 steps.
        tolerance: the largest change between the two windows' medians, in units of
            the step-to-step noise, that still counts as converged.

    Example::

        >>> import random
        >>> rng = random.Random(0)
        >>> falling = [1000 * 0.99 ** t + rng.gauss(0, 1) for t in range(400)]
        >>> assess(falling).converged            # still falling by ~20 per window
        False
        >>> settled = falling + [rng.gauss(0, 1) for _ in range(1600)]
        >>> assess(settled).converged
        True
    """
    steps = len(losses)
    if window is None:
        window = min(MAX_WINDOW, max(MIN_WINDOW, steps // 4))
    if window < 2:
        raise ValueError(f"window must be at least 2 steps, got {window}")
    if steps < 2 * window:
        return Convergence(False, steps, window, math.nan, math.nan, math.nan,
                           f"too few steps to judge ({steps}; at least {2 * window} are needed)")
    before, last = list(losses[-2 * window : -window]), list(losses[-window:])
    if not all(math.isfinite(v) for v in before + last):
        return Convergence(False, steps, window, math.nan, math.nan, math.nan,
                           "the loss is not finite (NaN or infinite): lower the learning rate")
    level = statistics.median(last)
    drift = statistics.median(before) - level
    # Successive differences cancel a slow trend; their spread is sqrt(2) times the noise.
    noise = statistics.median(abs(b - a) for a, b in zip(last, last[1:])) * 1.4826 / math.sqrt(2)
    allowed = max(tolerance * noise, RELATIVE_FLOOR * abs(level), 1e-12)
    if abs(drift) <= allowed:
        return Convergence(True, steps, window, drift, noise, level, "")
    if drift > 0:
        reason = (f"the loss still falls by {drift:.3g} every {window} steps (noise ± {noise:.2g}); "
                  "train for more steps or raise the learning rate")
    else:
        reason = (f"the loss rose by {-drift:.3g} over the last {window} steps (noise ± {noise:.2g}); "
                  "lower the learning rate")
    return Convergence(False, steps, window, drift, noise, level, reason)

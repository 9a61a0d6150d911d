"""Warmup adaptation as in Stan: dual-averaging step size and a windowed mass matrix.

During warmup the step size is tuned so that the mean acceptance statistic hits a
target (0.8 by default), and the inverse mass matrix is set to the posterior
(co)variance estimated from the chain's own positions. Stan's schedule:

* a first buffer (75 iterations) where only the step size adapts, as the chain finds
  the typical set;
* windows of doubling length (25, 50, 100, ...) that each estimate the variance from
  scratch; at the end of each, the mass matrix is updated, and step-size adaptation
  restarts from a freshly searched step size;
* a last buffer (50 iterations) where the step size adapts to the final mass matrix.

The step size used after warmup is the dual-averaging average, not the last iterate.
"""

from __future__ import annotations

import math

import torch

__all__ = ["DualAveraging", "WarmupSchedule", "WelfordCovariance"]


class DualAveraging:
    """Nesterov dual averaging of log(step size) towards a target acceptance statistic.

    Hoffman & Gelman (2014), algorithm 5, with Stan's constants.

    The first updates explore: they start from ``mu = log(10 * step_size)``, so one
    update after a restart at 0.5 gives a larger step, even at a low acceptance rate;
    acceptance rates below the target then shrink it step by step.

    Example::

        >>> adapt = DualAveraging(target_accept_prob=0.8)
        >>> adapt.restart(step_size=0.5)
        >>> round(adapt.update(accept_prob=0.6), 3)
        3.476
        >>> round(adapt.update(accept_prob=0.6), 3)  # below the target: smaller than the last step
        1.948
    """

    def __init__(self, target_accept_prob: float = 0.8, gamma: float = 0.05, t0: float = 10.0, kappa: float = 0.75):
        self.target = target_accept_prob
        self.gamma = gamma
        self.t0 = t0
        self.kappa = kappa
        self.restart(1.0)

    def restart(self, step_size: float) -> None:
        """Start over, shrinking towards 10 x ``step_size`` (steps larger than the search found are cheaper)."""
        self.mu = math.log(10.0 * step_size)
        self.count = 0
        self.mean_error = 0.0  # running mean of (target - accept_prob)
        self.log_step_size_avg = 0.0

    def update(self, accept_prob: float) -> float:
        """Learn from one transition's acceptance statistic; return the next step size to try."""
        self.count += 1
        t = self.count
        accept_prob = min(accept_prob, 1.0)
        eta = 1.0 / (t + self.t0)
        self.mean_error = (1.0 - eta) * self.mean_error + eta * (self.target - accept_prob)
        log_step_size = self.mu - self.mean_error * math.sqrt(t) / self.gamma
        weight = t ** (-self.kappa)
        self.log_step_size_avg = (1.0 - weight) * self.log_step_size_avg + weight * log_step_size
        return math.exp(log_step_size)

    @property
    def final_step_size(self) -> float:
        """The averaged step size, used once warmup ends."""
        return math.exp(self.log_step_size_avg)


class WelfordCovariance:
    """Running mean and (co)variance of positions (Welford's algorithm), regularised as in Stan.

    Args:
        diagonal: keep only the variances (a diagonal mass matrix).
    """

    def __init__(self, diagonal: bool = True) -> None:
        self.diagonal = diagonal
        self.restart()

    def restart(self) -> None:
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None

    def add(self, x: torch.Tensor) -> None:
        self.count += 1
        if self.mean is None or self.m2 is None:
            self.mean = x.clone()
            self.m2 = torch.zeros_like(x) if self.diagonal else x.new_zeros(x.shape[0], x.shape[0])
            return
        delta = x - self.mean
        self.mean += delta / self.count
        if self.diagonal:
            self.m2 += delta * (x - self.mean)
        else:
            self.m2 += torch.outer(x - self.mean, delta)

    def estimate(self) -> torch.Tensor:
        """The sample (co)variance shrunk towards 1e-3 (x identity), with weight 5 / (n + 5)."""
        n = self.count
        if n < 2 or self.m2 is None:
            raise RuntimeError("a mass-matrix window needs at least two positions")
        covariance = self.m2 / (n - 1)
        shrink = 5.0 / (n + 5.0)
        if self.diagonal:
            return (1.0 - shrink) * covariance + 1e-3 * shrink
        eye = torch.eye(covariance.shape[0], dtype=covariance.dtype, device=covariance.device)
        return (1.0 - shrink) * covariance + 1e-3 * shrink * eye


class WarmupSchedule:
    """Which warmup iterations feed the mass-matrix estimate, and where its windows end.

    Args:
        num_warmup: the number of warmup iterations.
        adapt_mass_matrix: whether to learn a mass matrix at all.
        init_buffer, term_buffer, base_window: Stan's 75, 50 and 25. When they do not
            fit in ``num_warmup``, they become 15% / 10% / the rest, as in Stan.

    Example::

        >>> WarmupSchedule(500).windows
        [(75, 100), (100, 150), (150, 250), (250, 450)]
    """

    def __init__(
        self,
        num_warmup: int,
        adapt_mass_matrix: bool = True,
        init_buffer: int = 75,
        term_buffer: int = 50,
        base_window: int = 25,
    ) -> None:
        self.num_warmup = num_warmup
        self.windows: list[tuple[int, int]] = []  # [start, stop) of each window
        if not adapt_mass_matrix or num_warmup < 20:  # too short to estimate a variance
            return
        if init_buffer + base_window + term_buffer > num_warmup:
            init_buffer = int(0.15 * num_warmup)
            term_buffer = int(0.1 * num_warmup)
            base_window = num_warmup - init_buffer - term_buffer
        last_stop = num_warmup - term_buffer
        start, size = init_buffer, base_window
        while start < last_stop:
            stop = start + size
            # A window too short to double again takes the rest, up to the last buffer.
            if stop + 2 * size > last_stop:
                stop = last_stop
            self.windows.append((start, stop))
            start, size = stop, 2 * size
        self._window_ends = {stop - 1 for _, stop in self.windows}

    def in_window(self, iteration: int) -> bool:
        """True when the position after ``iteration`` feeds the mass-matrix estimate."""
        return any(start <= iteration < stop for start, stop in self.windows)

    def ends_window(self, iteration: int) -> bool:
        """True when the mass matrix is updated after ``iteration``."""
        return bool(self.windows) and iteration in self._window_ends

"""The loss history of a training run: every step kept in full, and a screen-sized copy.

A browser cannot draw 100,000 points ten times a second, and the kernel should not
send them, so the chart shows at most ``max_points`` points: each is the mean of a
bucket of consecutive steps. The buckets double in size whenever the screen copy
fills up (pairs of buckets merge), so the work per step is constant and the picture
always spans the whole run. The full history stays in Python for analysis.
"""

from __future__ import annotations

import math
import threading
from array import array
from dataclasses import dataclass, field

__all__ = ["Decimator", "LossHistory", "ScreenSeries", "check_max_points"]


class Decimator:
    """Bucket means of a stream of points ``(x, y1, ..., yk)``, at most ``max_points`` buckets.

    Args:
        num_series: how many y values each point carries.
        max_points: the most buckets kept, an even number: when reached, neighbouring
            buckets merge in pairs (an odd count would leave one bucket unpaired).

    Example::

        >>> d = Decimator(num_series=1, max_points=4)
        >>> for step in range(1, 11):
        ...     d.add(step, (float(step),))
        >>> d.xs, d.ys[0], d.bucket_size
        ([4, 8, 10], [2.5, 6.5, 9.5], 4)
    """

    def __init__(self, num_series: int, max_points: int = 2000) -> None:
        self.max_points = check_max_points(max_points)
        self.bucket_size = 1
        self._full_x: list[float] = []  # x of each complete bucket: its last point's x
        self._full_y: list[list[float]] = [[] for _ in range(num_series)]
        self._count = 0  # points in the open bucket
        self._sums = [0.0] * num_series
        self._last_x = 0.0

    def add(self, x: float, ys: tuple[float, ...] | list[float]) -> None:
        sums = self._sums
        for i, y in enumerate(ys):
            sums[i] += y
        self._count += 1
        self._last_x = x
        if self._count == self.bucket_size:
            self._close_bucket()

    def _close_bucket(self) -> None:
        n = self._count
        self._full_x.append(self._last_x)
        for series, total in zip(self._full_y, self._sums):
            series.append(total / n)
        self._count = 0
        self._sums = [0.0] * len(self._sums)
        if len(self._full_x) >= self.max_points:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        # Every complete bucket holds bucket_size points, so the mean of a pair is the mean of the two means.
        self._full_x = self._full_x[1::2]
        self._full_y = [[(a + b) / 2 for a, b in zip(s[0::2], s[1::2])] for s in self._full_y]
        self.bucket_size *= 2

    @property
    def complete(self) -> int:
        """Buckets that are full: they change only when all buckets merge, unlike the open last one."""
        return len(self._full_x)

    @property
    def xs(self) -> list[float]:
        """Bucket positions, the open (partial) bucket last so the newest step is always shown."""
        return self._full_x + [self._last_x] if self._count else list(self._full_x)

    @property
    def ys(self) -> list[list[float]]:
        if not self._count:
            return [list(s) for s in self._full_y]
        return [s + [total / self._count] for s, total in zip(self._full_y, self._sums)]


def check_max_points(max_points: int) -> int:
    """``max_points`` if it suits a :class:`Decimator`, else a ValueError that says what would."""
    if max_points < 2 or max_points % 2:
        raise ValueError(f"max_points must be an even number of at least 2 (buckets merge in pairs), "
                         f"got {max_points}; try {max(max_points - max_points % 2, 2)}")
    return max_points


@dataclass
class ScreenSeries:
    """What the chart draws: bucket positions and the bucket means of each series.

    The first ``complete`` points are full buckets, which stay as they are until the
    bucket size doubles; only the points after them can change at the next step.
    """

    steps: array
    loss: array
    smoothed: array
    terms: dict[str, array] = field(default_factory=dict)
    bucket_size: int = 1
    elapsed: array = field(default_factory=lambda: array("d"))
    complete: int = 0

    def series(self) -> dict[str, array]:
        """Every series by name, the x positions first: what the chart sends the browser."""
        return {"steps": self.steps, "elapsed": self.elapsed, "loss": self.loss, "smoothed": self.smoothed,
                **{f"term:{name}": values for name, values in self.terms.items()}}


class LossHistory:
    """Every step's loss (and, if given, the ELBO's terms), plus a smoothed loss.

    ``append`` is all the training loop pays per step: four list appends. The
    smoothing and the decimation catch up only when :meth:`screen` is called.

    Args:
        max_points: the most points :meth:`screen` returns per series (even).
        smoothing_window: the smoothed loss is an exponential moving average
            over about this many steps (bias-corrected, so early values are not pulled to 0).

    Example::

        >>> h = LossHistory()
        >>> for step, loss in enumerate([5.0, 4.0, 3.0], start=1):
        ...     h.append(step, loss)
        >>> h.losses, round(h.smoothed_loss, 3)
        ([5.0, 4.0, 3.0], 3.973)
    """

    def __init__(self, max_points: int = 2000, smoothing_window: float = 25.0) -> None:
        self.max_points = check_max_points(max_points)  # now, not at the first sync inside training
        self.smoothing_window = smoothing_window
        self.clear()

    @property
    def smoothing_window(self) -> float:
        """Steps the smoothed loss averages over; setting it recomputes the smoothed curve."""
        return self._window

    @smoothing_window.setter
    def smoothing_window(self, window: float) -> None:
        if not window >= 1:
            raise ValueError(f"smoothing_window must be at least 1 step, got {window}")
        self._window = float(window)
        self._alpha = 1.0 - 1.0 / window
        if hasattr(self, "_lock"):
            with self._lock:  # smooth and decimate again from the first step at the next catch-up
                self._restart_locked()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.elapsed: list[float] = []
        self.losses: list[float] = []
        self.terms: dict[str, list[float]] = {}
        self._lock = threading.Lock()  # the training thread and the notebook may both catch up
        self._restart_locked()

    def _restart_locked(self) -> None:
        self._ema = 0.0
        self._ema_weight = 0.0  # 1 - alpha**n, the bias correction
        self._decimator: Decimator | None = None
        self._seen = 0  # steps already smoothed and decimated

    def __len__(self) -> int:
        return len(self.losses)

    def append(self, step: int, loss: float, terms: dict[str, float] | None = None, elapsed: float = 0.0) -> None:
        """Record one step (``elapsed``: seconds of training so far). Terms for every step or for none."""
        if terms:
            for name, value in terms.items():
                self.terms.setdefault(name, []).append(value)
        self.steps.append(step)
        self.elapsed.append(elapsed)
        self.losses.append(loss)  # last: a reader on another thread trusts len(losses)

    @property
    def smoothed_loss(self) -> float:
        """The smoothed loss at the latest step (NaN before the first)."""
        with self._lock:
            self._catch_up_locked()
            return self._ema / self._ema_weight if self._ema_weight else math.nan

    @property
    def bucket_size(self) -> int:
        """Steps averaged into each point of the screen copy, as of the latest step."""
        self._catch_up()
        return self._decimator.bucket_size if self._decimator is not None else 1

    def screen(self) -> ScreenSeries:
        """The decimated series to draw, as float64 arrays (sent to the browser as raw bytes)."""
        self._catch_up()
        d = self._decimator
        if d is None:
            empty = array("d")
            return ScreenSeries(empty, empty, empty)
        ys = d.ys
        names = sorted(self.terms)
        return ScreenSeries(
            steps=array("d", d.xs),
            loss=array("d", ys[0]),
            smoothed=array("d", ys[1]),
            terms={name: array("d", ys[3 + i]) for i, name in enumerate(names)},
            bucket_size=d.bucket_size,
            elapsed=array("d", ys[2]),
            complete=d.complete,
        )

    def _catch_up(self) -> None:
        with self._lock:
            self._catch_up_locked()

    def _catch_up_locked(self) -> None:
        n = len(self.losses)
        if self._seen == n:
            return
        names = sorted(self.terms)
        if self._decimator is None:
            self._decimator = Decimator(3 + len(names), self.max_points)
        term_lists = [self.terms[name] for name in names]
        alpha, ema, weight = self._alpha, self._ema, self._ema_weight
        add, elapsed = self._decimator.add, self.elapsed
        for i in range(self._seen, n):
            loss = self.losses[i]
            ema = alpha * ema + (1.0 - alpha) * loss
            weight = alpha * weight + (1.0 - alpha)
            add(self.steps[i], (loss, ema / weight, elapsed[i], *(t[i] for t in term_lists)))
        self._ema, self._ema_weight, self._seen = ema, weight, n

"""A chart's axes, decided once in Python: the static SVG draws from them and the browser is sent them.

The rules (which scale, which range, which ticks and how they are labelled, which points
are off the scale) live here only. The ELBO chart's view receives :func:`describe_panel`
(built from :meth:`YAxis.describe` and :func:`x_axis`) as plain JSON and only draws it: it
maps a value to a position with the description's ``transform`` (``"linear"``, or
``"symlog"`` with its ``center`` and ``gap``) and writes the ``labels`` it was given. The
parameter trajectories' view receives :func:`describe_line` per line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .svgplot import format_tick, limits, readable_ticks

__all__ = ["YAxis", "describe_line", "describe_panel", "format_value", "off_scale_points", "x_axis", "x_fraction",
           "y_fraction"]


def format_value(value: float) -> str:
    """A tick label on a loss axis: five significant figures, so a loss of 1,234.5 keeps its units digit."""
    return format_tick(value, digits=5)


def x_axis(lo: float, hi: float, count: int = 5) -> dict[str, Any]:
    """A linear x axis from ``lo`` to ``hi`` with about ``count`` round ticks, as the view draws it.

    Example::

        x_axis(0.0, 800.0)["labels"]   # ['0', '200', '400', '600', '800']
    """
    ticks = readable_ticks(lo, hi, count, at_least=2, digits=5)
    return {"lo": lo, "hi": hi, "ticks": ticks, "labels": [format_value(t) for t in ticks]}


def describe_line(label: str, values: Sequence[float]) -> dict[str, Any]:
    """A small multiple's scale: its range (5% beyond the values) and the labels at its top and bottom.

    The parameter-trajectory view prints ``top`` and ``bottom`` beside each line, and its
    title with the latest value; the static picture prints the same.

    Example::

        d = describe_line("loc", [1.0, 2.0, 3.0])
        d["title"], d["top"], d["bottom"]   # ('loc = 3', '3.1', '0.9')
    """
    # Sent with every update of the trajectories, from the training thread: the built-in
    # min and max first, the finite-only ``limits`` only when a value is not finite.
    low, high = (min(values), max(values)) if len(values) else (math.nan, math.nan)
    if math.isfinite(low) and math.isfinite(high) and high > low:
        lo, hi = low - (high - low) * 0.05, high + (high - low) * 0.05
    else:
        lo, hi = limits(values, pad=0.05)
    last = next((v for v in reversed(values) if math.isfinite(v)), None)
    title = f"{label} = {format_tick(last) if last is not None else '–'}"
    return {"title": title, "lo": lo, "hi": hi, "top": format_tick(hi), "bottom": format_tick(lo)}


def describe_panel(name: str, title: str, values: Sequence[float], xlim: tuple[float, float], scale: str,
                   ticks: int = 5) -> dict[str, Any]:
    """One panel's axes: its y axis from ``values`` on ``scale``, its x axis over ``xlim``, its title.

    Example::

        panel = describe_panel("loss", "loss", [700.0, 300.0, 250.0], (0.0, 3.0), "symlog")
        panel["title"], panel["y"]["transform"]   # ('loss (symlog)', 'symlog')
    """
    return {"name": name, "title": title if scale == "linear" else f"{title} ({scale})",
            "x": x_axis(*xlim, ticks), "y": YAxis(values, scale).describe(ticks)}


def x_fraction(axis: dict[str, Any], value: float) -> float:
    """Where ``value`` goes along a described x axis: 0 at its ``lo``, 1 at its ``hi``."""
    return (value - axis["lo"]) / ((axis["hi"] - axis["lo"]) or 1.0)


def y_fraction(axis: dict[str, Any], value: float) -> float:
    """Where ``value`` goes up a described y axis: 0 at the bottom, 1 at the top, off-scale values at the top.

    The one piece of arithmetic the browser view repeats (elbo_chart.js ``yFraction``): the
    view holds the points, so it maps them itself, with the description's numbers.
    """
    t = value
    if axis["transform"] == "symlog":
        d = (value - axis["center"]) / axis["gap"]
        t = math.copysign(math.log10(1.0 + abs(d)), d)
    return (min(max(t, axis["t_lo"]), axis["t_hi"]) - axis["t_lo"]) / (axis["t_hi"] - axis["t_lo"])


def off_scale_points(axis: dict[str, Any], values: Sequence[float]) -> list[int]:
    """The indices of the values a described axis marks as above its range (▲)."""
    above = axis["mark_above"]
    return [] if above is None else [i for i, v in enumerate(values) if math.isfinite(v) and v > above]


class YAxis:
    """The y axis of one panel: where a value goes, the ticks, and which points are off the scale.

    "symlog" is linear within ``gap`` (the noise of the last tenth of the points) of their
    median and logarithmic beyond; "linear" spans every point; "zoom" spans the last 90%
    of points and lists the earlier ones above it as off the scale. With no finite value
    the axis is a plain linear 0..1 frame.

    Example::

        axis = YAxis([700.0, 400.0, 260.0] + [250.0, 251.0] * 20, "symlog")
        axis.off_scale, axis.lo < 250 < 700 < axis.hi     # ([], True)
    """

    def __init__(self, values: Sequence[float], scale: str) -> None:
        # numpy, not a loop: the chart describes its axes for every batch it sends, from the training thread.
        array = np.asarray(values, dtype=float)
        is_finite = np.isfinite(array)
        finite = array[is_finite]
        n = len(finite)
        tail = finite[n * 9 // 10 :] if n >= 20 else finite
        self.scale = scale
        self.transform = "symlog" if scale == "symlog" and n else "linear"
        self.center = float(np.median(tail)) if n else 0.0
        spread = float(np.median(np.abs(tail - self.center))) * 1.4826 if n else 0.0
        full = float(finite.max() - finite.min()) if n else 0.0
        self.gap = max(spread, full * 1e-4, abs(self.center) * 1e-9, 1e-12)
        kept = finite[n // 10 :] if scale == "zoom" and n >= 20 else finite
        lo, hi = (float(kept.min()), float(kept.max())) if n else (0.0, 1.0)
        self.mark_above = hi if n else None  # the highest value drawn; points above it are marked
        self.off_scale: list[int] = np.flatnonzero(is_finite & (array > hi)).tolist() if n else []
        if hi == lo:  # one level (or nothing): a linear axis around it, wide enough for distinct labels
            self.transform = "linear"
            half = abs(lo) * 0.1 or 0.5
            lo, hi = lo - half, hi + half
        t_lo, t_hi = self.t(lo), self.t(hi)
        margin = (t_hi - t_lo) * 0.04
        self.lo, self.hi = self.inverse(t_lo - margin), self.inverse(t_hi + margin)
        self.t_lo, self.t_hi = t_lo - margin, t_hi + margin

    def t(self, v: float) -> float:
        """The value's position on the (linear or symlog) axis scale."""
        if self.transform != "symlog":
            return v
        d = (v - self.center) / self.gap
        return math.copysign(math.log10(1.0 + abs(d)), d)

    def inverse(self, t: float) -> float:
        if self.transform != "symlog":
            return t
        return self.center + math.copysign(self.gap * (10.0 ** abs(t) - 1.0), t)

    def fraction(self, v: float) -> float:
        """0 at the bottom of the panel, 1 at the top; off-scale values stay at the top edge."""
        return (min(max(self.t(v), self.t_lo), self.t_hi) - self.t_lo) / (self.t_hi - self.t_lo)

    def ticks(self, count: int = 5) -> list[float]:
        if self.transform != "symlog":
            return readable_ticks(self.lo, self.hi, count, digits=5)
        # Round values at every power of ten from the noise to the whole range, kept where
        # they stand far enough apart on the axis: dense near the level, sparse up the descent.
        candidates: set[float] = set()
        for power in range(math.floor(math.log10(self.gap)), math.ceil(math.log10(self.hi - self.lo)) + 1):
            p = 10.0 ** power
            base = round(self.center / p) * p
            candidates.update(round(base + m * p, 12) for m in (-5, -2, -1, 0, 1, 2, 5))
        spacing = (self.t_hi - self.t_lo) / (count + 1)
        ticks: list[float] = []
        for tick in sorted((c for c in candidates if self.lo <= c <= self.hi), key=self.t):
            if not ticks or self.t(tick) - self.t(ticks[-1]) >= spacing:
                ticks.append(tick)
        return ticks

    @property
    def note(self) -> str:
        """What the panel says about its off-scale points ("" when there are none)."""
        if not self.off_scale:
            return ""
        return f"▲ {len(self.off_scale)} points above {format_value(self.hi)}"

    def describe(self, count: int = 5) -> dict[str, Any]:
        """The axis as plain JSON, everything the view needs to draw it.

        Example::

            d = YAxis([3.0, 2.0, 1.0], "linear").describe(3)
            d["transform"], d["labels"]   # ('linear', ['1', '2', '3'])
        """
        ticks, labels = [], []
        for tick in self.ticks(count):
            label = format_value(tick)
            if label not in labels:  # five figures can print two close ticks alike: keep the first
                ticks.append(tick)
                labels.append(label)
        return {
            "scale": self.scale, "transform": self.transform, "center": self.center, "gap": self.gap,
            "t_lo": self.t_lo, "t_hi": self.t_hi, "lo": self.lo, "hi": self.hi,
            "ticks": ticks, "labels": labels,
            "mark_above": self.mark_above if self.off_scale else None, "note": self.note,
        }

"""Panels of marks that scale themselves: the plotting API of the explorer's predictive view.

A plot function, the explorer's default or one a learner passes, receives a
:class:`PlotGrid`, asks it for panels and adds marks in data coordinates; the limits
are worked out once all marks are in, and the grid becomes one SVG. Colours may be
names of roles: "prior", "posterior", "reference" (NUTS) and "data".

Example::

    def regression_lines(fig, draws):
        is_cont_africa, ruggedness, log_gdp = draws.args
        for inside, title in [(1.0, "African nations"), (0.0, "Other nations")]:
            ax = fig.panel(title, xlabel="ruggedness", ylabel="log GDP")
            rows = is_cont_africa == inside
            ax.scatter(ruggedness[rows], log_gdp[rows], color="data")
            for role, samples in draws.predictions("obs"):
                ax.interval(ruggedness[rows], samples[:, rows], color=role, label=role)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .svgplot import COLORS, SvgFigure, limits

__all__ = ["Panel", "PlotGrid", "kde", "subsample", "to_floats"]


def to_floats(values: Any) -> list[float]:
    """Any tensor, array or sequence of numbers as a flat list of floats."""
    if isinstance(values, torch.Tensor):
        return values.detach().to(torch.float64).reshape(-1).tolist()
    return np.asarray(values, dtype=np.float64).reshape(-1).tolist()


def _array(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().to(torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


def _color(name: str) -> str:
    return COLORS.get(name, name)


def subsample(values: Any, max_points: int = 4000) -> np.ndarray:
    """At most ``max_points`` of the finite ``values`` (a random subset), flattened, as float64.

    The pictures' arithmetic is done in NumPy: torch hands ops such as ``exp`` on a few
    thousand elements to a thread pool, which on a busy machine (or beside a training
    thread) takes milliseconds per op instead of microseconds.
    """
    array = values.detach().reshape(-1).numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    array = array.reshape(-1)
    if array.size > max_points:  # its own generator: drawing a picture must not move torch's random stream
        array = array[_RNG.integers(array.size, size=max_points)]
    array = array.astype(np.float64)
    return array[np.isfinite(array)]


_RNG = np.random.default_rng(0)


def kde(values: Any, grid: Any, max_points: int = 4000) -> np.ndarray:
    """A Gaussian kernel density estimate of ``values`` on ``grid`` (Silverman's bandwidth)."""
    values = subsample(values, max_points)
    grid = np.asarray(grid, dtype=np.float64)
    if values.size < 2:
        return np.zeros_like(grid)
    q25, q75 = np.quantile(values, [0.25, 0.75])
    spread = min(values.std(ddof=1), (q75 - q25) / 1.34) if q75 > q25 else values.std(ddof=1)
    bandwidth = 0.9 * spread * values.size ** -0.2 or 1e-3
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.exp(-0.5 * z * z).sum(1) / (values.size * bandwidth * math.sqrt(2 * math.pi))


@dataclass
class Panel:
    """One plot in a :class:`PlotGrid`. Every method takes data coordinates."""

    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    _marks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _xs: list[float] = field(default_factory=list)
    _ys: list[float] = field(default_factory=list)
    _legend: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def _add(self, kind: str, label: str | None, color: str, dash: str | None = None, **mark: Any) -> None:
        self._marks.append((kind, {"color": _color(color), "dash": dash, **mark}))
        if label:
            self._legend.setdefault(label, (_color(color), dash))

    def scatter(self, x: Any, y: Any, color: str = "data", size: float = 2.0, alpha: float = 0.7,
                label: str | None = None) -> None:
        xs, ys = to_floats(x), to_floats(y)
        self._xs += xs
        self._ys += ys
        self._add("scatter", label, color, xs=xs, ys=ys, size=size, alpha=alpha)

    def line(self, x: Any, y: Any, color: str = "posterior", width: float = 1.5, dash: str | None = None,
             label: str | None = None) -> None:
        xs, ys = to_floats(x), to_floats(y)
        self._xs += xs
        self._ys += ys
        self._add("line", label, color, dash, xs=xs, ys=ys, width=width)

    def band(self, x: Any, lower: Any, upper: Any, color: str = "posterior", alpha: float = 0.25,
             label: str | None = None) -> None:
        xs, lo, hi = to_floats(x), to_floats(lower), to_floats(upper)
        self._xs += xs
        self._ys += lo + hi
        self._add("band", label, color, xs=xs, lo=lo, hi=hi, alpha=alpha)

    def interval(self, x: Any, samples: Any, color: str = "posterior", prob: float = 0.9,
                 label: str | None = None) -> None:
        """The central ``prob`` interval of ``samples`` (draws along dim 0) against ``x``, with its median."""
        x = np.asarray(to_floats(x))
        draws = _array(samples).reshape(-1, x.size)
        order = np.argsort(x, kind="stable")
        lo, mid, hi = np.quantile(draws[:, order], [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
        self.band(x[order], lo, hi, color=color, alpha=0.22)
        self.line(x[order], mid, color=color, width=1.6, label=label)

    def density(self, values: Any, color: str = "posterior", label: str | None = None, width: float = 1.8,
                dash: str | None = None, grid: Any = None) -> None:
        """A smooth density of ``values`` (a kernel density estimate)."""
        values = subsample(values)
        if grid is None:
            lo, hi = limits(np.quantile(values, [0.005, 0.995]).tolist() if values.size else [], pad=0.1)
            grid = np.linspace(lo, hi, 150)
        grid = np.asarray(to_floats(grid))
        self.line(grid, kde(values, grid), color=color, width=width, dash=dash, label=label)
        self._ys.append(0.0)

    def vline(self, x: float, color: str = "data", label: str | None = None, dash: str | None = "4 3") -> None:
        self._xs.append(float(x))
        self._add("vline", label, color, dash, x=float(x))

    def note(self, text: str) -> None:
        """A line of text in the top-left corner, e.g. why a curve is missing."""
        self._marks.append(("note", {"text": text}))

    def draw(self, fig: SvgFigure, box: tuple[float, float, float, float]) -> None:
        ax = fig.axes(box, xlim=self.xlim or limits(self._xs, pad=0.03), ylim=self.ylim or limits(self._ys))
        ax.frame(xlabel=self.xlabel, ylabel=self.ylabel, title=self.title)
        notes = 0
        for kind, mark in self._marks:
            if kind == "scatter":
                ax.scatter(mark["xs"], mark["ys"], mark["color"], radius=mark["size"], opacity=mark["alpha"])
            elif kind == "line":
                ax.line(mark["xs"], mark["ys"], mark["color"], width=mark["width"], dash=mark["dash"])
            elif kind == "band":
                ax.band(mark["xs"], mark["lo"], mark["hi"], mark["color"], opacity=mark["alpha"])
            elif kind == "vline":
                ax.vline(mark["x"], mark["color"], dash=mark["dash"])
            elif kind == "note":
                notes += 1
                fig.text(box[0] + 6, box[1] + 14 * notes, mark["text"])
        if self._legend:
            ax.legend([(label, color) for label, (color, _) in self._legend.items()],
                      dashes=[dash for _, dash in self._legend.values()])


class PlotGrid:
    """Panels laid out in rows of ``columns``; :meth:`to_svg` draws them all.

    Args:
        width: the width of the whole picture, in pixels.
        panel_height: the height of each panel's plotting area.
        columns: panels per row.
    """

    def __init__(self, width: float = 620, panel_height: float = 190, columns: int = 2) -> None:
        self.width, self.panel_height, self.columns = width, panel_height, columns
        self.panels: list[Panel] = []

    def panel(self, title: str = "", xlabel: str = "", ylabel: str = "") -> Panel:
        """Add a panel and return it."""
        self.panels.append(Panel(title, xlabel, ylabel))
        return self.panels[-1]

    def to_svg(self, css_class: str = "pplkit-plot") -> str:
        panels = self.panels or [Panel(title="nothing to show")]
        columns = min(self.columns, len(panels))
        rows = (len(panels) + columns - 1) // columns
        cell_w, cell_h = self.width / columns, self.panel_height + 58
        fig = SvgFigure(self.width, rows * cell_h, css_class=css_class)
        for i, panel in enumerate(panels):
            left, top = (i % columns) * cell_w, (i // columns) * cell_h
            panel.draw(fig, (left + 52, top + 20, cell_w - 66, self.panel_height))
        return fig.to_svg()

"""Panels of marks that scale themselves: the plotting API of the explorer's predictive view.

A plot function, the explorer's default or one a learner passes, receives a
:class:`PlotGrid`, asks it for panels and adds marks in data coordinates; the limits
are worked out once all marks are in, and the grid becomes one SVG. Colours may be
names of roles: "prior", "posterior", "reference" (NUTS) and "data".

The y-axis is scaled to the data and the posterior: prior marks are context, often far
wider (a vague prior predicts log GDP of ±25), and would squash the rest into a strip.
They are drawn clipped at the panel's edge, with a note and edge marks saying so.
Bands stay distinguishable where they overlap: the prior's is faint, the posterior's
stronger with solid edges, and the NUTS reference's only dashed edges, so no two blend
into a third colour.

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
    _context_ys: list[float] = field(default_factory=list)  # prior marks: drawn, but do not set the y-axis

    def _ys_of(self, color: str) -> list[float]:
        return self._context_ys if color == "prior" else self._ys

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
        self._ys_of(color).extend(ys)
        self._add("line", label, color, dash, xs=xs, ys=ys, width=width)

    def band(self, x: Any, lower: Any, upper: Any, color: str = "posterior", alpha: float = 0.25,
             label: str | None = None, edge: str | None = None) -> None:
        """A filled band between ``lower`` and ``upper``; ``edge`` a dash pattern ("" solid) to outline it."""
        xs, lo, hi = to_floats(x), to_floats(lower), to_floats(upper)
        self._xs += xs
        self._ys_of(color).extend(lo + hi)
        self._add("band", label, color, xs=xs, lo=lo, hi=hi, alpha=alpha, edge=edge)

    def interval(self, x: Any, samples: Any, color: str = "posterior", prob: float = 0.9,
                 label: str | None = None) -> None:
        """The central ``prob`` interval of ``samples`` (draws along dim 0) against ``x``, with its median."""
        x = np.asarray(to_floats(x))
        draws = _array(samples).reshape(-1, x.size)
        order = np.argsort(x, kind="stable")
        lo, mid, hi = np.quantile(draws[:, order], [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
        alpha, edge = BAND_STYLE.get(color, (0.25, ""))
        self.band(x[order], lo, hi, color=color, alpha=alpha, edge=edge)
        self.line(x[order], mid, color=color, width=1.8 if color != "prior" else 1.2,
                  dash="6 3" if color == "reference" else None, label=label)

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

    def y_limits(self) -> tuple[float, float]:
        """The y-range: given, or fitted to every mark but the prior's (to the prior's if it is alone)."""
        if self.ylim is not None:
            return self.ylim
        return limits(self._ys if any(math.isfinite(y) for y in self._ys) else self._context_ys)

    def clipped(self) -> tuple[float, float] | None:
        """The prior marks' y-range when it reaches beyond the axis (drawn clipped), else None."""
        context = [y for y in self._context_ys if math.isfinite(y)]
        lo, hi = self.y_limits()
        if not context or (min(context) >= lo and max(context) <= hi):
            return None
        return min(context), max(context)

    def draw(self, fig: SvgFigure, box: tuple[float, float, float, float], shared_legend: bool = False) -> None:
        ax = fig.axes(box, xlim=self.xlim or limits(self._xs, pad=0.03), ylim=self.y_limits())
        ax.frame(xlabel=self.xlabel, ylabel=self.ylabel, title=self.title)
        notes = 0
        for kind, mark in self._marks:
            if kind == "scatter":
                ax.scatter(mark["xs"], mark["ys"], mark["color"], radius=mark["size"], opacity=mark["alpha"])
            elif kind == "line":
                ax.line(mark["xs"], mark["ys"], mark["color"], width=mark["width"], dash=mark["dash"])
            elif kind == "band":
                ax.band(mark["xs"], mark["lo"], mark["hi"], mark["color"], opacity=mark["alpha"])
                if mark.get("edge") is not None:
                    for edge in (mark["lo"], mark["hi"]):
                        ax.line(mark["xs"], edge, mark["color"], width=1.0, dash=mark["edge"] or None)
            elif kind == "vline":
                ax.vline(mark["x"], mark["color"], dash=mark["dash"])
            elif kind == "note":
                notes += 1
                fig.text(box[0] + 6, box[1] + 14 * notes, mark["text"])
        if self.clipped() is not None:
            self._mark_clipping(fig, ax)
        if self._legend and not shared_legend:
            ax.legend([(label, color) for label, (color, _) in self._legend.items()],
                      dashes=[dash for _, dash in self._legend.values()])


    def _mark_clipping(self, fig: SvgFigure, ax: Any) -> None:
        beyond = self.clipped()
        assert beyond is not None
        lo, hi = ax.ylim
        left, right = ax.left, ax.left + ax.width
        for value, edge, sign in ((beyond[1], hi, -1), (beyond[0], lo, 1)):
            if (value > edge) if sign < 0 else (value < edge):
                y = ax.py(edge)  # a row of small gray triangles pointing out of the panel
                tip = y + 5 * sign
                marks = "".join(f'<path d="M{x - 4:.1f},{y:.1f} L{x + 4:.1f},{y:.1f} L{x:.1f},{tip:.1f} Z"/>'
                                for x in np.linspace(left + 10, right - 10, 9))
                fig.add(f'<g class="pk-clip-mark" fill="{COLORS["prior"]}">{marks}</g>')


def _fmt_range(span: tuple[float, float]) -> str:
    return f"{span[0]:.3g} to {span[1]:.3g}"


# Fill opacity and edge dash of each role's interval band: faint prior underneath, the posterior
# stronger with solid edges, the NUTS reference as dashed edges only, so overlaps never blend.
BAND_STYLE: dict[str, tuple[float, str | None]] = {
    "prior": (0.16, None),
    "posterior": (0.32, ""),
    "reference": (0.0, "5 3"),
}


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
        """The panels, under one legend (every label of every panel) and above a note on clipped priors."""
        panels = self.panels or [Panel(title="nothing to show")]
        columns = min(self.columns, len(panels))
        rows = (len(panels) + columns - 1) // columns
        cell_w, cell_h = self.width / columns, self.panel_height + 64
        legend: dict[str, tuple[str, str | None]] = {}
        for panel in panels:
            for label, style in panel._legend.items():
                legend.setdefault(label, style)
        clipped = [span for span in (p.clipped() for p in panels) if span is not None]
        head, foot = (20 if legend else 0), (18 if clipped else 0)
        fig = SvgFigure(self.width, head + rows * cell_h + foot, css_class=css_class)
        if legend:
            fig.axes((0, 2, self.width - 6, 12), xlim=(0, 1), ylim=(0, 1)).legend(
                [(label, color) for label, (color, _) in legend.items()], dashes=[d for _, d in legend.values()])
        for i, panel in enumerate(panels):
            left, top = (i % columns) * cell_w, head + (i // columns) * cell_h
            panel.draw(fig, (left + 56, top + 22, cell_w - 70, self.panel_height), shared_legend=True)
        if clipped:
            lo, hi = min(s[0] for s in clipped), max(s[1] for s in clipped)
            fig.text(4, head + rows * cell_h + 8, f"▲▼ prior band clipped at the panel edges: it spans "
                     f"{_fmt_range((lo, hi))}", cls="note")
        return fig.to_svg()

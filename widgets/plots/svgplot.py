"""A small SVG plotter: axes with ticks, lines, points and bands.

The widgets draw their plots as SVG text in Python: the same picture serves the live
view and the static copy saved in the notebook, it takes about a millisecond, and it
needs neither matplotlib's start-up nor a JavaScript plotting library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["COLORS", "FONT_FAMILY", "Axes", "SvgFigure", "caption_svg", "limits", "nice_ticks", "palette",
           "readable_ticks", "stack_svgs", "svg_size", "text_width", "with_badge"]

# One sans-serif family for every picture (the graphviz graph uses its first name too), and
# no text under 12 px: what a projector at 1280x720 still shows legibly from the back row.
FONT_FAMILY = "'DejaVu Sans',system-ui,-apple-system,'Segoe UI',Arial,sans-serif"
FONT_PX = {"tick": 12, "label": 12.5, "title": 13, "legend": 12, "note": 12, "warning": 13}


def text_width(text: str, size: float = 12) -> float:
    """An upper estimate of ``text``'s width in pixels at ``size`` px (DejaVu Sans averages ~0.6 em)."""
    return 0.62 * size * len(text)


COLORS = {
    "prior": "#9a9a9a",
    "posterior": "#1f77b4",
    "reference": "#e8710a",
    "data": "#222222",
    "smoothed": "#1f77b4",
    "raw": "#9ecae1",
    "log_likelihood": "#2ca02c",
    "kl": "#d62728",
}
_PALETTE = ["#1f77b4", "#e8710a", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def palette(i: int) -> str:
    """The i-th colour of a repeating categorical palette."""
    return _PALETTE[i % len(_PALETTE)]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2 or 5 times a power of ten) within [lo, hi].

    Example::

        nice_ticks(0.0, 9.3)   # [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        value += step
    return ticks


def readable_ticks(lo: float, hi: float, count: int = 5, at_least: int = 3, digits: int = 4) -> list[float]:
    """:func:`nice_ticks`, but at least ``at_least`` of them with distinct labels, so a scale can be read.

    Round steps sometimes leave one or two ticks in a range (0 and 0.5 in [0, 0.9] for
    three ticks); then finer round steps are tried, and as a last resort the ends and middle.

    Example::

        nice_ticks(0.0, 0.9, 3), readable_ticks(0.0, 0.9, 3)   # ([0.0, 0.5], [0.0, 0.2, 0.4, 0.6, 0.8])
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return nice_ticks(lo, hi, count)
    for n in range(count, count + 8):
        ticks = nice_ticks(lo, hi, n)
        if len({format_tick(t, digits) for t in ticks}) >= at_least:
            return ticks
    return [lo, (lo + hi) / 2, hi]


def format_tick(value: float, digits: int = 4) -> str:
    """A tick label: ``digits`` significant figures, scientific notation for very large or small values."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.{max(1, digits - 3)}e}"
    return f"{value:.{digits}g}"


_fmt = format_tick


def limits(values: Iterable[float], pad: float = 0.05) -> tuple[float, float]:
    """Finite min and max of ``values``, widened by ``pad`` of the range on each side."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi == lo:
        half = abs(lo) * 0.1 or 0.5
        return lo - half, hi + half
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


class Axes:
    """One plotting area of a :class:`SvgFigure`; methods add marks in data coordinates."""

    def __init__(
        self,
        figure: SvgFigure,
        box: tuple[float, float, float, float],
        xlim: tuple[float, float],
        ylim: tuple[float, float],
    ) -> None:
        self.figure = figure
        self.left, self.top, self.width, self.height = box
        self.xlim, self.ylim = xlim, ylim

    def px(self, x: float) -> float:
        lo, hi = self.xlim
        return self.left + (x - lo) / ((hi - lo) or 1.0) * self.width

    def py(self, y: float) -> float:
        lo, hi = self.ylim
        y = min(max(y, lo), hi)  # clip: a run's first huge losses stay at the top edge
        return self.top + self.height - (y - lo) / ((hi - lo) or 1.0) * self.height

    def _points(self, xs: Sequence[float], ys: Sequence[float]) -> str:
        return " ".join(
            f"{self.px(x):.1f},{self.py(y):.1f}" for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)
        )

    def frame(self, xlabel: str = "", ylabel: str = "", title: str = "", ticks: int = 4) -> Axes:
        """Draw the axes box, tick labels, axis labels and a title."""
        f, bottom = self.figure, self.top + self.height
        f.add(f'<rect x="{self.left:.1f}" y="{self.top:.1f}" width="{self.width:.1f}" '
              f'height="{self.height:.1f}" fill="none" stroke="#ccc"/>')
        for x in readable_ticks(*self.xlim, ticks):
            at, label = self.px(x), _fmt(x)
            half = text_width(label, FONT_PX["tick"]) / 2
            if at + half > f.width - 1:  # a label centred on the last tick would run off the picture
                f.text(f.width - 1, bottom + 14, label, anchor="end", cls="tick")
            elif at - half < 1:
                f.text(1, bottom + 14, label, anchor="start", cls="tick")
            else:
                f.text(at, bottom + 14, label, anchor="middle", cls="tick")
        y_ticks = readable_ticks(*self.ylim, ticks)
        for y in y_ticks:
            f.text(self.left - 4, self.py(y) + 4, _fmt(y), anchor="end", cls="tick")
        if xlabel:
            f.text(self.left + self.width / 2, bottom + 29, xlabel, anchor="middle", cls="label")
        if ylabel:
            widest = max((text_width(_fmt(y), FONT_PX["tick"]) for y in y_ticks), default=0.0)
            f.add(f'<text transform="translate({self.left - widest - 10:.1f},{self.top + self.height / 2:.1f}) '
                  f'rotate(-90)" text-anchor="middle" class="label">{escape(ylabel)}</text>')
        if title:
            f.text(self.left, self.top - 5, title, cls="title")
        return self

    def line(self, xs: Sequence[float], ys: Sequence[float], color: str, width: float = 1.5,
             dash: str | None = None, opacity: float = 1.0, cls: str = "") -> None:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        class_attr = f' class="{cls}"' if cls else ""
        self.figure.add(f'<polyline{class_attr} points="{self._points(xs, ys)}" fill="none" stroke="{color}" '
                        f'stroke-width="{width}" stroke-opacity="{opacity}"{dash_attr}/>')

    def scatter(self, xs: Sequence[float], ys: Sequence[float], color: str, radius: float = 2.0,
                opacity: float = 0.7) -> None:
        dots = "".join(
            f'<circle cx="{self.px(x):.1f}" cy="{self.py(y):.1f}" r="{radius}"/>'
            for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)
        )
        self.figure.add(f'<g fill="{color}" fill-opacity="{opacity}">{dots}</g>')

    def band(self, xs: Sequence[float], lo: Sequence[float], hi: Sequence[float], color: str,
             opacity: float = 0.25) -> None:
        upper = self._points(xs, hi)
        lower = self._points(list(reversed(xs)), list(reversed(lo)))
        self.figure.add(f'<polygon points="{upper} {lower}" fill="{color}" fill-opacity="{opacity}" stroke="none"/>')

    def vline(self, x: float, color: str, dash: str | None = "4 3", width: float = 1.5) -> None:
        if not math.isfinite(x):
            return
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        self.figure.add(f'<line x1="{self.px(x):.1f}" x2="{self.px(x):.1f}" y1="{self.top:.1f}" '
                        f'y2="{self.top + self.height:.1f}" stroke="{color}" stroke-width="{width}"{dash_attr}/>')

    def legend(self, entries: Sequence[tuple[str, str]], dashes: Sequence[str | None] = ()) -> None:
        """Labels with colour swatches along the top right, right to left."""
        x = self.left + self.width - 4
        for i, (label, color) in reversed(list(enumerate(entries))):
            dash = dashes[i] if i < len(dashes) else None
            self.figure.text(x, self.top + 11, label, anchor="end", cls="legend")
            x -= text_width(label, FONT_PX["legend"]) + 4
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            self.figure.add(f'<line x1="{x - 14:.1f}" x2="{x:.1f}" y1="{self.top + 7:.1f}" y2="{self.top + 7:.1f}" '
                            f'stroke="{color}" stroke-width="2"{dash_attr}/>')
            x -= 22


class SvgFigure:
    """An SVG document built mark by mark.

    Example::

        fig = SvgFigure(300, 160)
        ax = fig.axes((40, 15, 250, 115), xlim=(0, 3), ylim=(0, 9)).frame(xlabel="x")
        ax.line([0, 1, 2, 3], [0, 1, 4, 9], color="#1f77b4")
        svg = fig.to_svg()
    """

    STYLE = (
        f"text{{font-family:{FONT_FAMILY};fill:#444}}"
        + "".join(f".{name}{{font-size:{px}px}}" for name, px in FONT_PX.items())
        + ".title{font-weight:600}.note{fill:#777}.warning{font-weight:700;fill:#b00020}"
    )

    def __init__(self, width: float, height: float, css_class: str = "pplkit-plot") -> None:
        self.width, self.height, self.css_class = width, height, css_class
        self._parts: list[str] = []

    def add(self, markup: str) -> None:
        self._parts.append(markup)

    def axes(self, box: tuple[float, float, float, float], xlim: tuple[float, float] | None = None,
             ylim: tuple[float, float] | None = None, xs: Iterable[float] = (),
             ys: Iterable[float] = ()) -> Axes:
        """A plotting area at ``box = (left, top, width, height)``; limits fit ``xs``/``ys`` if not given."""
        return Axes(self, box, xlim or limits(xs, pad=0.0), ylim or limits(ys))

    def text(self, x: float, y: float, text: str, anchor: str = "start", cls: str = "note") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>')

    def to_svg(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{self.css_class}" width="{self.width:g}" '
            f'height="{self.height:g}" viewBox="0 0 {self.width:g} {self.height:g}">'
            f"<style>{self.STYLE}</style>{''.join(self._parts)}</svg>"
        )


def stack_svgs(svgs: list[str]) -> str:
    """Several SVG documents one above the other, as one document."""
    parts, y, width = [], 0.0, 0.0
    for svg in svgs:
        w, h = svg_size(svg)
        parts.append(f'<g transform="translate(0,{y:g})">{svg}</g>')
        y, width = y + h + 8, max(width, w)
    fig = SvgFigure(width, y)
    for part in parts:
        fig.add(part)
    return fig.to_svg()


_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3}


def svg_size(svg: str) -> tuple[float, float]:
    """The width and height an SVG document declares, in pixels (graphviz writes points)."""
    head = svg[: svg.index(">") + 1] if ">" in svg else svg
    sizes = []
    for key in ("width", "height"):
        match = re.search(rf'\b{key}="([\d.]+)(px|pt)?"', head)
        sizes.append(float(match.group(1)) * _UNITS[match.group(2) or ""] if match else 200.0)
    return sizes[0], sizes[1]


def caption_svg(text: str, warn: bool = False, width: float = 620) -> str:
    """One line of text as an SVG, wrapped at about ``width`` pixels (13 px sans-serif)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and text_width(f"{line} {word}", 13.5) > width - 8:  # bold 13 px runs a little wider
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    fig = SvgFigure(width, 8 + 17 * len(lines), css_class="pplkit-caption")
    for i, shown in enumerate(lines):
        fig.text(4, 16 + 17 * i, shown, cls="warning" if warn else "title")
    return fig.to_svg()


def with_badge(svg: str, warning: str) -> str:
    """``svg`` with ``warning`` written above it in red (unchanged when there is no warning)."""
    if not warning or not svg:
        return svg
    return stack_svgs([caption_svg(warning, warn=True, width=max(svg_size(svg)[0], 320)), svg])

"""The parameter-trajectory view: how each learnable parameter moves during training.

One small line chart per parameter element (the first few elements of larger
params), drawn from samples taken about ten times a second (the training controller
samples whenever its ELBO chart syncs), so the cost to the training loop is one read
of the params per sample, not per step.

Like the ELBO chart, the view acknowledges each drawing ("ack"), and new lines are sent
only after that (or after ``ACK_TIMEOUT``), and at most every ``MIN_INTERVAL`` seconds
(every update carries the whole lines), so a slow browser never queues a backlog;
:meth:`ParamTrajectories.flush` sends the latest lines regardless, at the end of a run.
"""

from __future__ import annotations

import threading
import time
from array import array
from pathlib import Path
from typing import Any, Iterable

import anywidget
import torch
import traitlets

from ..plots.axes import describe_line
from ..plots.display import StaticPicture
from ..plots.svgplot import SvgFigure, limits, palette
from .history import Decimator, check_max_points

__all__ = ["ParamTrajectories"]

_HERE = Path(__file__).parent
ACK_TIMEOUT = 2.0  # seconds without an ack before the lines are sent anyway
MIN_INTERVAL = 0.25  # seconds between updates: a parameter's path needs no more than 4 frames a second


class ParamTrajectories(StaticPicture, anywidget.AnyWidget):
    """Small multiples of parameter values against the training step.

    Args:
        max_series: the most lines shown; a param with many elements shows its first ones.
        max_points: the most points per line, even (older points are averaged in pairs).

    Example::

        view = ParamTrajectories()
        view.record(step=10, params={"loc": torch.tensor([0.5, 1.0])})
        view.names    # ['loc[0]', 'loc[1]']
    """

    _esm = _HERE / "trajectories.js"
    _css = _HERE / "trajectories.css"

    names = traitlets.List(traitlets.Unicode(), help="One label per line: 'param' or 'param[i]'.").tag(sync=True)
    steps = traitlets.Bytes(b"", help="The step of each sample (float64 bytes).").tag(sync=True)
    values = traitlets.Dict(value_trait=traitlets.Bytes(), help="Each line's values (float64 bytes).").tag(sync=True)
    hidden = traitlets.Int(0, help="Parameter elements left out beyond max_series.").tag(sync=True)
    prefix = traitlets.Unicode("", help="The start all names share (e.g. 'AutoNormal.'), shown once.").tag(sync=True)
    scales = traitlets.Dict(
        help="Each line's title, range and the labels at its top and bottom (widgets.plots.axes.describe_line); "
             "the view and the static picture both draw them."
    ).tag(sync=True)

    def __init__(self, max_series: int = 12, max_points: int = 200, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_series = max_series
        self.max_points = check_max_points(max_points)
        self._lock = threading.Lock()
        self._awaiting_ack_since: float | None = None  # when lines were sent that the view has not drawn yet
        self._viewed = False  # before a view says hello there is nobody to wait for
        self.clear()
        self.on_msg(self._on_front_end_msg)

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("kind") in ("ack", "hello"):
            self._viewed = True
            self._awaiting_ack_since = None

    def clear(self) -> None:
        """Forget every sample."""
        with self._lock:
            self._decimator: Decimator | None = None
            self._labels: list[str] = []
            self._hidden = 0
            self._published_at = -MIN_INTERVAL
            with self.hold_sync():
                self.names, self.steps, self.values, self.hidden, self.prefix = [], b"", {}, 0, ""
                self.scales = {}

    def record(self, step: int, params: Iterable[tuple[str, torch.Tensor]] | dict[str, torch.Tensor]) -> None:
        """Add one sample of the (constrained) param values; send the lines if the view has drawn the last ones."""
        items = list(params.items()) if isinstance(params, dict) else list(params)
        labels: list[str] = []
        values: list[float] = []
        total = 0
        for name, value in items:
            flat = value.detach().reshape(-1)
            total += flat.numel()
            room = self.max_series - len(labels)
            if room <= 0:
                continue
            take = flat[:room].tolist()
            labels += [name] if flat.numel() == 1 else [f"{name}[{i}]" for i in range(len(take))]
            values += take
        if not labels:  # no params yet (e.g. before the guide's first run): nothing to draw
            return
        with self._lock:
            if self._decimator is None or labels != self._labels:  # new params (a new guide): start over
                self._labels = labels
                self._decimator = Decimator(len(labels), self.max_points)
            self._decimator.add(step, values)
            self._hidden = total - len(labels)
            since, now = self._awaiting_ack_since, time.monotonic()
            ready = since is None or now - since >= ACK_TIMEOUT
            if not self._viewed or (ready and now - self._published_at >= MIN_INTERVAL):
                self._publish_locked()

    def flush(self) -> None:
        """Send the latest lines now, whether or not the view has drawn the last ones."""
        with self._lock:
            if self._decimator is not None:
                self._publish_locked()

    def _publish_locked(self) -> None:
        assert self._decimator is not None
        labels, xs, ys = self._labels, self._decimator.xs, self._decimator.ys
        self._published_at = time.monotonic()
        if self._viewed:  # before sending: the ack may come back before this thread runs on
            self._awaiting_ack_since = self._published_at
        prefix = _shared_prefix(labels)
        with self.hold_sync():
            self.names = labels
            self.prefix = prefix
            self.hidden = self._hidden
            self.steps = array("d", xs).tobytes()
            self.values = {label: array("d", y).tobytes() for label, y in zip(labels, ys)}
            self.scales = {label: describe_line(label[len(prefix):], y) for label, y in zip(labels, ys)}

    def series(self) -> dict[str, list[float]]:
        """The lines as drawn: label -> values (bucket means once there are many samples)."""
        if self._decimator is None:
            return {}
        return dict(zip(self._labels, self._decimator.ys))

    def static_svg(self) -> str:
        lines = self.series()
        xs = self._decimator.xs if self._decimator is not None else []
        cols, cell_w, cell_h = 3, 200, 84
        rows = max((len(lines) + cols - 1) // cols, 1)
        fig = SvgFigure(cols * cell_w, rows * cell_h + 6, css_class="pplkit-trajectories-static")
        fig.add("<style>.pplkit-trajectories-static .tick{font-size:12px}"
                ".pplkit-trajectories-static .title{font-size:12.5px}.pplkit-trajectories-static .note{font-size:12px}"
                "</style>")
        if not lines:
            fig.text(8, 30, "no parameter samples yet")
        for i, (label, ys) in enumerate(lines.items()):
            scale = describe_line(label[len(self.prefix):], ys)
            left, top = (i % cols) * cell_w + 46, (i // cols) * cell_h + 18
            box = (left, top, cell_w - 60, cell_h - 40)
            ax = fig.axes(box, xlim=limits(xs, pad=0.0), ylim=(scale["lo"], scale["hi"]))
            fig.add(f'<rect x="{left}" y="{top}" width="{box[2]}" height="{box[3]}" fill="none" stroke="#ccc"/>')
            fig.text(left, top - 5, scale["title"], cls="title")
            fig.text(left - 4, top + 12, scale["top"], anchor="end", cls="tick")
            fig.text(left - 4, top + box[3], scale["bottom"], anchor="end", cls="tick")
            ax.line(xs, ys, palette(i), width=1.3)
        return fig.to_svg()


def _shared_prefix(names: list[str]) -> str:
    """The dotted start every name shares: "AutoNormal." for AutoNormal's params, else ""."""
    if len(names) < 2:
        return ""
    first = names[0]
    end = 0
    for i, ch in enumerate(first):
        if any(i >= len(n) or n[i] != ch for n in names[1:]):
            break
        if ch == ".":
            end = i + 1
    return first[:end]

"""The live ELBO chart: the loss of a training run, drawn while it runs.

The chart is an SVI callback: ``svi.run(2000, *data, callback=chart)``. Per step the
training loop only appends to Python lists and reads a clock; about ten times a
second (``sync_interval``) the chart sends the browser what is new.

Backpressure: the browser says which points it has drawn (an "ack" message), and the
chart sends only the points after those, and only once the previous batch has been
acknowledged. A slow or CPU-throttled browser therefore receives fewer, larger
batches instead of a growing queue of whole curves, and the small readouts (step,
status) that travel as traits never wait behind a backlog. A new view says "hello"
and is sent the whole curve. When a run ends, the whole curve is also stored in the
``curve_*`` traits, which a saved notebook keeps. A chart displayed by a cell that
trains in the cell cannot hear its view until the cell ends; it stores the whole curve
in those traits once a second instead.

The y axis shows the whole descent: "symlog" (the default) is linear within the
noise of the final level and logarithmic beyond it, "linear" spans every point, and
"zoom" fits the last 90% of the run and marks the points above it. These rules live in
:mod:`widgets.plots.axes` only: the chart describes each panel's axes (:meth:`ElboChart.describe_axes`),
sends the description with each batch and in the ``axes`` trait, and both the browser view and
the static picture draw that description.
"""

from __future__ import annotations

import math
import textwrap
import threading
import time
from array import array
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import anywidget
import traitlets

from ..plots.axes import YAxis, describe_panel, off_scale_points, x_fraction, y_fraction
from ..plots.display import StaticPicture
from ..plots.svgplot import COLORS, SvgFigure
from .convergence import Convergence
from .history import LossHistory, ScreenSeries

__all__ = ["ACK_TIMEOUT", "STATUSES", "X_AXES", "Y_SCALES", "ElboChart", "StepLike", "YAxis"]

_HERE = Path(__file__).parent
STATUSES = ("idle", "running", "stopped", "done", "error")
Y_SCALES = ("symlog", "linear", "zoom")
X_AXES = ("step", "time")
TERM_LABELS = {"log_likelihood": "expected log-likelihood", "kl": "KL(q ‖ prior)"}
ACK_TIMEOUT = 2.0  # seconds without an ack before the chart sends again anyway (a view may have gone)
# A chart shown by a cell that trains in the cell (blocking mode) never hears its view's
# hello: the kernel handles browser messages only between cells. It then stores the
# whole curve in its traits, this often, so the view still follows the run.
UNHEARD_VIEW_INTERVAL = 1.0


class StepLike(Protocol):
    """What the chart reads from each step: ``pplkit.infer.svi.StepRecord`` fits."""

    step: int
    loss: float
    elapsed: float
    terms: dict[str, float] | None


class ElboChart(StaticPicture, anywidget.AnyWidget):
    """A live chart of the ELBO loss, with step, smoothed loss, steps per second and status.

    Args:
        title: shown above the curve.
        total_steps: the planned number of steps, for the progress readout (0: unknown).
        sync_interval: seconds between updates sent to the browser.
        max_points: the most points drawn per curve (even); the full history stays in :attr:`history`.
        smoothing_window: steps averaged by the smoothed loss (the "smoothing" box in the view).
        y_scale: "symlog", "linear" or "zoom" (see the module docstring).
        x_axis: "step" or "time" (seconds of training).
        auto_finish: mark the run done when ``total_steps`` is reached (turn off when
            more work follows the last step, as in the explorer).

    Attributes:
        on_sync: if set, called with the number of steps recorded after each sync, in the
            thread that synced (the training controller samples the params for its
            trajectory view there, so both views share one throttle).

    Example::

        chart = ElboChart(total_steps=2000)
        display(chart)
        svi.run(2000, *data, callback=chart)   # reaching total_steps finishes the chart
        chart.mark_convergence(assess(chart.history.losses))
    """

    _esm = _HERE / "elbo_chart.js"
    _css = _HERE / "elbo_chart.css"

    title = traitlets.Unicode("ELBO loss", help="Shown above the curve.").tag(sync=True)
    status = traitlets.Enum(STATUSES, "idle", help="idle, running, stopped, done or error.").tag(sync=True)
    message = traitlets.Unicode("", help="Why a run stopped or failed.").tag(sync=True)
    verdict = traitlets.Unicode(
        "", help='The convergence verdict shown on the chart: "converged" or "not converged: <reason>"; "" if none.'
    ).tag(sync=True)
    converged = traitlets.Bool(None, allow_none=True, help="True/False once judged; None before.").tag(sync=True)
    step = traitlets.Int(0, help="Steps recorded so far, over all runs.").tag(sync=True)
    total_steps = traitlets.Int(0, help="Planned steps, for the progress readout; 0 if unknown.").tag(sync=True)
    loss = traitlets.Float(None, allow_none=True, help="The latest step's loss.").tag(sync=True)
    smoothed_loss = traitlets.Float(None, allow_none=True, help="Moving average of the loss.").tag(sync=True)
    steps_per_second = traitlets.Float(0.0, help="Recent training speed.").tag(sync=True)
    bucket_size = traitlets.Int(1, help="Steps averaged into each point drawn.").tag(sync=True)
    smoothing = traitlets.Float(25.0, min=1.0, help="Steps averaged by the smoothed loss.").tag(sync=True)
    y_scale = traitlets.Enum(Y_SCALES, "symlog", help="symlog, linear or zoom (marks off-scale points).").tag(sync=True)
    x_axis = traitlets.Enum(X_AXES, "step", help="Draw against the step or the seconds of training.").tag(sync=True)
    curve_steps = traitlets.Bytes(b"", help="Step of each point drawn (float64 bytes), stored when a run ends.").tag(
        sync=True)
    curve_elapsed = traitlets.Bytes(b"", help="Seconds of training at each point drawn.").tag(sync=True)
    curve_loss = traitlets.Bytes(b"", help="Loss of each point drawn (float64 bytes).").tag(sync=True)
    curve_smoothed = traitlets.Bytes(b"", help="Smoothed loss of each point drawn.").tag(sync=True)
    axes = traitlets.Dict(
        help="The axes of each panel of the stored curve (ranges, scale, ticks and their labels, off-scale marks), "
             "computed in Python (widgets.plots.axes); the view only draws them. A batch of points carries its own."
    ).tag(sync=True)
    curve_terms = traitlets.Dict(
        value_trait=traitlets.Bytes(), help="The ELBO's terms per point drawn, by name (float64 bytes)."
    ).tag(sync=True)

    def __init__(
        self,
        title: str = "ELBO loss",
        total_steps: int = 0,
        sync_interval: float = 0.1,
        max_points: int = 2000,
        smoothing_window: float = 25.0,
        y_scale: str = "symlog",
        x_axis: str = "step",
        auto_finish: bool = True,
        **kwargs: Any,
    ) -> None:
        if sync_interval <= 0:
            raise ValueError(f"sync_interval must be positive seconds, got {sync_interval}")
        self.history = LossHistory(max_points=max_points, smoothing_window=smoothing_window)
        self._lock = threading.RLock()  # one sync at a time: training thread vs. the notebook
        self.sync_interval = sync_interval
        self.auto_finish = auto_finish
        self.on_sync: Callable[[int], None] | None = None
        self._total_steps = total_steps  # a plain copy: a trait read costs a microsecond per step
        self._viewed = False  # no view has said hello: nothing to stream to
        self._forget_front_end()
        self._reset_counters()
        super().__init__(title=title, total_steps=total_steps, smoothing=smoothing_window, y_scale=y_scale,
                         x_axis=x_axis, **kwargs)
        self.on_msg(self._on_front_end_msg)

    @traitlets.observe("total_steps")
    def _on_total_steps(self, change: dict[str, Any]) -> None:
        self._total_steps = change["new"]

    @traitlets.observe("smoothing")
    def _on_smoothing(self, change: dict[str, Any]) -> None:
        with self._lock:
            self.history.smoothing_window = change["new"]
            self._acked = (0, 0)  # every smoothed point changes: the next batch carries them all
        if self.status in ("stopped", "done", "error"):  # no run will sync again: store the new curve now
            self.sync(final_status=self.status, message=self.message)
            self.refresh_static_picture()
        elif self._viewed:
            self._send_points(force=True)

    def _reset_counters(self) -> None:
        self._next_sync = 0.0
        self._next_unheard = 0.0  # the next whole-curve update for a view that cannot say hello
        self._run_step = 0  # the step number within the current svi.run
        self._step_offset = 0  # steps of earlier runs, so a second run continues the curve
        self._time_offset = 0.0
        self._elapsed = 0.0
        self._rate_mark = (0, 0.0)  # (step, elapsed) at the last sync, for steps per second

    def _forget_front_end(self) -> None:
        """Assume the browser has nothing: the next batch starts from the first point."""
        self._seq = 0  # batches sent
        self._in_flight: tuple[int, float] | None = None  # (seq, sent at) of the unacknowledged batch
        self._sent: dict[int, tuple[int, int]] = {}  # seq -> (complete points, bucket size) in that batch
        self._acked = (0, 0)  # complete points the browser holds, at which bucket size (0: none)
        self.bytes_sent = 0  # payload bytes of point batches, for the benchmark

    @property
    def elapsed(self) -> float:
        """Seconds of training so far, over all runs since the last reset."""
        return self._elapsed

    # -- the training side: called once per step ---------------------------------------

    def __call__(self, record: StepLike) -> None:
        """Record one SVI step (the chart is an SVI ``callback``). Never asks to stop."""
        if record.step <= self._run_step:  # a new svi.run: continue the curve after the last one
            self._step_offset += self._run_step
            self._time_offset = self._elapsed
        self._run_step = record.step
        self._elapsed = self._time_offset + record.elapsed
        step = self._step_offset + record.step
        self.history.append(step, record.loss, record.terms, self._elapsed)
        if step == self._total_steps and self.auto_finish:
            self.finish("done")
            return
        now = time.monotonic()
        if now >= self._next_sync:
            self.sync(now)

    # -- state changes ------------------------------------------------------------------

    def start(self, total_steps: int | None = None) -> None:
        """Mark a run as started; ``total_steps`` counts from the steps already recorded."""
        if total_steps is not None:
            self.total_steps = len(self.history) + total_steps
        with self.hold_sync():
            self.message, self.verdict, self.converged = "", "", None
            self.status = "running"
        self._next_sync = 0.0

    def finish(self, status: str = "done", message: str = "") -> None:
        """Mark the run stopped, done or failed, and send everything recorded so far."""
        if status not in ("stopped", "done", "error"):
            raise ValueError(f"finish(status=...) must be 'stopped', 'done' or 'error', got {status!r}")
        self.sync(final_status=status, message=message)
        self.refresh_static_picture()

    def mark_convergence(self, verdict: Convergence) -> None:
        """Show a convergence verdict on the chart: "converged" or "not converged: <reason>".

        Example::

            from widgets.convergence import assess
            chart.mark_convergence(assess(chart.history.losses))
            chart.verdict   # e.g. 'not converged: the loss still falls by 12.3 every 125 steps ...'
        """
        with self.hold_sync():
            self.converged = verdict.converged
            self.verdict = "converged" if verdict.converged else f"not converged: {verdict.reason}"
        self.refresh_static_picture()

    def reset(self) -> None:
        """Forget the whole history and return to idle."""
        with self._lock:
            self.history.clear()
            self._reset_counters()
            self._forget_front_end()
            with self.hold_sync():
                self.step, self.total_steps, self.loss, self.smoothed_loss = 0, 0, None, None
                self.steps_per_second, self.bucket_size = 0.0, 1
                self._store_curve(None)
                self.status, self.message, self.verdict, self.converged = "idle", "", "", None
            if self._viewed:
                self._send_points(force=True)  # views drop the old curve

    def sync(self, now: float | None = None, final_status: str | None = None, message: str = "") -> None:
        """Send the readouts, and the new points if the browser has taken the last ones."""
        with self._lock:
            now = time.monotonic() if now is None else now
            self._next_sync = now + self.sync_interval
            n = len(self.history)
            last_step, last_time = self._rate_mark
            if final_status is None and self._elapsed > last_time:
                rate = (n - last_step) / (self._elapsed - last_time)
            else:  # a finished run: the average speed is the honest number
                rate = n / self._elapsed if self._elapsed > 0 else 0.0
            self._rate_mark = (n, self._elapsed)
            # The screen copy costs a few arrays of up to 2,000 floats: built only when sent.
            final = final_status is not None
            unheard = not final and not self._viewed and self._display_id is not None
            store_now = final or (unheard and now >= self._next_unheard)
            screen = self.history.screen() if store_now else None
            with self.hold_sync():
                self.bucket_size = self.history.bucket_size
                self.step = n
                self.loss = _finite_or_none(self.history.losses[-1]) if n else None
                self.smoothed_loss = _finite_or_none(self.history.smoothed_loss) if n else None
                self.steps_per_second = rate
                if screen is not None:  # the whole curve, for saved notebooks and views that cannot ack
                    self._store_curve(screen)
                if final_status is not None:
                    self.status, self.message = final_status, message
                elif self.status != "running":
                    self.status, self.message = "running", ""
            if unheard:
                if screen is not None:
                    self._next_unheard = now + UNHEARD_VIEW_INTERVAL
            elif not final:
                self._send_points(now=now)
            else:
                assert screen is not None
                self._forget_front_end_batches(screen)
            if self.on_sync is not None:  # under the lock: the hook sees the steps in order
                self.on_sync(n)

    # -- the stream of points to the browser --------------------------------------------

    def _store_curve(self, screen: ScreenSeries | None) -> None:
        empty = array("d")
        self.curve_steps = (screen.steps if screen else empty).tobytes()
        self.curve_elapsed = (screen.elapsed if screen else empty).tobytes()
        self.curve_loss = (screen.loss if screen else empty).tobytes()
        self.curve_smoothed = (screen.smoothed if screen else empty).tobytes()
        self.curve_terms = {name: v.tobytes() for name, v in screen.terms.items()} if screen else {}
        self.axes = self.describe_axes(screen)

    def _forget_front_end_batches(self, screen: ScreenSeries) -> None:
        # The curve traits just carried every point: the browser holds them all.
        self._in_flight, self._sent = None, {}
        self._acked = (screen.complete, screen.bucket_size)

    def _send_points(self, screen: ScreenSeries | None = None, now: float | None = None,
                     force: bool = False) -> None:
        """One batch: the points after those the browser acknowledged, if it is ready for more."""
        if not self._viewed and not force:
            return
        now = time.monotonic() if now is None else now
        if self._in_flight is not None and not force and now - self._in_flight[1] < ACK_TIMEOUT:
            return  # the browser is still drawing the last batch: the next one will carry these points too
        screen = self.history.screen() if screen is None else screen
        held, held_bucket = self._acked
        start = held if held_bucket == screen.bucket_size else 0  # merged buckets: every point changed
        start = min(start, len(screen.steps))
        names, buffers = [], []
        for name, values in screen.series().items():
            names.append(name)
            buffers.append(memoryview(values[start:].tobytes()))
        self._seq += 1
        self._sent[self._seq] = (screen.complete, screen.bucket_size)
        self._in_flight = (self._seq, now)
        self.bytes_sent += sum(b.nbytes for b in buffers)
        self.send({"kind": "points", "seq": self._seq, "start": start, "names": names,
                   "axes": self.describe_axes(screen)}, buffers)

    def _on_front_end_msg(self, _widget: Any, content: dict[str, Any], _buffers: Sequence[Any]) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        with self._lock:
            if kind == "hello":  # a new view (or one that missed a batch): send it everything
                self._viewed = True
                self._forget_front_end()
                self._send_points(force=True)
            elif kind == "ack":
                seq = content.get("seq")
                if seq in self._sent:
                    self._acked = self._sent[seq]
                    self._sent = {k: v for k, v in self._sent.items() if k > seq}
                    if self._in_flight is not None and self._in_flight[0] <= seq:
                        self._in_flight = None

    # -- the axes: decided here, drawn by the view and by the static picture ------------

    def describe_axes(self, screen: ScreenSeries | None = None) -> dict[str, Any]:
        """Every panel's axes for these points (default: the whole curve), as the view is sent them.

        The loss panel comes first, then the ELBO's terms in the order of its formula; each
        panel is :func:`widgets.plots.axes.describe_panel`'s description.
        """
        screen = self.history.screen() if screen is None else screen
        xs = screen.elapsed if self.x_axis == "time" else screen.steps
        xlim = (min(xs[0], 0.0) if xs else 0.0, xs[-1] if xs and xs[-1] > 0 else 1.0)
        panels = [describe_panel("loss", "loss", screen.loss, xlim, self.y_scale, ticks=5)]
        panels += [describe_panel(name, TERM_LABELS.get(name, name), screen.terms[name], xlim, self.y_scale, ticks=3)
                   for name in _term_order(screen.terms)]
        by_time = self.x_axis == "time"
        return {"x_series": "elapsed" if by_time else "steps", "x_label": "seconds of training" if by_time else "step",
                "panels": panels}

    @traitlets.observe("y_scale", "x_axis")
    def _on_axis_choice(self, change: dict[str, Any]) -> None:
        # The view redraws when new axes arrive: the stored curve's, and the streamed points' next batch.
        with self._lock:
            if self.status in ("stopped", "done", "error"):
                self.axes = self.describe_axes()
                self.refresh_static_picture()
            elif self._viewed:
                self._send_points(force=True)
            else:
                self.axes = self.describe_axes()

    # -- the static picture -------------------------------------------------------------

    def static_svg(self) -> str:
        """The curve as a standalone SVG, for saved and exported notebooks (same scales as the view)."""
        screen = self.history.screen()
        has_terms = bool(screen.terms)
        verdict_lines = textwrap.wrap(self.verdict, 80, break_long_words=False, break_on_hyphens=False)
        top = 44 + 17 * len(verdict_lines)
        fig = SvgFigure(600, top + (326 if has_terms else 206), css_class="pplkit-elbo-static")
        fig.add(_STATIC_STYLE)
        readout = f"{self.title} · step {self.step}"
        if self.smoothed_loss is not None:
            readout += f" · loss {self.smoothed_loss:.4g} · {self.steps_per_second:.0f} steps/s"
        fig.text(8, 16, f"{readout} · {self.status}", cls="title")
        for i, line in enumerate(verdict_lines):  # wrapped, never cut: the reason is the point
            fig.text(8, 34 + 17 * i, line, cls="verdict-ok" if self.converged else "verdict-bad")
        xs = list(screen.elapsed if self.x_axis == "time" else screen.steps)
        axes = self.describe_axes(screen)
        main, *terms = axes["panels"]
        if xs:
            _draw_panel(fig, (70, top, 510, 150), xs, {"raw": list(screen.loss), "smoothed": list(screen.smoothed)},
                        main, axes["x_label"])
        else:
            fig.text(325, top + 75, "no steps yet", anchor="middle")
        for i, panel in enumerate(terms):
            name = panel["name"]
            _draw_panel(fig, (70 + i * 290, top + 218, 220, 70), xs, {name: list(screen.terms[name])}, panel, "")
        return fig.to_svg()


_STATIC_STYLE = (
    "<style>.pplkit-elbo-static .tick{font-size:12px}.pplkit-elbo-static .label{font-size:13px}"
    ".pplkit-elbo-static .title{font-size:14px}.pplkit-elbo-static .note{font-size:12px}"
    ".pplkit-elbo-static .verdict-ok{font-size:13px;fill:#236b23}"
    ".pplkit-elbo-static .verdict-bad{font-size:13px;fill:#a11d1d}</style>"
)


def _draw_panel(fig: SvgFigure, box: tuple[float, float, float, float], xs: list[float],
                series: dict[str, list[float]], panel: dict[str, Any], xlabel: str) -> None:
    """One panel of the static picture, drawn from its description: frame, ticks, lines, off-scale marks."""
    left, top, width, height = box
    x, y = panel["x"], panel["y"]

    def px(value: float) -> float:
        return left + x_fraction(x, value) * width

    def py(value: float) -> float:
        return top + height - y_fraction(y, value) * height

    fig.add(f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#ccc"/>')
    for tick, label in zip(y["ticks"], y["labels"]):
        fig.add(f'<line x1="{left}" x2="{left + width}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#eee"/>')
        fig.text(left - 5, py(tick) + 4, label, anchor="end", cls="tick")
    for tick, label in zip(x["ticks"], x["labels"]):
        fig.text(px(tick), top + height + 15, label, anchor="middle", cls="tick")
    if xlabel:
        fig.text(left + width / 2, top + height + 32, xlabel, anchor="middle", cls="label")
    fig.text(left, top - 6, panel["title"], cls="label")
    for name, ys in series.items():
        color = COLORS.get(name, COLORS["posterior"])
        points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(xs, ys) if math.isfinite(b))
        stroke = 2.0 if name == "smoothed" else 1.2
        fig.add(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{stroke}"/>')
    off_scale = off_scale_points(y, next(iter(series.values())))
    if off_scale:
        marks = "".join(f'<path d="M{px(xs[i]):.1f},{top + 1:.1f} l-3,6 h6 z"/>' for i in off_scale)
        fig.add(f'<g class="pk-off-scale" fill="#a11d1d">{marks}</g>')
        fig.text(left + width - 4, top + 16, y["note"], anchor="end", cls="note")


def _term_order(terms: dict[str, Any]) -> list[str]:
    """The ELBO's terms in the order of its formula: log-likelihood, then KL, then any others."""
    known = [name for name in TERM_LABELS if name in terms]
    return known + sorted(set(terms) - set(known))


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None

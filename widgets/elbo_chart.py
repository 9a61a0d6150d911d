"""The live ELBO chart: the loss of a training run, drawn while it runs.

The chart is an SVI callback: ``svi.run(2000, *data, callback=chart)``. Per step the
training loop only appends to Python lists and reads a clock; about ten times a
second (``sync_interval``) the chart sends the browser a decimated copy of the
curve as raw float64 bytes, in one message. Whatever the step rate, the browser
receives a bounded number of messages, and the last step always gets through
because stopping or finishing flushes.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import anywidget
import traitlets

from .display import StaticPicture
from .history import LossHistory
from .svgplot import COLORS, SvgFigure, limits

__all__ = ["STATUSES", "ElboChart", "StepLike"]

_HERE = Path(__file__).parent
STATUSES = ("idle", "running", "stopped", "done", "error")
TERM_LABELS = {"log_likelihood": "expected log-likelihood", "kl": "KL(q ‖ prior)"}


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
        smoothing_window: steps averaged by the smoothed loss.
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
        chart.history.losses[-1]
    """

    _esm = _HERE / "elbo_chart.js"
    _css = _HERE / "elbo_chart.css"

    title = traitlets.Unicode("ELBO loss", help="Shown above the curve.").tag(sync=True)
    status = traitlets.Enum(STATUSES, "idle", help="idle, running, stopped, done or error.").tag(sync=True)
    message = traitlets.Unicode("", help="Why a run stopped or failed.").tag(sync=True)
    step = traitlets.Int(0, help="Steps recorded so far, over all runs.").tag(sync=True)
    total_steps = traitlets.Int(0, help="Planned steps, for the progress readout; 0 if unknown.").tag(sync=True)
    loss = traitlets.Float(None, allow_none=True, help="The latest step's loss.").tag(sync=True)
    smoothed_loss = traitlets.Float(None, allow_none=True, help="Moving average of the loss.").tag(sync=True)
    steps_per_second = traitlets.Float(0.0, help="Recent training speed.").tag(sync=True)
    bucket_size = traitlets.Int(1, help="Steps averaged into each point drawn.").tag(sync=True)
    curve_steps = traitlets.Bytes(b"", help="Step of each point drawn (float64 bytes).").tag(sync=True)
    curve_loss = traitlets.Bytes(b"", help="Loss of each point drawn (float64 bytes).").tag(sync=True)
    curve_smoothed = traitlets.Bytes(b"", help="Smoothed loss of each point drawn.").tag(sync=True)
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
        auto_finish: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(title=title, total_steps=total_steps, **kwargs)
        if sync_interval <= 0:
            raise ValueError(f"sync_interval must be positive seconds, got {sync_interval}")
        self.sync_interval = sync_interval
        self.auto_finish = auto_finish
        self.on_sync: Callable[[int], None] | None = None
        self.history = LossHistory(max_points=max_points, smoothing_window=smoothing_window)
        self._lock = threading.Lock()  # one sync at a time: training thread vs. the notebook
        self._total_steps = total_steps  # a plain copy: a trait read costs a microsecond per step
        self._reset_counters()

    @traitlets.observe("total_steps")
    def _on_total_steps(self, change: dict[str, Any]) -> None:
        self._total_steps = change["new"]

    def _reset_counters(self) -> None:
        self._next_sync = 0.0
        self._run_step = 0  # the step number within the current svi.run
        self._step_offset = 0  # steps of earlier runs, so a second run continues the curve
        self._time_offset = 0.0
        self._elapsed = 0.0
        self._rate_mark = (0, 0.0)  # (step, elapsed) at the last sync, for steps per second

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
        self.history.append(step, record.loss, record.terms)
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
        self.message = ""
        self._next_sync = 0.0
        self.status = "running"

    def finish(self, status: str = "done", message: str = "") -> None:
        """Mark the run stopped, done or failed, and send everything recorded so far."""
        if status not in ("stopped", "done", "error"):
            raise ValueError(f"finish(status=...) must be 'stopped', 'done' or 'error', got {status!r}")
        self.sync(final_status=status, message=message)
        self.refresh_static_picture()

    def reset(self) -> None:
        """Forget the whole history and return to idle."""
        with self._lock:
            self.history.clear()
            self._reset_counters()
            with self.hold_sync():
                self.step, self.loss, self.smoothed_loss = 0, None, None
                self.steps_per_second, self.bucket_size = 0.0, 1
                self.curve_steps = self.curve_loss = self.curve_smoothed = b""
                self.curve_terms = {}
                self.status, self.message = "idle", ""

    def sync(self, now: float | None = None, final_status: str | None = None, message: str = "") -> None:
        """Send the current curve and readouts to the browser in one message."""
        with self._lock:
            now = time.monotonic() if now is None else now
            self._next_sync = now + self.sync_interval
            screen = self.history.screen()
            n = len(self.history)
            last_step, last_time = self._rate_mark
            if final_status is None and self._elapsed > last_time:
                rate = (n - last_step) / (self._elapsed - last_time)
            else:  # a finished run: the average speed is the honest number
                rate = n / self._elapsed if self._elapsed > 0 else 0.0
            self._rate_mark = (n, self._elapsed)
            with self.hold_sync():
                self.curve_steps = screen.steps.tobytes()
                self.curve_loss = screen.loss.tobytes()
                self.curve_smoothed = screen.smoothed.tobytes()
                self.curve_terms = {name: values.tobytes() for name, values in screen.terms.items()}
                self.bucket_size = screen.bucket_size
                self.step = n
                self.loss = _finite_or_none(self.history.losses[-1]) if n else None
                self.smoothed_loss = _finite_or_none(self.history.smoothed_loss) if n else None
                self.steps_per_second = rate
                if final_status is not None:
                    self.status, self.message = final_status, message
                elif self.status != "running":
                    self.status, self.message = "running", ""
            if self.on_sync is not None:  # under the lock: the hook sees the steps in order
                self.on_sync(n)

    # -- the static picture -------------------------------------------------------------

    def static_svg(self) -> str:
        """The curve as a standalone SVG, for saved and exported notebooks."""
        screen = self.history.screen()
        has_terms = bool(screen.terms)
        fig = SvgFigure(560, 330 if has_terms else 220, css_class="pplkit-elbo-static")
        readout = f"{self.title} · step {self.step}"
        if self.smoothed_loss is not None:
            readout += f" · loss {self.smoothed_loss:.4g} · {self.steps_per_second:.0f} steps/s"
        fig.text(8, 14, f"{readout} · {self.status}", cls="title")
        steps = list(screen.steps)
        ax = fig.axes((62, 30, 480, 150), xlim=limits(steps, pad=0.0), ylim=_robust_ylim(list(screen.loss)))
        ax.frame(xlabel="step", ylabel="loss")
        if steps:
            ax.line(steps, list(screen.loss), COLORS["raw"], width=1.0)
            ax.line(steps, list(screen.smoothed), COLORS["smoothed"], width=2.0)
        else:
            fig.text(302, 110, "no steps yet", anchor="middle")
        for i, name in enumerate(_term_order(screen.terms)):
            values = list(screen.terms[name])
            term_ax = fig.axes((62 + i * 250, 232, 230, 70), xlim=ax.xlim, ys=values)
            term_ax.frame(title=TERM_LABELS.get(name, name), ticks=3)
            term_ax.line(steps, values, COLORS.get(name, COLORS["posterior"]), width=1.2)
        return fig.to_svg()


def _robust_ylim(values: list[float]) -> tuple[float, float]:
    """Loss limits that ignore the first tenth of the run, whose huge early losses would flatten the rest."""
    finite = [v for v in values if math.isfinite(v)]
    tail = finite[len(finite) // 10 :] if len(finite) >= 20 else finite
    lo, hi = limits(tail)
    return min([lo, *finite]), hi


def _term_order(terms: dict[str, Any]) -> list[str]:
    """The ELBO's terms in the order of its formula: log-likelihood, then KL, then any others."""
    known = [name for name in TERM_LABELS if name in terms]
    return known + sorted(set(terms) - set(known))


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None

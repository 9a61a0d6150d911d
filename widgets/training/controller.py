"""The training controller: Run, Stop and Reset for an SVI object, with live views.

Training runs in a background thread by default, because the kernel handles a click
on Stop (or a move of the learning-rate slider) only while no cell is running. In
blocking mode (scripts, nbclient, ``CI=1``) ``run`` trains in the caller's thread.
Either way an error inside training shows in the chart (status "error" and the
message), is kept in :attr:`TrainingController.error` and is raised again by
:meth:`~TrainingController.wait` (directly, in blocking mode).

After the requested steps the controller asks :func:`widgets.training.convergence.assess`
whether the loss has levelled off; if not, it keeps training in chunks up to its step
budget, and the chart then says "converged" or "not converged: <reason>".
"""

from __future__ import annotations

import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
import torch

import pplkit
from pplkit.handlers import trace
from pplkit.params import ParamStore, current_param_store, use_param_store
from pplkit.runtime import Handler, Message, SiteKind

from ..plots.display import StaticPicture, default_blocking
from ..plots.runner import FitRunner
from ..plots.svgplot import stack_svgs
from .convergence import MIN_WINDOW, Convergence, assess
from .elbo_chart import ElboChart
from .trajectories import ParamTrajectories

__all__ = ["TrainingController", "describe_error"]


@dataclass(frozen=True)
class _RunRequest:
    num_steps: int


# Frames from these places (torch, pplkit, all of widgets/) are the library's; everything else
# is the learner's code.
_LIBRARY_PLACES = (
    str(Path(torch.__file__).parent), str(Path(pplkit.__file__).parent), str(Path(__file__).parents[1]),
    sysconfig.get_paths()["stdlib"], "site-packages", "<frozen ",
)


def describe_error(error: BaseException, limit: int = 6) -> str:
    """The error for a widget: the message first, then the user's frames, then the library's.

    A learner's mistake is usually in their own model or guide, so those frames come
    right after the message; pplkit's, torch's and the widgets' frames follow, last.

    Example::

        try:
            float("x")
        except ValueError as error:
            describe_error(error).splitlines()[0]   # "ValueError: could not convert string to float: 'x'"
    """
    message = "".join(traceback.format_exception_only(type(error), error)).rstrip()
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if not _is_library(f.filename)]
    library = [f for f in frames if f not in user]
    parts = [message]
    if user:
        parts.append("in your code (innermost last):\n" + "".join(traceback.format_list(user[-limit:])).rstrip())
    if library:
        parts.append("in pplkit and libraries (innermost last):\n"
                     + "".join(traceback.format_list(library[-limit:])).rstrip())
    return "\n\n".join(parts)


def _is_library(filename: str) -> bool:
    return any(place in filename for place in _LIBRARY_PLACES)


class _ParamsSeen(Handler):
    """Records the names of the params each step touches: this SVI's params, not the whole store's."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, None] = {}  # a dict keeps the order they first appeared in

    def postprocess(self, msg: Message) -> None:
        if msg.kind is SiteKind.PARAM:
            self.names[msg.name] = None


class TrainingController(StaticPicture, W.VBox):
    """Run / Stop / Reset buttons, step and learning-rate controls, the ELBO chart and parameter trajectories.

    Args:
        svi: a :class:`pplkit.infer.SVI`.
        *args, **kwargs: the data, passed to the model and guide at each step.
        num_steps: steps per click on Run.
        terms: also chart the ELBO's two terms (log-likelihood and KL).
        blocking: train in the caller's thread; default: only outside a kernel or with ``CI`` set.
        show_trajectories: show the parameter-trajectory view.
        step_budget: the most steps one Run may take: while the loss has not converged after
            ``num_steps``, training goes on in chunks up to this many (default ``3 * num_steps``;
            pass ``num_steps`` to train exactly that many).

    Example::

        controller = TrainingController(svi, is_cont_africa, ruggedness, log_gdp, num_steps=2000)
        display(controller)
        controller.run()     # or click Run
        controller.wait()    # re-raises an error from training, if any
    """

    def __init__(
        self,
        svi: Any,
        *args: Any,
        num_steps: int = 1000,
        terms: bool = False,
        blocking: bool | None = None,
        show_trajectories: bool = True,
        step_budget: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not hasattr(svi, "run") or not hasattr(svi, "optim"):
            raise TypeError(f"TrainingController needs a pplkit.infer.SVI object, got {type(svi).__name__}")
        self.svi, self.args, self.kwargs, self.terms = svi, args, kwargs, terms
        # Captured now: a background thread would otherwise see the default store, not the caller's.
        # (An empty store is falsy, so `or` would pass over an explicit one that has no params yet.)
        store = getattr(svi, "param_store", None)
        self.store: ParamStore = store if store is not None else current_param_store()
        self.step_budget = step_budget
        self.verdict: Convergence | None = None  # the convergence verdict after the last run
        self._closed = False
        self._params_seen = _ParamsSeen()
        self._last_snapshot = -1  # the step of the last parameter sample
        self.chart = ElboChart(total_steps=0, auto_finish=False)
        self.trajectories = ParamTrajectories()
        # The params are sampled whenever the chart syncs: one throttle for both views, and
        # each sample is labelled with the step count the chart has just sent.
        self.chart.on_sync = self._snapshot
        self.run_button = W.Button(description="Run", icon="play", button_style="success",
                                   tooltip="Train for the given number of steps, from the current parameters")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="warning", disabled=True,
                                    tooltip="Stop after the current step")
        self.reset_button = W.Button(description="Reset", icon="undo",
                                     tooltip="Forget the learned parameters and the loss history")
        self.steps = W.BoundedIntText(value=num_steps, min=1, max=10_000_000, description="steps",
                                      layout=W.Layout(width="170px"))
        lr = _learning_rate(svi.optim)
        self.lr = W.FloatLogSlider(value=lr or 0.01, base=10, min=-4, max=0, step=0.05, description="lr",
                                   readout_format=".2g", disabled=lr is None,
                                   tooltip="Learning rate; applies at once, even while training runs")
        for button in (self.run_button, self.stop_button, self.reset_button):
            button.layout = W.Layout(width="auto", min_width="96px", flex="0 0 auto")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.lr.observe(self._on_lr, names="value")
        controls = W.HBox([self.run_button, self.stop_button, self.reset_button, self.steps, self.lr],
                          layout=W.Layout(flex_flow="row wrap", align_items="center"))
        children = [controls, self.chart] + ([self.trajectories] if show_trajectories else [])
        super().__init__(children=children)
        self.add_class("pplkit-controller")
        self._runner: FitRunner[_RunRequest] = FitRunner(
            self._train, blocking=default_blocking() if blocking is None else blocking
        )

    # -- the public actions -----------------------------------------------------------

    @property
    def blocking(self) -> bool:
        return self._runner.blocking

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the last run, if it failed."""
        return self._runner.error

    @property
    def losses(self) -> list[float]:
        """Every step's loss, over all runs since the last reset."""
        return self.chart.history.losses

    @property
    def running(self) -> bool:
        return self._runner.busy

    def run(self, num_steps: int | None = None) -> None:
        """Train for ``num_steps`` (default: the steps box) more steps; returns at once unless blocking.

        Raises:
            RuntimeError: the controller was closed (a closed widget never starts work).
        """
        if self._closed:
            raise RuntimeError("this TrainingController was closed; make a new one (e.g. widgets.train(...))")
        if num_steps is not None:
            self.steps.value = num_steps
        self._runner.submit(_RunRequest(self.steps.value))

    def stop(self) -> None:
        """Stop training after the current step."""
        self._runner.stop()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until training ends; raise the error that ended it, if any."""
        self._runner.wait(timeout)

    def reset(self) -> None:
        """Stop, then forget the learned parameters (they start from their init again) and the history."""
        self._runner.close()
        with use_param_store(self.store), torch.no_grad():
            names = set()
            for fn in (self.svi.guide, self.svi.model):
                names.update(trace(fn).get_trace(*self.args, **self.kwargs).param_nodes)
            for name in names:
                self.store.pop(name)
        self._params_seen.names.clear()
        self._last_snapshot = -1
        self.verdict = None
        self.chart.reset()
        self.trajectories.clear()

    def close(self) -> None:
        """Stop training and close the widget; :meth:`run` refuses to start afterwards."""
        self._closed = True
        self._runner.close()
        super().close()

    # -- training ----------------------------------------------------------------------

    def _on_lr(self, change: dict[str, Any]) -> None:
        _set_learning_rate(self.svi.optim, change["new"])

    def _budget(self, num_steps: int) -> int:
        return max(self.step_budget if self.step_budget is not None else 3 * num_steps, num_steps)

    def _train(self, request: _RunRequest, cancelled: Any) -> None:
        chart = self.chart

        def on_step(record: Any) -> bool | None:
            chart(record)
            return False if cancelled() else None

        self.run_button.disabled, self.stop_button.disabled = True, False
        chart.start(total_steps=request.num_steps)
        budget, done = self._budget(request.num_steps), 0
        chunk = max(request.num_steps // 2, 2 * MIN_WINDOW)
        try:
            with use_param_store(self.store), self._params_seen:
                steps = request.num_steps
                while True:
                    self.svi.run(steps, *self.args, callback=on_step, terms=self.terms, **self.kwargs)
                    done += steps
                    self.verdict = assess(self.losses)
                    if cancelled() or self.verdict.converged or done >= budget:
                        break
                    steps = min(chunk, budget - done)  # not converged yet: keep going within the budget
                    chart.total_steps = chart.total_steps + steps
        except BaseException as error:
            chart.finish("error", describe_error(error))
            raise
        else:
            chart.finish("stopped" if cancelled() else "done")
            chart.mark_convergence(self.verdict)
        finally:
            self.trajectories.flush()  # the params at the last step, even if the view is behind
            self.run_button.disabled, self.stop_button.disabled = False, True
            self.refresh_static_picture()

    def _snapshot(self, step: int) -> None:
        if step == self._last_snapshot:  # the final sync of a run that had just synced
            return
        self._last_snapshot = step
        names = self._params_seen.names
        with torch.no_grad():
            self.trajectories.record(step, [(name, self.store[name]) for name in list(names) if name in self.store])

    # -- the static picture ------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<TrainingController: step {self.chart.step}, {self.chart.status}>"

    def static_svg(self) -> str:
        """The ELBO chart above the parameter trajectories, as one SVG."""
        return stack_svgs([self.chart.static_svg(), self.trajectories.static_svg()])


def _learning_rate(optim: Any) -> float | None:
    """The optimizer's learning rate, if it has one number for it."""
    args = getattr(optim, "pt_optim_args", None)
    if isinstance(args, dict) and isinstance(args.get("lr"), (int, float)):
        return float(args["lr"])
    return None


def _set_learning_rate(optim: Any, lr: float) -> None:
    """Set the learning rate for params already being optimised and for those still to come."""
    args = getattr(optim, "pt_optim_args", None)
    if isinstance(args, dict):
        args["lr"] = lr
    optimizer = getattr(optim, "optimizer", None)
    if optimizer is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr

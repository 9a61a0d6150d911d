"""The training controller: Run, Stop and Reset for an SVI object, with live views.

Training runs in a background thread by default, because the kernel handles a click
on Stop (or a move of the learning-rate slider) only while no cell is running. In
blocking mode (scripts, nbclient, ``CI=1``) ``run`` trains in the caller's thread.
Either way an error inside training shows in the chart (status "error" and the
message), is kept in :attr:`TrainingController.error` and is raised again by
:meth:`~TrainingController.wait` (directly, in blocking mode).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import torch

from pplkit.handlers import trace
from pplkit.params import ParamStore, current_param_store, use_param_store

from .display import StaticPicture, default_blocking
from .elbo_chart import ElboChart
from .runner import FitRunner
from .svgplot import stack_svgs
from .trajectories import ParamTrajectories

__all__ = ["TrainingController", "describe_error"]


@dataclass(frozen=True)
class _RunRequest:
    num_steps: int


def describe_error(error: BaseException, limit: int = 6) -> str:
    """The error and the last frames of its traceback, for showing inside a widget."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    frames = "".join(lines[-limit:]) if len(lines) > limit else "".join(lines)
    return frames.rstrip()


class TrainingController(StaticPicture, W.VBox):
    """Run / Stop / Reset buttons, step and learning-rate controls, the ELBO chart and parameter trajectories.

    Args:
        svi: a :class:`pplkit.infer.SVI`.
        *args, **kwargs: the data, passed to the model and guide at each step.
        num_steps: steps per click on Run.
        terms: also chart the ELBO's two terms (log-likelihood and KL).
        blocking: train in the caller's thread; default: only outside a kernel or with ``CI`` set.
        show_trajectories: show the parameter-trajectory view.

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
        **kwargs: Any,
    ) -> None:
        if not hasattr(svi, "run") or not hasattr(svi, "optim"):
            raise TypeError(f"TrainingController needs a pplkit.infer.SVI object, got {type(svi).__name__}")
        self.svi, self.args, self.kwargs, self.terms = svi, args, kwargs, terms
        # Captured now: a background thread would otherwise see the default store, not the caller's.
        # (An empty store is falsy, so `or` would pass over an explicit one that has no params yet.)
        store = getattr(svi, "param_store", None)
        self.store: ParamStore = store if store is not None else current_param_store()
        self.chart = ElboChart(total_steps=0)
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
            button.layout = W.Layout(width="90px")
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
        """Train for ``num_steps`` (default: the steps box) more steps; returns at once unless blocking."""
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
        self.chart.reset()
        self.trajectories.clear()

    def close(self) -> None:
        self._runner.close()
        super().close()

    # -- training ----------------------------------------------------------------------

    def _on_lr(self, change: dict[str, Any]) -> None:
        _set_learning_rate(self.svi.optim, change["new"])

    def _train(self, request: _RunRequest, cancelled: Any) -> None:
        chart = self.chart

        def on_step(record: Any) -> bool | None:
            chart(record)
            return False if cancelled() else None

        self.run_button.disabled, self.stop_button.disabled = True, False
        chart.start(total_steps=request.num_steps)
        try:
            with use_param_store(self.store):
                self.svi.run(request.num_steps, *self.args, callback=on_step, terms=self.terms, **self.kwargs)
        except BaseException as error:
            chart.finish("error", describe_error(error))
            raise
        else:
            if chart.status == "running":
                chart.finish("stopped" if cancelled() else "done")
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self.refresh_static_picture()

    def _snapshot(self, step: int) -> None:
        with torch.no_grad():
            self.trajectories.record(step, self.store.items())

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

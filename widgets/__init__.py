"""Live widgets for pplkit: the ELBO chart, the training controller, the model view and the explorer.

Each has a one-line function that builds the widget, shows it and returns it::

    import widgets
    controller = widgets.train(model, guide, is_cont_africa, ruggedness, log_gdp, num_steps=2000)
    view = widgets.model_view(model, is_cont_africa, ruggedness, log_gdp, guide=guide)
    explorer = widgets.explore(model, is_cont_africa, ruggedness, log_gdp)

Training and fitting run in a background thread, so Stop and the other controls
respond while they run; with ``blocking=True`` (the default in scripts and with the
``CI`` environment variable set, e.g. under nbclient) they run in the caller's thread.
pplkit itself never imports this package.
"""

from __future__ import annotations

from typing import Any, Callable

from .explorer.explorer import ModelExplorer
from .plots.display import default_blocking, in_kernel
from .plots.plotgrid import Panel, PlotGrid
from .plots.svg_view import SvgView
from .training.controller import TrainingController
from .training.elbo_chart import ElboChart
from .training.trajectories import ParamTrajectories
from .views.draws import Draws
from .views.handlers import replace_prior
from .views.model_view import ModelView
from .views.priors import FAMILIES, PriorChoice
from .views.toggles import Toggles

__all__ = [
    "FAMILIES",
    "Draws",
    "ElboChart",
    "ModelExplorer",
    "ModelView",
    "Panel",
    "ParamTrajectories",
    "PlotGrid",
    "PriorChoice",
    "SvgView",
    "Toggles",
    "TrainingController",
    "default_blocking",
    "explore",
    "live_svi",
    "model_view",
    "replace_prior",
    "train",
]


def _show(widget: Any) -> None:
    if in_kernel():
        from IPython.display import display

        display(widget)


def live_svi(svi: Any, *args: Any, num_steps: int = 1000, terms: bool = False, run: bool = True,
             blocking: bool | None = None, step_budget: int | None = None, **kwargs: Any) -> TrainingController:
    """Show a training controller for ``svi`` and start training.

    After ``num_steps`` the loss curve is judged by :func:`widgets.training.convergence.assess`;
    an unconverged fit trains on, up to ``step_budget`` steps, and the chart shows the
    verdict ("converged" or "not converged: <reason>").

    Args:
        svi: a :class:`pplkit.infer.SVI`.
        *args, **kwargs: the data, passed to the model and guide.
        num_steps: steps per run (the steps box).
        terms: also chart the ELBO's two terms (expected log-likelihood and KL).
        run: start training at once (otherwise click Run).
        blocking: train in this thread (default: only in scripts or with ``CI`` set).
        step_budget: the most steps one run may take (default ``3 * num_steps``).

    Example::

        svi = SVI(model, AutoNormal(model), Adam({"lr": 0.02}), Trace_ELBO())
        controller = widgets.live_svi(svi, is_cont_africa, ruggedness, log_gdp, num_steps=2000)
    """
    controller = TrainingController(svi, *args, num_steps=num_steps, terms=terms, blocking=blocking,
                                    step_budget=step_budget, **kwargs)
    _show(controller)
    if run:
        controller.run()
    return controller


def train(model: Callable[..., Any], guide: Any, *args: Any, num_steps: int = 1000, lr: float = 0.01,
          terms: bool = True, run: bool = True, blocking: bool | None = None, step_budget: int | None = None,
          **kwargs: Any) -> TrainingController:
    """SVI of ``model`` with ``guide`` (Adam, Trace_ELBO), shown live with its controller.

    Trains on past ``num_steps`` while the loss has not converged, up to ``step_budget``
    (see :func:`live_svi`).

    Example::

        guide = AutoNormal(model)
        controller = widgets.train(model, guide, is_cont_africa, ruggedness, log_gdp, num_steps=2000, lr=0.02)
    """
    from pplkit.infer import SVI, Trace_ELBO
    from pplkit.optim import Adam

    svi = SVI(model, guide, Adam({"lr": lr}), Trace_ELBO())
    return live_svi(svi, *args, num_steps=num_steps, terms=terms, run=run, blocking=blocking,
                    step_budget=step_budget, **kwargs)


def model_view(model: Callable[..., Any], *args: Any, guide: Any = None, num_samples: int = 500,
               render_params: bool = False, **kwargs: Any) -> ModelView:
    """Show the model's graph; click a node to see its prior and, given a trained ``guide``, its posterior.

    Example::

        view = widgets.model_view(model, is_cont_africa, ruggedness, log_gdp, guide=guide)
    """
    from .views.model_view import build_model_view

    view = build_model_view(model, args, kwargs, guide=guide, num_samples=num_samples, render_params=render_params)
    _show(view)
    return view


def explore(model: Callable[..., Any], *args: Any, guides: dict[str, Any] | None = None, guide: str = "AutoNormal",
            plot: Callable[[PlotGrid, Draws], None] | None = None, reference: bool = False, num_steps: int = 500,
            lr: float = 0.03, num_samples: int = 300, blocking: bool | None = None, **kwargs: Any) -> ModelExplorer:
    """Show the model explorer and start its first fit; see :class:`ModelExplorer` for the arguments.

    Example::

        explorer = widgets.explore(model, is_cont_africa, ruggedness, log_gdp, guides={"mine": custom_guide})
    """
    explorer = ModelExplorer(model, *args, guides=guides, guide=guide, plot=plot, reference=reference,
                             num_steps=num_steps, lr=lr, num_samples=num_samples, blocking=blocking, **kwargs)
    _show(explorer)
    explorer.start()
    return explorer

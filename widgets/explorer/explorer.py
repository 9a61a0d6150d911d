"""The model explorer: change priors, conditioning, interventions and the guide; watch the fit respond.

Every change is applied to a wrapped copy of the model (see :mod:`widgets.views.toggles`).
The prior views (prior predictive, prior curves, the graph) are redrawn at once, in
the kernel's thread; the fit runs in a background thread, cancelled and restarted
(after a short debounce) when another change comes. Only the fit of the latest
settings is ever shown: results of a superseded fit are dropped.

Every fit is judged by :func:`widgets.training.convergence.assess`; a fit that has not levelled off
within its step budget is shown, but marked "not converged" in every view and in
``explorer.fitted.convergence``. The views are live: :meth:`ModelExplorer.freeze` takes a
picture of them that later changes leave alone (what a tutorial cell should show).
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from typing import Any, Callable

import ipywidgets as W

from pplkit.inspect import NodeRole
from pplkit.params import ParamStore
from pplkit.runtime import SiteKind

from ..plots.display import StaticPicture, default_blocking
from ..plots.plotgrid import PlotGrid
from ..plots.runner import FitRunner
from ..plots.svg_view import SvgView
from ..plots.svgplot import caption_svg, stack_svgs, with_badge
from ..training.controller import describe_error
from ..training.elbo_chart import ElboChart
from ..views.draws import Draws, Samples
from ..views.model_view import ModelView
from ..views.posterior_plots import (
    correlation_matrix,
    correlation_svg,
    default_predictive_plot,
    first_element,
    marginal_grid_svg,
    posterior_summary,
)
from ..views.snapshot import ModelSnapshot, take_snapshot
from ..views.toggles import Toggles
from .explorer_controls import LatentSiteControls, ObservedSiteControls
from .fitting import AUTOGUIDES, FitRequest, FitResult, fit, reference_samples

__all__ = ["ModelExplorer"]

# At 1280x720 the header, the ELBO chart and the predictive check share the first screen:
# a 600 px chart (230 px of plot) and panels this tall leave room for the legend and ticks.
CHART_WIDTH = "610px"
PREDICTIVE_PANEL_HEIGHT = 150

PlotFn = Callable[[PlotGrid, Draws], None]


class ModelExplorer(StaticPicture, W.VBox):
    """Priors, conditioning, interventions and guides of a model, with live fits.

    Args:
        model: the model, called as ``model(*args, **kwargs)``.
        *args, **kwargs: its data.
        guides: extra guides by name: guide functions written for ``model``, or
            autoguide classes. The four autoguides are always offered.
        guide: the guide selected at the start.
        num_steps, lr: SVI steps and Adam learning rate per fit.
        num_samples: prior and posterior samples drawn for the views.
        plot: ``plot(fig, draws)`` draws the predictive view (see :mod:`widgets.plots.plotgrid`);
            the default compares the density of each observed site's data with its
            prior and posterior predictive.
        reference: overlay a NUTS posterior (slower; cached per model change).
        blocking: fit in the caller's thread (default: outside a kernel or with ``CI`` set).
        debounce: seconds to wait for further changes before a fit starts.

    The explorer fits nothing until :meth:`start` or the first change;
    :func:`widgets.explore` builds, shows and starts one.

    Example::

        explorer = ModelExplorer(model, is_cont_africa, ruggedness, log_gdp)
        display(explorer); explorer.start()
        explorer.set_prior("a", "Normal", loc=9.0, scale=1.0)
        explorer.set_free("obs", True)
    """

    def __init__(
        self,
        model: Callable[..., Any],
        *args: Any,
        guides: dict[str, Any] | None = None,
        guide: str = "AutoNormal",
        num_steps: int = 500,
        lr: float = 0.03,
        num_samples: int = 300,
        plot: PlotFn | None = None,
        reference: bool = False,
        blocking: bool | None = None,
        debounce: float = 0.05,
        **kwargs: Any,
    ) -> None:
        self.model, self.args, self.kwargs = model, args, kwargs
        self.guides = {**AUTOGUIDES, **(guides or {})}
        if guide not in self.guides:
            raise ValueError(f"guide {guide!r} is not one of {list(self.guides)}; pass it in guides={{...}}")
        self.plot, self.num_samples = plot or default_predictive_plot, num_samples
        self.fitted: FitResult | None = None
        self.plot_error: BaseException | None = None
        self.prior_error: BaseException | None = None  # why the latest prior change could not be drawn
        self._closed = False
        self._scratch = ParamStore()  # params the model declares, for the prior views; never the user's store
        self._lock = threading.RLock()  # guards _request, snapshot and the views between the two threads
        self._references: OrderedDict[Toggles, Samples] = OrderedDict()
        self.base = take_snapshot(model, args, kwargs, num_samples=num_samples, store=self._scratch)
        self._vectorize = self.base.vectorized
        self.snapshot: ModelSnapshot = self.base
        self._build_controls(guide, num_steps, lr, reference)
        self._build_views()
        self._request = self._read_request()
        self._runner: FitRunner[FitRequest] = FitRunner(
            self._fit, blocking=default_blocking() if blocking is None else blocking, debounce=debounce
        )
        self._draw(self.snapshot)

    # -- building ---------------------------------------------------------------------------

    def _build_controls(self, guide: str, num_steps: int, lr: float, reference: bool) -> None:
        self.controls: dict[str, LatentSiteControls | ObservedSiteControls] = {}
        graph, prior = self.base.graph, self.base.draws.prior
        for name, msg in self.base.trace.nodes.items():
            if msg.kind is not SiteKind.SAMPLE or msg.intervened:
                continue
            if msg.is_observed:
                self.controls[name] = ObservedSiteControls(name, self._on_change)
                continue
            random_parents = [p for p in graph.nodes[name].parents if graph.nodes[p].role.is_random]
            draws = first_element(prior[name]) if name in prior else None
            self.controls[name] = LatentSiteControls(name, msg.fn, self._on_change, adjustable=not random_parents,
                                                     prior_draws=draws)
        self.guide_choice = W.Dropdown(options=list(self.guides), value=guide, description="guide",
                                       layout=W.Layout(width="256px"), style={"description_width": "48px"})
        self.guide_choice.add_class("pplkit-guide")
        self.steps = W.BoundedIntText(value=num_steps, min=1, max=1_000_000, description="steps",
                                      layout=W.Layout(width="104px"), style={"description_width": "44px"})
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-4, max=0, step=0.05, description="lr",
                                   continuous_update=False, readout_format=".2g", layout=W.Layout(width="170px"),
                                   style={"description_width": "28px"})
        self.reference = W.Checkbox(value=reference, description="NUTS reference", indent=False,
                                    layout=W.Layout(width="128px"))
        for control in (self.guide_choice, self.steps, self.lr, self.reference):
            control.observe(lambda _: self._on_change(), names=["value"])
        self.stop_button = W.Button(description="Stop", icon="stop", tooltip="Stop the fit after its current step",
                                    layout=W.Layout(width="auto"))
        self.stop_button.on_click(lambda _: self.stop())
        self.refit_button = W.Button(description="Re-fit", icon="refresh", tooltip="Fit the current settings again",
                                     layout=W.Layout(width="auto"))
        self.refit_button.on_click(lambda _: self.start())

    def _build_views(self) -> None:
        self.chart = ElboChart(title="ELBO loss of the current fit", auto_finish=False)
        self.model_view = ModelView(render_distributions=False)  # the controls list the priors already
        self.marginals = SvgView(placeholder="marginals")
        self.marginals.add_class("pplkit-marginals-view")
        self.correlations = SvgView(placeholder="posterior correlations appear after the first fit")
        self.correlations.add_class("pplkit-correlations-view")
        self.predictive = SvgView(placeholder="predictive checks")
        self.predictive.add_class("pplkit-predictive-view")
        self.changes = W.HTML()
        self.model_view.observe(self._select_from_graph, names=["selected"])
        self.marginals.observe(self._select_from_marginals, names=["selected"])
        # Stop and Re-fit wrap together: on a narrow screen "Re-fit" never sits alone on a line.
        buttons = W.HBox([self.stop_button, self.refit_button], layout=W.Layout(flex="0 0 auto"))
        header = W.HBox([self.guide_choice, self.steps, self.lr, self.reference, buttons],
                        layout=W.Layout(flex_flow="row wrap", align_items="center"))
        # Rows that wrap: side by side on a wide notebook, one under the other on a narrow one.
        # The pictures come first: at 1280x720 the first screen holds the compact header, the
        # ELBO chart and the predictive check; the graph and the per-site controls follow.
        site_controls = W.VBox([W.HTML("<b>Priors and interventions</b>")]
                               + [c for c in self.controls.values() if isinstance(c, LatentSiteControls)]
                               + [W.HTML("<b>Data</b>")]
                               + [c for c in self.controls.values() if isinstance(c, ObservedSiteControls)]
                               + [self.changes],
                               layout=W.Layout(flex="0 0 330px", width="330px"))
        site_controls.add_class("pplkit-explorer-controls")
        self.chart.layout = W.Layout(flex=f"0 1 {CHART_WIDTH}", max_width=CHART_WIDTH)
        self.predictive.layout = W.Layout(flex="1 1 620px")
        # The model view keeps its own wrapping: its "tensor shapes" panel takes a row of its own
        # under the graph, instead of squeezing graph and node panel until they are clipped.
        self.model_view.layout = W.Layout(flex="1 1 520px", min_width="400px", flex_flow="row wrap",
                                          align_items="center")
        self.marginals.layout = W.Layout(flex="1 1 560px")
        self.correlations.layout = W.Layout(flex="0 1 320px")
        wrap = {"flex_flow": "row wrap", "align_items": "flex-start"}
        pictures = W.HBox([self.chart, self.predictive], layout=W.Layout(**wrap))
        pictures.add_class("pplkit-explorer-pictures")
        super().__init__([header, pictures, W.HBox([self.model_view, site_controls], layout=W.Layout(**wrap)),
                          W.HBox([self.marginals, self.correlations], layout=W.Layout(**wrap))])
        self.add_class("pplkit-explorer")

    # -- reading the controls -----------------------------------------------------------------

    @property
    def toggles(self) -> Toggles:
        """The changes the controls describe now."""
        return self._request.toggles

    def _read_request(self) -> FitRequest:
        toggles = Toggles()
        for name, control in self.controls.items():
            if isinstance(control, ObservedSiteControls):
                toggles = toggles.with_free(name, control.free)
            else:
                toggles = toggles.with_prior(name, control.prior_choice())
                toggles = toggles.with_intervention(name, control.intervention())
        return FitRequest(toggles, self.guide_choice.value, int(self.steps.value), float(self.lr.value),
                          bool(self.reference.value))

    # -- reacting to changes (the kernel's thread) -----------------------------------------------

    def _on_change(self) -> None:
        if self._closed:  # a control of a closed explorer: nothing may start
            return
        request = self._read_request()
        with self._lock:
            if request == self._request and self.fitted is not None and self.prior_error is None:
                return
            model_changed = request.toggles != self._request.toggles
            self._request = request
            self._set_busy(True)
            background = not self._runner.blocking
            if background:  # cancel the old fit now; the new one's debounce runs while we draw
                self._runner.submit(request)
            if model_changed or self.prior_error is not None:
                try:
                    self._show_prior(request.toggles)
                except (ValueError, RuntimeError) as error:  # e.g. a prior that gives Normal a negative scale
                    self._refuse(request, error)
                    return
            if not background:  # a blocking fit publishes onto the snapshot, so draw the prior first
                self._runner.submit(request)

    def _refuse(self, request: FitRequest, error: BaseException) -> None:
        """A change the model cannot run with: say why, keep the last good pictures, start no fit."""
        self._runner.stop()
        self.prior_error = error
        self._set_busy(False)
        message = (f"The model cannot run with {request.toggles.describe()}:\n{describe_error(error)}\n"
                   "Choose other prior parameters (or undo the change); nothing was fitted.")
        self.changes.value = ("<b>Changes</b><pre class='pk-changes pk-error'>" + html.escape(message) + "</pre>")
        self.chart.finish("error", message)

    def _show_prior(self, toggles: Toggles) -> None:
        snapshot = take_snapshot(toggles.model(self.model), self.args, self.kwargs, data=self.base.draws.data,
                                 num_samples=self.num_samples, store=self._scratch, vectorize=self._vectorize)
        self.prior_error = None
        old = self.fitted.posterior if self.fitted is not None else None  # shown dimmed until the new fit
        self.snapshot = snapshot.with_posterior(old, self._references.get(toggles))
        self._draw(self.snapshot)

    def _set_busy(self, busy: bool) -> None:
        self.marginals.busy = self.correlations.busy = self.model_view.busy = busy

    def _select_from_graph(self, change: dict[str, Any]) -> None:
        targets = self.marginals.targets.values()
        self.marginals.selected = change["new"] if change["new"] in targets else ""

    def _select_from_marginals(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.model_view.selected = change["new"]

    # -- drawing ----------------------------------------------------------------------------

    def _warning(self, snapshot: ModelSnapshot) -> str:
        """The badge for views that show a posterior the fit did not converge to ('' when there is none)."""
        fitted = self.fitted
        if snapshot.draws.posterior is None or fitted is None or fitted.converged:
            return ""
        verdict = fitted.convergence
        return verdict.describe().upper() if verdict is not None else "NOT CONVERGED"

    def _draw(self, snapshot: ModelSnapshot) -> None:
        warning = self._warning(snapshot)
        # The predictive picture first: it is what a learner watches after moving a prior.
        self.predictive.svg = with_badge(self._predictive_svg(snapshot.draws), warning)
        sites = snapshot.latent_sites
        with self.marginals.hold_sync():
            self.marginals.targets = {f"marginal:{s}": s for s in sites}
            if self.marginals.selected not in sites:
                self.marginals.selected = self.model_view.selected if self.model_view.selected in sites else ""
            self.marginals.svg = with_badge(marginal_grid_svg([snapshot.marginal_entry(s) for s in sites],
                                                              selected=self.marginals.selected), warning)
        self.correlations.svg = with_badge(self._correlations_svg(snapshot), warning)
        self.changes.value = "<b>Changes</b><pre class='pk-changes'>" + html.escape(self.toggles.describe()) + "</pre>"
        self.model_view.show(snapshot)  # last: a new graph layout runs Graphviz (tens of ms)

    def _correlations_svg(self, snapshot: ModelSnapshot) -> str:
        posterior, reference = snapshot.draws.posterior, snapshot.draws.reference
        if posterior is None:
            return ""
        sites = [s for s in snapshot.latent_sites if snapshot.graph.nodes[s].role is NodeRole.LATENT]  # not do-fixed
        guide = self.fitted.request.guide if self.fitted is not None else "guide"
        if self.fitted is not None and not self.fitted.converged:
            guide += ", not converged"
        pictures = [correlation_svg(posterior, sites, f"posterior correlations ({guide})")]
        if reference is not None:
            pictures.append(correlation_svg(reference, sites, "posterior correlations (NUTS)"))
        return stack_svgs(pictures)

    def _predictive_svg(self, draws: Draws) -> str:
        fig = PlotGrid(panel_height=PREDICTIVE_PANEL_HEIGHT)
        try:
            self.plot(fig, draws)
            self.plot_error = None
        except Exception as error:  # the learner's plot function: show its error where the plot would be
            self.plot_error = error
            if self._runner.blocking:
                raise
            return _error_svg(f"the plot function raised:\n{describe_error(error)}")
        return fig.to_svg()

    # -- fitting (the worker's thread, or the caller's in blocking mode) --------------------------

    def _fit(self, request: FitRequest, cancelled: Callable[[], bool]) -> None:
        chart = self.chart
        chart.reset()
        chart.start(total_steps=request.num_steps)

        def extend(total: int) -> None:  # the fit continues past the request: the progress readout follows
            chart.total_steps = total

        try:
            result = fit(self.model, self.args, self.kwargs, request, self.guides, on_step=chart, on_extend=extend,
                         cancelled=cancelled, num_samples=self.num_samples, vectorize=self._vectorize)
            reference = self._reference_for(request, cancelled) if result is not None else None
            if result is None or (request.reference and reference is None):
                # Stopped, not superseded (nothing newer will reset the chart), nor refused (the chart says why).
                if request == self._request and self.prior_error is None:
                    chart.finish("stopped")
                    self._set_busy(False)
                return
            result.reference = reference
            with self._lock:
                if cancelled() or request != self._request:
                    return
                self.fitted = result
                self.snapshot = self.snapshot.with_posterior(result.posterior, reference)
                self._draw(self.snapshot)
                self._set_busy(False)
            chart.finish("done")
            if result.convergence is not None:  # the verdict goes beside the curve it was read from
                chart.mark_convergence(result.convergence)
        except BaseException as error:
            chart.finish("error", f"{describe_error(error)}\n\nwith {request.guide} on: {request.toggles.describe()}")
            self._set_busy(False)
            raise
        finally:
            # Republishing re-creates the widget's views in JupyterLab: fine at the end of a
            # blocking run, but not while a learner is moving the explorer's sliders.
            if self._runner.blocking and not cancelled():
                self.refresh_static_picture()

    def _reference_for(self, request: FitRequest, cancelled: Callable[[], bool]) -> Samples | None:
        if not request.reference:
            return None
        cached = self._references.get(request.toggles)
        if cached is not None:
            return cached
        samples = reference_samples(self.model, self.args, self.kwargs, request.toggles, cancelled=cancelled,
                                    vectorize=self._vectorize)
        if samples is not None:
            self._references[request.toggles] = samples
            while len(self._references) > 8:
                self._references.popitem(last=False)
        return samples

    # -- the Python interface ----------------------------------------------------------------

    @property
    def blocking(self) -> bool:
        return self._runner.blocking

    def start(self) -> None:
        """Fit the current settings (the explorer fits nothing before the first change or start)."""
        self._check_open()
        with self._lock:
            self._set_busy(True)
        self._runner.submit(self._request, debounce=0.0)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the fit of the latest settings; raise its error, if it failed."""
        self._runner.wait(timeout)

    def stop(self) -> None:
        self._runner.stop()

    def close(self) -> None:
        """Stop the fit and close the widget; a closed explorer starts no more work."""
        self._closed = True
        for control in self.controls.values():
            if isinstance(control, LatentSiteControls):
                control.throttle.cancel()
        self._runner.close()
        super().close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this explorer was closed, so it fits nothing more; "
                               "make a new one with widgets.explore(model, *data)")

    def caption(self) -> str:
        """What the views show now, in one line: guide, changes and the fit's verdict."""
        fitted, request = self.fitted, self._request
        if self.prior_error is not None:
            return f"{request.toggles.describe()}: the model cannot run with this change (nothing fitted)"
        if fitted is None:
            return f"{request.toggles.describe()}: prior only (not fitted yet)"
        verdict = fitted.convergence.describe() if fitted.convergence is not None else "not judged"
        shown = f"{fitted.request.guide} fit of {fitted.request.toggles.describe()}: {verdict}"
        if fitted.request != request:
            shown += f" (a fit of the latest change, {request.toggles.describe()}, is still running)"
        return shown

    def _posterior(self) -> Samples:
        if self.fitted is None:
            raise RuntimeError("nothing is fitted yet: call explorer.start() (and explorer.wait())")
        return self.fitted.posterior

    def summary(self, site: str) -> str:
        """``mean ± sd`` of ``site``'s posterior (its first element), exactly as its marginal is labelled."""
        posterior = self._posterior()
        if site not in posterior:
            raise ValueError(f"'{site}' has no posterior samples; the sites are {sorted(posterior)}")
        return posterior_summary(first_element(posterior[site]))

    def correlation(self, first: str, second: str) -> float:
        """The posterior correlation of two sites' first elements, as the correlation view shows it."""
        posterior = self._posterior()
        missing = [s for s in (first, second) if s not in posterior]
        if missing:
            raise ValueError(f"{missing} have no posterior samples; the sites are {sorted(posterior)}")
        return float(correlation_matrix(posterior, [first, second])[0, 1])

    def freeze(self, *views: str, wait: bool = True) -> SvgView:
        """A picture of ``views`` as they are now, captioned; later changes leave it alone.

        The explorer's own views are live: shown in several notebook cells, each would show
        the latest state. A frozen picture keeps the state of the cell that made it.

        Args:
            views: any of ``"model_view"``, ``"chart"``, ``"predictive"``, ``"marginals"``,
                ``"correlations"`` (default: the predictive view and the marginals).
            wait: first wait for the fit of the current settings (and raise its error).

        Example::

            explorer.set_prior("a", "Normal", loc=0.0, scale=0.1)
            explorer.freeze("predictive", "marginals")   # stays as it is after later changes
        """
        names = views or ("predictive", "marginals")
        unknown = [v for v in names if v not in FREEZABLE]
        if unknown:
            raise ValueError(f"freeze: unknown view(s) {unknown}; choose from {list(FREEZABLE)}")
        if wait:
            self.wait()
        with self._lock:
            caption = self.caption()
            pictures = [getattr(self, name).static_svg() for name in names]
        picture = SvgView(svg=stack_svgs([caption_svg(caption, warn=self._warning(self.snapshot) != ""), *pictures]))
        picture.add_class("pplkit-frozen-view")
        return picture

    def set_prior(self, site: str, family: str, **params: float) -> None:
        """Give latent ``site`` a new prior, as the controls would: ``set_prior("a", "Normal", loc=9, scale=1)``."""
        self._check_open()
        self._latent(site).set_prior(family, **params)

    def intervene(self, site: str, value: float | None) -> None:
        """Fix latent ``site`` with ``do(site = value)``; None removes the intervention."""
        self._check_open()
        self._latent(site).set_intervention(value)

    def set_free(self, site: str, free: bool = True) -> None:
        """Free observed ``site`` from its data (True) or condition on it again (False)."""
        self._check_open()
        control = self.controls.get(site)
        if not isinstance(control, ObservedSiteControls):
            observed = [n for n, c in self.controls.items() if isinstance(c, ObservedSiteControls)]
            raise ValueError(f"'{site}' is not an observed site of the model; its observed sites are {observed}")
        control.mode.value = "free" if free else "conditioned"

    def use_guide(self, name: str) -> None:
        """Select the guide called ``name``."""
        self._check_open()
        if name not in self.guides:
            raise ValueError(f"unknown guide {name!r}; choose one of {list(self.guides)}")
        self.guide_choice.value = name

    def _latent(self, site: str) -> LatentSiteControls:
        control = self.controls.get(site)
        if not isinstance(control, LatentSiteControls):
            latent = [n for n, c in self.controls.items() if isinstance(c, LatentSiteControls)]
            raise ValueError(f"'{site}' is not a latent site of the model; its latent sites are {latent}")
        return control

    def __repr__(self) -> str:
        return f"<ModelExplorer: {self.toggles.describe()!r} with {self._request.guide}, fit {self.chart.status}>"

    def static_svg(self) -> str:
        return stack_svgs([self.model_view.static_svg(), self.chart.static_svg(), self.predictive.static_svg(),
                           self.marginals.static_svg()])


FREEZABLE = ("model_view", "chart", "predictive", "marginals", "correlations")


def _error_svg(message: str) -> str:
    lines = message.splitlines()[-12:]
    body = "".join(f'<text x="6" y="{18 + 16 * i}" style="font:12px monospace;fill:#a11d1d">{html.escape(line)}</text>'
                   for i, line in enumerate(lines))
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="620" height="{30 + 16 * len(lines)}">{body}</svg>'

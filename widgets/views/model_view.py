"""The model view: the model's graph, drawn by graphviz inside a widget, and the selected site.

Clicking a node selects its site (``selected``, synced with the browser) and shows
that site's prior and, when known, its posterior marginal beside the graph. Below,
a folded panel holds the shapes of every site (``Trace.format_shapes``) of the model
as shown, for learners puzzling over batch and event dims.
"""

from __future__ import annotations

import dataclasses
import html
import threading
from typing import Any, Callable

import ipywidgets as W
import torch
import traitlets

from pplkit.inspect import ModelGraph, to_graphviz
from pplkit.trace import Trace

from ..plots.display import StaticPicture
from ..plots.svg_view import SvgView
from ..plots.svgplot import FONT_FAMILY, stack_svgs
from .posterior_plots import marginal_svg
from .snapshot import ModelSnapshot

__all__ = ["ModelView", "graph_svg"]


def graph_svg(graph: ModelGraph, render_params: bool = False, render_distributions: bool = True) -> str:
    """The graph as an SVG element (graphviz's XML prologue removed, so it can sit inside HTML).

    Layouts are cached by their DOT text: toggling a site back and forth costs one ``dot`` run.
    The graph is drawn in the plots' sans-serif family at 11 pt (about 15 px), and left to
    right when more than three sites have no random parent: a row of five labelled
    coefficients is ~800 px wide top to bottom, and shrunk to fit it would be unreadable.
    """
    digraph = to_graphviz(graph, render_distributions=render_distributions, render_params=render_params)
    font = {"fontname": GRAPH_FONT, "fontsize": "11"}
    # graph_attr and node_attr are written before the body: they apply to every node.
    digraph.graph_attr.update(nodesep="0.18", ranksep="0.35", **font)
    digraph.node_attr.update(margin="0.08,0.03", **font)
    digraph.edge_attr.update(arrowsize="0.7")
    if _roots(graph) > 3:
        digraph.graph_attr["rankdir"] = "LR"
    return _laid_out(digraph)


GRAPH_FONT = FONT_FAMILY.split(",")[0].strip("'")  # graphviz takes one family name


def _roots(graph: ModelGraph) -> int:
    """How many drawn random sites have no random parent (the width of a top-to-bottom layout)."""
    random_nodes = [n for n in graph if n.role.is_random]
    names = {n.name for n in random_nodes}
    return sum(1 for n in random_nodes if not any(p in names for p in n.parents))


_LAYOUTS: dict[str, str] = {}
_LAYOUTS_LOCK = threading.Lock()


def _laid_out(digraph: Any) -> str:
    key = digraph.source
    with _LAYOUTS_LOCK:
        cached = _LAYOUTS.get(key)
    if cached is not None:
        return cached
    svg = digraph.pipe(format="svg").decode()
    svg = svg[svg.index("<svg"):]
    with _LAYOUTS_LOCK:
        if len(_LAYOUTS) >= 64:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
        _LAYOUTS[key] = svg
    return svg


class ModelView(StaticPicture, W.HBox):
    """The graph of a model beside the marginal of the node last clicked.

    Build one with :func:`widgets.model_view`; the explorer updates it with :meth:`show`.

    Example::

        view = model_view(model, is_cont_africa, ruggedness, log_gdp, guide=guide)
        view.selected = "bR"     # as if the node had been clicked
    """

    selected = traitlets.Unicode("", help="The site whose marginal is shown ('' for none).")

    def __init__(self, snapshot: ModelSnapshot | None = None, render_params: bool = False,
                 render_distributions: bool = True, **kwargs: Any) -> None:
        self.graph_view = SvgView(placeholder="drawing the model…", layout=W.Layout(flex="1 1 300px"))
        self.graph_view.add_class("pplkit-graph")
        self.detail = SvgView(placeholder="click a node to see its prior and posterior",
                              layout=W.Layout(flex="0 1 320px"))
        self.detail.add_class("pplkit-site-detail")
        self.shapes = W.HTML(layout=W.Layout(width="100%"))
        self.shapes.add_class("pplkit-shapes")
        shapes_panel = W.Accordion(children=[self.shapes], titles=("tensor shapes of every site",),
                                   selected_index=None, layout=W.Layout(flex="1 1 100%"))
        kwargs.setdefault("layout", W.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__(children=[self.graph_view, self.detail, shapes_panel], **kwargs)
        self.add_class("pplkit-model-view")
        self.render_params = render_params
        self.render_distributions = render_distributions
        self.snapshot: ModelSnapshot | None = None
        traitlets.link((self.graph_view, "selected"), (self, "selected"))
        self.observe(self._on_selected, names=["selected"])
        if snapshot is not None:
            self.show(snapshot)

    def show(self, snapshot: ModelSnapshot) -> None:
        """Draw ``snapshot``: the graph (laid out by ``dot`` only when its DOT text is new) and the selected site.

        An unchanged graph costs no ``dot`` run (layouts are cached) and sends the browser
        nothing (traitlets skips a value equal to the old one).
        """
        self.snapshot = snapshot
        graph = snapshot.annotated_graph()
        svg = graph_svg(graph, self.render_params, self.render_distributions)
        targets = {f"node:{name}": name for name in graph.nodes}
        with self.graph_view.hold_sync():
            if self.selected not in targets.values():
                self.selected = ""
            self.graph_view.targets = targets
            self.graph_view.svg = svg
        if not self.selected and snapshot.latent_sites:
            self.selected = snapshot.latent_sites[0]
        self._draw_detail()
        self.shapes.value = f"<pre>{html.escape(shapes_table(snapshot.trace))}</pre>"

    def _on_selected(self, change: dict[str, Any]) -> None:
        self._draw_detail()

    def _draw_detail(self) -> None:
        snapshot, site = self.snapshot, self.selected
        if snapshot is None or not site:
            self.detail.svg = ""
            return
        if site in snapshot.latent_sites:
            entry = snapshot.marginal_entry(site)
            pictures = [marginal_svg(entry, width=320, height=200)]
            if entry["posterior"] is not None and entry["fixed"] is None:
                # Beside a posterior the prior is a flat line; drawn alone it shows its own shape.
                prior_only = {**entry, "posterior": None, "reference": None,
                              "label": f"prior of {site}, at its own scale"}
                pictures.append(marginal_svg(prior_only, width=320, height=160))
            self.detail.svg = stack_svgs(pictures)
        else:
            self.detail.svg = _observed_site_svg(snapshot, site)

    @property
    def busy(self) -> bool:
        return self.detail.busy

    @busy.setter
    def busy(self, value: bool) -> None:
        self.detail.busy = value

    def static_svg(self) -> str:
        return stack_svgs([self.graph_view.static_svg(), self.detail.static_svg()])

    def __repr__(self) -> str:
        return f"<ModelView: selected {self.selected!r}>"


def shapes_table(trace: Trace) -> str:
    """``trace.format_shapes()`` with each site's log-prob shape, as Pyro's tensor-shapes tutorial prints it.

    The log-probs are computed into ``trace`` itself (a snapshot's own trace, which nothing else scores).
    """
    try:
        with torch.no_grad():
            trace.compute_log_prob()
    except (ValueError, RuntimeError):  # a value outside its support: show the shapes without log-probs
        pass
    return trace.format_shapes()


def _observed_site_svg(snapshot: ModelSnapshot, site: str) -> str:
    """For an observed (or freed, or other) site: its data against the predictive distributions."""
    from ..plots.plotgrid import PlotGrid
    from .posterior_plots import default_predictive_plot

    draws = snapshot.draws
    if site not in draws.data:
        node = snapshot.graph.nodes.get(site)
        kind = node.role.value if node is not None else "unknown"
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="330" height="40"><text x="6" y="22" ' \
               f'style="font:12px sans-serif;fill:#666">{html.escape(site)}: a {kind} site</text></svg>'
    only = dataclasses.replace(draws, data={site: draws.data[site]})
    fig = PlotGrid(width=340, panel_height=150, columns=1)
    default_predictive_plot(fig, only)
    return fig.to_svg()


def build_model_view(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    guide: Callable[..., Any] | None = None,
    num_samples: int = 500,
    render_params: bool = False,
) -> ModelView:
    """A model view of ``model`` with the prior, and the posterior of ``guide`` if one is given."""
    from pplkit.params import current_param_store

    from .draws import sample_predictive
    from .snapshot import take_snapshot

    # The user's own store: a model's params and a trained guide's params are read from it.
    snapshot = take_snapshot(model, args, kwargs, num_samples=num_samples, store=current_param_store())
    if guide is not None:
        posterior, _ = sample_predictive(model, args, kwargs, num_samples, guide=guide)
        snapshot = snapshot.with_posterior(posterior)
    return ModelView(snapshot, render_params=render_params)

"""ModelView: the graph inside a widget; a click selects a site and shows its prior and posterior."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import graphviz

import pplkit
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam
from widgets import model_view
from widgets.views.model_view import ModelView
from widgets.views.snapshot import take_snapshot
from widgets.views.toggles import Toggles

from ..conftest import Y, hierarchical
from ..plots.test_svg_view import browser_sets


def test_nodes_are_click_targets_and_a_click_shows_the_sites_marginal():
    view = ModelView(take_snapshot(hierarchical, (Y,), {}, num_samples=100))
    graph = view.graph_view
    assert graph.targets == {"node:mu": "mu", "node:theta": "theta", "node:sigma": "sigma", "node:y": "y"}
    ids = {g.get("id") for g in ET.fromstring(graph.svg).iter("{http://www.w3.org/2000/svg}g")}
    assert {"node:mu", "node:theta", "node:y"} <= ids  # the SVG really carries the ids the targets name
    assert view.selected == "mu"  # the first latent site, until the learner clicks
    browser_sets(graph, selected="sigma")
    assert view.selected == "sigma" and "sigma ~ HalfNormal(1)" in view.detail.svg
    browser_sets(graph, selected="y")
    assert "y (conditioned on its data)" in view.detail.svg


def test_with_a_trained_guide_the_marginal_and_the_labels_show_the_posterior():
    guide = AutoNormal(hierarchical)
    SVI(hierarchical, guide, Adam({"lr": 0.05}), Trace_ELBO()).run(200, Y)
    view = model_view(hierarchical, Y, guide=guide, num_samples=200)
    assert "±" in view.graph_view.svg  # nodes labelled with posterior mean ± sd
    view.selected = "theta"
    assert view.detail.svg.count("<polyline") >= 2  # prior and posterior curves
    keys = pplkit.get_param_store().keys()
    assert keys and all(key.startswith("AutoNormal.") for key in keys)  # only the guide's own params


def test_show_lays_the_graph_out_only_when_it_changes(monkeypatch, comms):
    # (widgets.model_view is also the name of a function, so the module is found by its class)
    monkeypatch.setattr(sys.modules[ModelView.__module__], "_LAYOUTS", {})  # no layout from another test
    dot_runs = []
    pipe = graphviz.Digraph.pipe
    monkeypatch.setattr(graphviz.Digraph, "pipe", lambda self, *a, **k: dot_runs.append(1) or pipe(self, *a, **k))
    view = ModelView(take_snapshot(hierarchical, (Y,), {}, num_samples=50))
    first = view.graph_view.svg
    assert len(dot_runs) == 1
    sent = len(comms.of(view.graph_view).updates("svg"))
    view.show(take_snapshot(hierarchical, (Y,), {}, num_samples=50))
    assert len(dot_runs) == 1 and view.graph_view.svg is first
    assert len(comms.of(view.graph_view).updates("svg")) == sent  # nothing new to send
    intervened = Toggles(interventions={"theta": 1.0}).model(hierarchical)
    view.show(take_snapshot(intervened, (Y,), {}, num_samples=50))
    assert len(dot_runs) == 2 and "theta = 1" in view.graph_view.svg
    view.show(take_snapshot(hierarchical, (Y,), {}, num_samples=50))  # back again: the layout is cached
    assert len(dot_runs) == 2 and view.graph_view.svg is first


def test_the_shapes_panel_shows_the_shapes_of_every_site():
    view = ModelView(take_snapshot(hierarchical, (Y,), {}, num_samples=50))
    rows = [line.strip() for line in view.shapes.value.removeprefix("<pre>").removesuffix("</pre>").splitlines()]
    n = len(Y)
    assert rows[0] == "Trace Shapes:"
    for row in ("mu dist    |", "theta dist    |", f"y dist {n} |", f"value {n} |", f"log_prob {n} |"):
        assert row in rows, row


def test_the_selected_site_shows_its_prior_at_its_own_scale_beside_the_posterior():
    pplkit.clear_param_store()
    guide = AutoNormal(hierarchical)
    svi = SVI(hierarchical, guide, Adam({"lr": 0.05}), Trace_ELBO())
    svi.run(300, Y)
    view = model_view(hierarchical, Y, guide=guide)
    view.selected = "mu"
    svg = view.detail.svg
    assert "prior of mu, at its own scale" in svg
    ET.fromstring(svg)
    # the prior-only panel spans the prior's bulk (Normal(0, 5): about ±12), not the posterior's ±0.5
    prior_panel = svg.split('<g transform="translate(0,')[-1]  # the second of the two stacked pictures
    assert "prior of mu, at its own scale" in prior_panel
    ticks = [float(t) for t in re.findall(r'class="tick">(-?[\d.]+)<', prior_panel)]
    assert min(ticks) <= -5 and max(ticks) >= 5


def test_the_graph_uses_the_plots_sans_serif_font_at_a_legible_size():
    view = model_view(hierarchical, Y)
    svg = view.graph_view.svg
    assert 'font-family="DejaVu Sans"' in svg and "Times" not in svg
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes and min(sizes) >= 11.0  # points: about 15 px at the drawn size

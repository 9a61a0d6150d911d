"""ModelView: the graph inside a widget; a click selects a site and shows its prior and posterior."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pplkit
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam
from widgets import model_view
from widgets.model_view import ModelView
from widgets.snapshot import take_snapshot
from widgets.toggles import Toggles

from .conftest import Y, hierarchical
from .test_svg_view import browser_sets


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
    assert "pplkit" not in "".join(pplkit.get_param_store().keys())  # only the guide's own params


def test_show_redraws_the_graph_only_when_it_changes():
    base = take_snapshot(hierarchical, (Y,), {}, num_samples=50)
    view = ModelView(base)
    first = view.graph_view.svg
    view.show(take_snapshot(hierarchical, (Y,), {}, num_samples=50))
    assert view.graph_view.svg is first
    intervened = Toggles(interventions={"theta": 1.0})
    view.show(take_snapshot(intervened.model(hierarchical), (Y,), {}, num_samples=50, interventions={"theta": 1.0}))
    assert view.graph_view.svg != first and "theta = 1" in view.graph_view.svg


def test_the_shapes_panel_shows_the_shapes_of_every_site():
    view = ModelView(take_snapshot(hierarchical, (Y,), {}, num_samples=50))
    rows = [line.strip() for line in view.shapes.value.removeprefix("<pre>").removesuffix("</pre>").splitlines()]
    n = len(Y)
    assert rows[0] == "Trace Shapes:"
    for row in ("mu dist    |", "theta dist    |", f"y dist {n} |", f"value {n} |", f"log_prob {n} |"):
        assert row in rows, row

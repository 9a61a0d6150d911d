"""ModelGraph: hiding nodes keeps dependencies; the plate layout nests and crosses correctly."""

from __future__ import annotations

import torch

from pplkit import SiteKind
from pplkit.inspect import Cluster, ModelGraph, Node, NodeRole, Plate, SiteSummary


def node(name, role=NodeRole.LATENT, parents=(), plates=()):
    kind = {
        NodeRole.PARAM: SiteKind.PARAM,
        NodeRole.DETERMINISTIC: SiteKind.DETERMINISTIC,
        NodeRole.FACTOR: SiteKind.FACTOR,
    }.get(role, SiteKind.SAMPLE)
    return Node(name, kind, role, parents=tuple(parents), plates=tuple(plates))


def graph(*nodes, plates=()):
    return ModelGraph({n.name: n for n in nodes}, {p.name: p for p in plates})


def test_plate_labels_show_the_size_and_the_subsample():
    assert Plate("data", 170, 170, -1).label == "data (170)"
    assert Plate("data", 170, 10, -1).label == "data (10 of 170)"


def test_edges_list_each_child_s_parents_in_node_order():
    g = graph(node("a"), node("b"), node("y", NodeRole.OBSERVED, ["a", "b"]))
    assert g.edges() == [("a", "y"), ("b", "y")]
    assert g.roles(NodeRole.LATENT) == ["a", "b"] and g["y"].is_observed


def test_hiding_deterministic_sites_connects_their_parents_to_their_children():
    g = graph(
        node("a"),
        node("b"),
        node("mean", NodeRole.DETERMINISTIC, ["a", "b"]),
        node("twice", NodeRole.DETERMINISTIC, ["mean"]),
        node("y", NodeRole.OBSERVED, ["twice", "a"]),
    )
    shown = g.hide(NodeRole.DETERMINISTIC)
    assert list(shown.nodes) == ["a", "b", "y"]
    assert shown["y"].parents == ("a", "b")
    assert g.hide() is g


def test_hiding_params_drops_their_edges_and_plates_left_empty():
    g = graph(
        node("loc", NodeRole.PARAM, plates=["data"]),
        node("z", parents=["loc"]),
        node("y", NodeRole.OBSERVED, ["z"], plates=["obs"]),
        plates=[Plate("data", 3, 3, -1), Plate("obs", 5, 5, -1)],
    )
    shown = g.hide(NodeRole.PARAM)
    assert shown["z"].parents == ()
    assert list(shown.plates) == ["obs"]


def test_layout_nests_plates_that_nest():
    g = graph(
        node("s"),
        node("mu", parents=["s"], plates=["groups"]),
        node("y", NodeRole.OBSERVED, ["mu"], plates=["groups", "items"]),
    )
    top, clusters = g.layout()
    inner = Cluster("items", ("groups", "items"), ("y",), ())
    assert top == ("s",)
    assert clusters == (Cluster("groups", ("groups",), ("mu",), (inner,)),)
    assert [c.id for c in clusters[0].walk()] == ["plate:groups", "plate:groups/items"]


def test_layout_draws_a_crossing_plate_once_per_nesting():
    g = graph(
        node("r", plates=["rows"]),
        node("c", plates=["cols"]),
        node("cell", NodeRole.OBSERVED, ["r", "c"], plates=["rows", "cols"]),
    )
    top, clusters = g.layout()
    assert top == ()
    assert clusters == (
        Cluster("rows", ("rows",), ("r",), (Cluster("cols", ("rows", "cols"), ("cell",), ()),)),
        Cluster("cols", ("cols",), ("c",), ()),
    )
    # Every node sits in a box of each of its plates, and in no other.
    for cluster in clusters:
        for box in cluster.walk():
            for name in box.nodes:
                assert set(box.path) == set(g[name].plates)


def test_posterior_summaries_annotate_latent_and_deterministic_sites_only():
    g = graph(node("z"), node("d", NodeRole.DETERMINISTIC, ["z"]), node("y", NodeRole.OBSERVED, ["d"]))
    summary = SiteSummary(torch.tensor(1.0), torch.tensor(0.5))
    annotated = g.with_posterior({"z": summary, "d": summary, "y": summary})
    assert annotated["z"].posterior is summary and annotated["d"].posterior is summary
    assert annotated["y"].posterior is None
    assert g["z"].posterior is None  # the original is unchanged

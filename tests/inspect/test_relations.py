"""get_model_relations: sites, parents from provenance, plates from the plate records."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.examples import custom_guide, model, simple_model
from pplkit.inspect import NodeRole, Plate, format_shapes, get_model_relations
from pplkit.inspect.relations import constraint_name

LATENT, OBSERVED, PARAM = NodeRole.LATENT, NodeRole.OBSERVED, NodeRole.PARAM


def relations(graph):
    """Each node as (role, parents, plates, distribution or constraint), in node order."""
    return [(n.name, n.role, n.parents, n.plates, n.distribution or n.constraint) for n in graph]


COEFFICIENTS = ["a", "bA", "bR", "bAR"]


def test_simple_model_params_feed_obs_in_plate_data(intro_args):
    graph = get_model_relations(simple_model, intro_args)
    assert relations(graph) == [
        *[(name, PARAM, (), (), "real") for name in COEFFICIENTS],
        ("sigma", PARAM, (), (), "positive"),
        ("obs", OBSERVED, ("a", "bA", "bR", "bAR", "sigma"), ("data",), "Normal"),
    ]
    assert graph.plates == {"data": Plate("data", 170, 170, -1)}
    assert graph["obs"].shape == (170,)


def test_bayesian_model_latents_feed_obs(intro_args):
    graph = get_model_relations(model, intro_args)
    assert relations(graph) == [
        ("a", LATENT, (), (), "Normal"),
        ("bA", LATENT, (), (), "Normal"),
        ("bR", LATENT, (), (), "Normal"),
        ("bAR", LATENT, (), (), "Normal"),
        ("sigma", LATENT, (), (), "Uniform"),
        ("obs", OBSERVED, ("a", "bA", "bR", "bAR", "sigma"), ("data",), "Normal"),
    ]
    assert graph["sigma"].support == "interval(0.0, 10.0)"


def test_custom_guide_params_feed_the_sites_they_parameterise(intro_args):
    graph = get_model_relations(custom_guide, intro_args)
    weights = ("weights_loc", "weights_scale")
    assert relations(graph) == [
        ("a_loc", PARAM, (), (), "real"),
        ("a_scale", PARAM, (), (), "positive"),
        ("sigma_loc", PARAM, (), (), "positive"),
        ("weights_loc", PARAM, (), (), "real"),
        ("weights_scale", PARAM, (), (), "positive"),
        ("a", LATENT, ("a_loc", "a_scale"), (), "Normal"),
        ("bA", LATENT, weights, (), "Normal"),
        ("bR", LATENT, weights, (), "Normal"),
        ("bAR", LATENT, weights, (), "Normal"),
        ("sigma", LATENT, ("sigma_loc",), (), "Normal"),
    ]


def test_nested_plates(nested_plates):
    graph = get_model_relations(nested_plates)
    assert relations(graph) == [
        ("scale", LATENT, (), (), "HalfNormal"),
        ("mu", LATENT, ("scale",), ("groups",), "Normal"),
        ("y", OBSERVED, ("mu",), ("groups", "items"), "Normal"),
    ]
    assert list(graph.plates.values()) == [Plate("groups", 3, 3, -2), Plate("items", 4, 4, -1)]


def test_crossing_plates(crossing_plates):
    graph = get_model_relations(crossing_plates)
    assert relations(graph) == [
        ("r", LATENT, (), ("rows",), "Normal"),
        ("c", LATENT, (), ("cols",), "Normal"),
        ("cell", OBSERVED, ("r", "c"), ("rows", "cols"), "Normal"),
    ]


def test_deterministic_factor_and_discrete_latent(deterministic_and_factor):
    graph = get_model_relations(deterministic_and_factor)
    assert relations(graph) == [
        ("a", LATENT, (), (), "Normal"),
        ("b", LATENT, ("a",), (), "LogNormal"),
        ("mean", NodeRole.DETERMINISTIC, ("a", "b"), (), "Deterministic"),
        ("penalty", NodeRole.FACTOR, ("mean",), (), None),
        ("k", LATENT, (), (), "Categorical"),
        ("y", OBSERVED, ("mean", "k"), (), "Normal"),
    ]
    assert graph["k"].support == "integer_interval(0, 2)"
    assert graph["penalty"].kind is pplkit.SiteKind.FACTOR


def test_a_do_intervened_site_is_fixed_and_has_no_parents(deterministic_and_factor):
    graph = get_model_relations(pplkit.do(deterministic_and_factor, data={"b": 2.0}))
    assert graph["b"].role is NodeRole.INTERVENED
    assert graph["b"].parents == () and graph["b"].fixed_value == "2"
    assert graph["mean"].parents == ("a", "b")  # its children still see the fixed value


def test_sites_observed_in_some_argument_sets_only_are_sometimes_observed(semi_supervised):
    xs = torch.randn(5)
    graph = get_model_relations(semi_supervised, [(xs, torch.ones(5)), (xs,)])
    assert relations(graph) == [
        ("w", LATENT, (), (), "Normal"),
        ("y", NodeRole.SOMETIMES_OBSERVED, ("w",), ("data",), "Bernoulli"),
        ("x", OBSERVED, ("y",), ("data",), "Normal"),
    ]
    assert get_model_relations(semi_supervised, (xs, torch.ones(5)))["y"].role is OBSERVED
    with_kwargs = get_model_relations(semi_supervised, (xs,), [{"ys": torch.ones(5)}, {}])
    assert with_kwargs["y"].role is NodeRole.SOMETIMES_OBSERVED


def test_only_direct_dependencies_are_edges():
    def chain():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0))
        b = pplkit.sample("b", dist.Normal(a, 1.0))
        pplkit.sample("c", dist.Normal(b, 1.0))

    graph = get_model_relations(chain)
    assert graph.edges() == [("a", "b"), ("b", "c")]


def test_local_params_sit_in_their_plate_and_shared_ones_outside():
    def guide():
        scale = pplkit.param("scale", torch.tensor(1.0), constraint=dist.constraints.positive)
        with plate("data", 5, subsample_size=2):
            loc = pplkit.param("loc", torch.zeros(5), event_dim=0)
            pplkit.sample("z", dist.Normal(loc, scale))

    graph = get_model_relations(guide)
    assert graph["loc"].plates == ("data",) and graph["scale"].plates == ()
    assert graph["z"].parents == ("scale", "loc")
    assert graph.plates["data"].label == "data (2 of 5)"


def test_sites_in_a_sequential_plate_are_in_that_plate():
    def m():
        for i in plate("steps", 3):
            pplkit.sample(f"x_{i}", dist.Normal(0.0, 1.0))

    graph = get_model_relations(m)
    assert [n.plates for n in graph] == [("steps",)] * 3
    assert graph.plates["steps"].dim is None


def test_parameter_constraints_have_short_names():
    constraints = dist.constraints
    assert constraint_name(constraints.positive) == "positive"
    assert constraint_name(constraints.interval(0.0, 10.0)) == "interval(0.0, 10.0)"
    assert constraint_name(constraints.greater_than(1.0)) == "greater_than(1.0)"
    assert constraint_name(constraints.independent(constraints.real, 1)) == "independent(real, 1)"


def test_model_args_that_are_not_a_tuple_get_a_clear_error(semi_supervised):
    xs = torch.randn(5)
    with pytest.raises(TypeError, match=r"model_args must be a tuple.*\(data,\).*got Tensor"):
        get_model_relations(semi_supervised, xs)
    with pytest.raises(TypeError, match="model_args is a list of Tensor"):
        get_model_relations(semi_supervised, [xs, xs])
    with pytest.raises(ValueError, match="2 argument tuples but 3 keyword dicts"):
        get_model_relations(semi_supervised, [(xs,), (xs,)], [{}, {}, {}])
    with pytest.raises(TypeError, match="model must be a function"):
        get_model_relations("model")


def test_the_graph_is_the_same_on_every_call(intro_args):
    first = get_model_relations(model, intro_args, seed=1)
    second = get_model_relations(model, intro_args, seed=1)
    assert first == second


def test_format_shapes_lists_each_site_s_shapes(nested_plates):
    table = format_shapes(nested_plates)
    lines = [line.split() for line in table.splitlines()]
    assert ["mu", "dist", "3", "1", "|"] in lines
    assert ["y", "dist", "3", "4", "|"] in lines
    assert ["log_prob", "3", "4", "|"] in lines


def test_auto_normal_guide_params_feed_each_site(intro_args):
    from pplkit.infer import AutoNormal

    graph = get_model_relations(AutoNormal(model), intro_args)
    expected = []
    for site in [*COEFFICIENTS, "sigma"]:
        loc, scale = f"AutoNormal.locs.{site}", f"AutoNormal.scales.{site}"
        # sigma's support is an interval, so its Normal is pushed forward onto it
        family = "PushforwardNormal" if site == "sigma" else "Normal"
        expected += [
            (loc, PARAM, (), (), "real"),
            (scale, PARAM, (), (), "positive"),
            (site, LATENT, (loc, scale), (), family),
        ]
    assert relations(graph) == expected


def test_auto_normal_params_of_a_plate_site_sit_in_its_plate(nested_plates):
    from pplkit.infer import AutoNormal

    graph = get_model_relations(AutoNormal(nested_plates))
    assert graph["AutoNormal.locs.mu"].plates == ("groups",) and graph["AutoNormal.locs.mu"].shape == (3, 1)
    assert graph["AutoNormal.locs.scale"].plates == ()
    assert graph["mu"].parents == ("AutoNormal.locs.mu", "AutoNormal.scales.mu")


def test_auto_multivariate_normal_guide_feeds_every_site_from_one_latent_vector(intro_args):
    from pplkit.infer import AutoMultivariateNormal

    graph = get_model_relations(AutoMultivariateNormal(model), intro_args)
    params = ("AutoMultivariateNormal.loc", "AutoMultivariateNormal.scale", "AutoMultivariateNormal.scale_tril")
    latent = "_AutoMultivariateNormal_latent"
    assert relations(graph) == [
        (params[0], PARAM, (), (), "real"),
        (params[1], PARAM, (), (), "positive"),
        (params[2], PARAM, (), (), "real"),
        (latent, LATENT, params, (), "MultivariateNormal"),
        *[(site, LATENT, (latent,), (), "Delta") for site in [*COEFFICIENTS, "sigma"]],
    ]
    assert graph[latent].shape == (5,)

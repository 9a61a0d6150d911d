"""The Trace record: node queries, log densities, duplicate names, format_shapes."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine
from pplkit.distributions import constraints
from pplkit.trace import compute_site_log_prob


def regression(x, y=None):
    w = pplkit.sample("w", dist.Normal(0.0, 1.0))
    b = pplkit.param("b", torch.tensor(0.5))
    sigma = pplkit.sample("sigma", dist.HalfNormal(1.0))
    with plate("data", len(x)):
        return pplkit.sample("y", dist.Normal(w * x + b, sigma), obs=y)


def test_log_prob_sum_equals_the_joint_written_with_torch_distributions():
    x, y = torch.randn(6), torch.randn(6)
    tr = poutine.trace(regression).get_trace(x, y)
    w, sigma, b = tr["w"].value, tr["sigma"].value, tr["b"].value
    by_hand = (
        torch.distributions.Normal(0.0, 1.0).log_prob(w)
        + torch.distributions.HalfNormal(1.0).log_prob(sigma)
        + torch.distributions.Normal(w * x + b, sigma).log_prob(y).sum()
    )
    assert torch.allclose(tr.log_prob_sum(), by_hand)


def test_node_queries():
    tr = poutine.trace(regression).get_trace(torch.randn(3), torch.randn(3))
    assert tr.stochastic_nodes == ["w", "sigma"]
    assert tr.observation_nodes == ["y"]
    assert tr.param_nodes == ["b"]
    assert list(tr) == ["w", "b", "sigma", "data", "y"]
    assert "w" in tr and len(tr) == 5
    assert [(name, site["name"]) for name, site in tr.iter_stochastic_nodes()] == [("w", "w"), ("sigma", "sigma")]


def test_reparameterized_and_other_latent_nodes():
    def model():
        pplkit.sample("loc", dist.Normal(0.0, 1.0))
        pplkit.sample("k", dist.Poisson(3.0))
        pplkit.sample("detached", dist.Normal(0.0, 1.0).has_rsample_(False))

    tr = poutine.trace(model).get_trace()
    assert tr.reparameterized_nodes == ["loc"]
    assert tr.nonreparam_stochastic_nodes == ["k", "detached"]


def test_a_param_read_twice_is_one_site_but_two_samples_of_one_name_are_an_error():
    def reads_twice():
        pplkit.param("p", torch.tensor(1.0))
        pplkit.param("p", torch.tensor(1.0))

    assert poutine.trace(reads_twice).get_trace().param_nodes == ["p"]

    def samples_twice():
        pplkit.sample("x", dist.Normal(0.0, 1.0))
        pplkit.sample("x", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match=r"two sample sites are named 'x'.*f'x_\{i\}'"):
        poutine.trace(samples_twice).get_trace()

    def clash():
        pplkit.param("z", torch.tensor(1.0))
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="used by a param site and a sample site"):
        poutine.trace(clash).get_trace()


def test_creating_a_plate_twice_explains_how_to_reuse_it():
    def model():
        with plate("data", 3):
            pass
        with plate("data", 3):
            pass

    with pytest.raises(ValueError, match=r"plate 'data' was created twice.*with data_plate:"):
        poutine.trace(model).get_trace()


def test_scale_and_mask_enter_the_log_prob():
    def model():
        with poutine.scale(scale=3.0), poutine.mask(mask=torch.tensor([True, False])):
            pplkit.sample("x", dist.Normal(0.0, 1.0).expand([2]), obs=torch.zeros(2))

    tr = poutine.trace(model).get_trace()
    tr.compute_log_prob()
    base = dist.Normal(0.0, 1.0).log_prob(torch.tensor(0.0))
    assert torch.allclose(tr["x"].log_prob, torch.stack([3 * base, torch.tensor(0.0)]))
    assert torch.allclose(tr["x"].unscaled_log_prob, base.expand(2))


def test_nonfinite_sites_names_the_sites_with_impossible_values():
    def model():
        pplkit.sample("fine", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))
        pplkit.sample("bad", dist.Uniform(0.0, 1.0, validate_args=False), obs=torch.tensor(2.0))

    tr = poutine.trace(model).get_trace()
    tr.compute_log_prob()
    assert tr.nonfinite_sites() == ["bad"]


def test_a_value_outside_the_support_is_reported_with_the_site_name():
    def model():
        pplkit.sample("fine", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))
        pplkit.sample("p", dist.Uniform(0.0, 1.0), obs=torch.tensor(2.0))

    tr = poutine.trace(model).get_trace()
    # Pyro's opening words, then pplkit's explanation.
    with pytest.raises(ValueError, match=r"^Error while computing log_prob at site 'p': .*support"):
        tr.compute_log_prob()
    with pytest.raises(ValueError, match=r"^Error while computing log_prob_sum at site 'p': .*support"):
        tr.log_prob_sum()


def two_plate_model():
    pplkit.param("p", torch.ones(3))
    with plate("outer", 4):
        z = pplkit.sample("z", dist.Normal(0.0, 1.0))
        with plate("inner", 5):
            pplkit.sample("x", dist.Normal(z, 1.0).expand([5, 4]))
            mvn = dist.MultivariateNormal(torch.zeros(2), torch.eye(2)).expand([5, 4])
            pplkit.sample("y", mvn, obs=torch.zeros(5, 4, 2))


# Printed by Pyro 1.9.2 for the same model (poutine.trace(...).get_trace().format_shapes()).
PYRO_SHAPES = (
    "Trace Shapes:        \n Param Sites:        \n            p     3  \nSample Sites:        \n"
    "   outer dist     |  \n        value   4 |  \n       z dist   4 |  \n        value   4 |  \n"
    "   inner dist     |  \n        value   5 |  \n       x dist 5 4 |  \n        value 5 4 |  \n"
    "       y dist 5 4 | 2\n        value 5 4 | 2"
)
PYRO_SHAPES_WITH_LOG_PROB = (
    "Trace Shapes:        \n Param Sites:        \n            p     3  \nSample Sites:        \n"
    "   outer dist     |  \n        value   4 |  \n     log_prob     |  \n       z dist   4 |  \n"
    "        value   4 |  \n     log_prob   4 |  \n   inner dist     |  \n        value   5 |  \n"
    "     log_prob     |  \n       x dist 5 4 |  \n        value 5 4 |  \n     log_prob 5 4 |  \n"
    "       y dist 5 4 | 2\n        value 5 4 | 2\n     log_prob 5 4 |  "
)


def test_format_shapes_prints_pyros_table_for_a_two_plate_model():
    tr = poutine.trace(two_plate_model).get_trace()
    assert tr.format_shapes() == PYRO_SHAPES
    tr.compute_log_prob()
    assert tr.format_shapes() == PYRO_SHAPES_WITH_LOG_PROB


def test_format_shapes_can_stop_at_a_site_and_handles_an_empty_trace():
    tr = poutine.trace(two_plate_model).get_trace()
    assert tr.format_shapes(last_site="z").splitlines()[-1].strip() == "value 4 |"
    assert pplkit.Trace().format_shapes() == "Trace Shapes:"


def test_constrained_param_values_appear_in_the_trace():
    def model():
        return pplkit.param("s", torch.tensor(2.0), constraint=constraints.positive)

    tr = poutine.trace(model).get_trace()
    assert tr["s"].value.item() == pytest.approx(2.0)
    assert tr["s"].kwargs["constraint"] is constraints.positive


# -- the log_prob shape check (issue 12, item 1) ----------------------------------------------------


def _column_model(y):
    with plate("data", 5):
        pplkit.sample("y", dist.Normal(torch.zeros(5), 1.0), obs=y)


def test_a_column_of_data_inside_a_plate_is_refused_when_inference_scores_it():
    tr = poutine.trace(_column_model).get_trace(torch.zeros(5, 1))
    assert tr.log_prob_sum().shape == ()  # inspecting the trace still works (the shapes panel uses it)
    with pytest.raises(ValueError, match=r"model site 'y': invalid log_prob shape \(5, 5\): dim -2.*squeeze\(-1\)"):
        compute_site_log_prob(tr.nodes["y"], "model")


def test_the_shape_check_accepts_what_pyro_accepts():
    def model(y):
        loc = pplkit.sample("loc", dist.Normal(torch.zeros(3), 1.0).to_event(1))
        with plate("rows", 4, dim=-2), plate("cols", 5, dim=-1):
            pplkit.sample("cell", dist.Normal(0.0, 1.0), obs=y)
        with plate("data", 4):
            pplkit.sample("vec", dist.Normal(loc, 1.0).to_event(1), obs=torch.zeros(4, 3))
        pplkit.sample("free", dist.Normal(torch.zeros(2), 1.0), obs=torch.zeros(2))  # no plate: not checked

    tr = poutine.trace(model).get_trace(torch.zeros(4, 5))
    for site in tr.scored_sites():
        compute_site_log_prob(site, "model")
    assert tr.nodes["cell"].log_prob.shape == (4, 5)


def test_dims_left_of_max_plate_nesting_are_not_checked():
    tr = poutine.trace(_column_model).get_trace(torch.zeros(5, 1))
    compute_site_log_prob(tr.nodes["y"], "model", max_plate_nesting=1)  # an enumerating ELBO's dims live there
    assert tr.nodes["y"].log_prob.shape == (5, 5)


def test_the_shape_check_is_off_with_validation():
    tr = poutine.trace(_column_model).get_trace(torch.zeros(5, 1))
    pplkit.enable_validation(False)
    compute_site_log_prob(tr.nodes["y"], "model")
    assert tr.nodes["y"].log_prob.shape == (5, 5)


# -- the graph API, as Pyro's Trace has it ------------------------------------------------

TREE = [(1, 2), (1, 3), (3, 4), (3, 5), (4, 6), (4, 7)]


@pytest.mark.parametrize("edges", [TREE, TREE[::-1], [(3, 5), (1, 2), (4, 7), (1, 3), (4, 6), (3, 4)]])
def test_topological_sort_orders_every_edge_forward(edges):
    tr = pplkit.Trace()
    for parent, child in edges:
        tr.add_edge(parent, child)
    order = tr.topological_sort()
    assert sorted(order) == [1, 2, 3, 4, 5, 6, 7]
    rank = {n: i for i, n in enumerate(order)}
    assert all(rank[p] < rank[c] for p, c in edges)
    backward = tr.topological_sort(reverse=True)
    assert backward == order[::-1]


def test_predecessors_successors_and_remove_node():
    tr = pplkit.Trace()
    for parent, child in TREE:
        tr.add_edge(parent, child)
    assert tr.successors(3) == {4, 5} and tr.predecessors(4) == {3}
    assert sorted(tr.edges) == sorted(TREE)
    tr.remove_node(4)
    assert 4 not in tr and tr.successors(3) == {5} and tr.predecessors(6) == set()
    reachable = list(tr._dfs(1, set()))  # post-order: the root comes last
    assert sorted(reachable) == [1, 2, 3, 5] and reachable[-1] == 1
    with pytest.raises(KeyError):
        tr.successors(4)


def test_a_long_chain_sorts_without_recursion():
    tr = pplkit.Trace()
    for i in range(5000):
        tr.add_edge(i, i + 1)
    assert tr.topological_sort() == list(range(5001))


def test_copy_keeps_edges_apart():
    tr = pplkit.Trace()
    tr.add_edge("a", "b")
    new = tr.copy()
    new.add_edge("b", "c")
    assert tr.successors("b") == set() and new.successors("b") == {"c"}


def test_add_node_takes_pyros_fields():
    tr = pplkit.Trace()
    tr.add_node("z", type="sample", fn=dist.Normal(0.0, 1.0), value=torch.tensor(0.5), is_observed=False)
    tr.add_node("w", type="param", value=torch.ones(2))
    assert tr.nodes["z"]["type"] == "sample" and tr.stochastic_nodes == ["z"] and tr.param_nodes == ["w"]
    assert tr.log_prob_sum().item() == pytest.approx(torch.distributions.Normal(0.0, 1.0).log_prob(torch.tensor(0.5)))
    with pytest.raises(ValueError, match="two sample sites are named 'z'"):
        tr.add_node("z", type="sample", fn=dist.Normal(0.0, 1.0), value=torch.tensor(0.0))
    # Pyro raises a RuntimeError here, with this wording: the error is both types.
    with pytest.raises(RuntimeError, match="Multiple sample sites named 'z'"):
        tr.add_node("z", type="sample", fn=dist.Normal(0.0, 1.0), value=torch.tensor(0.0))


def test_dense_graph_links_each_site_to_earlier_ones_except_across_sequential_iterations():
    def model():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0))
        for i in pplkit.plate("seq", 2):
            pplkit.sample(f"b_{i}", dist.Normal(a, 1.0))

    tr = poutine.trace(model, graph_type="dense").get_trace()
    assert tr.graph_type == "dense"
    assert tr.predecessors("b_0") == {"a"} and tr.predecessors("b_1") == {"a"}
    assert poutine.trace(model).get_trace().successors("a") == set()


def test_param_only_records_params_alone():
    def model():
        loc = pplkit.param("loc", torch.tensor(0.0))
        pplkit.sample("z", dist.Normal(loc, 1.0))

    tr = poutine.trace(model, param_only=True).get_trace()
    assert list(tr.nodes) == ["loc"]


def test_the_shape_check_lets_a_plate_of_any_size_take_its_dim():
    # Pyro's svi_part_iii: `with pyro.plate("data_plate"):` around a site of 10 observations.
    def model():
        with plate("data_plate"):
            pplkit.sample("obs", dist.Normal(0.0, 1.0), obs=torch.zeros(10))
        with plate("data_plate_2"):
            pplkit.sample("bad", dist.Normal(0.0, 1.0).expand([3, 1]), obs=torch.zeros(10))

    tr = poutine.trace(model).get_trace()
    compute_site_log_prob(tr.nodes["obs"], "model")  # dim -1 belongs to the sizeless plate
    with pytest.raises(ValueError, match="model site 'bad'.*dim -2"):
        compute_site_log_prob(tr.nodes["bad"], "model")


def test_log_prob_sum_key_is_the_sum_of_the_sites_scaled_log_prob_once_computed():
    def model():
        with poutine.scale(scale=2.0):
            pplkit.sample("x", dist.Normal(0.0, 1.0).expand([3]), obs=torch.tensor([0.0, 1.0, 2.0]))

    tr = poutine.trace(model).get_trace()
    assert "log_prob_sum" not in tr.nodes["x"]
    with pytest.raises(KeyError, match="compute_log_prob"):
        tr.nodes["x"]["log_prob_sum"]
    tr.compute_log_prob()
    # 2 * sum of -(x^2)/2 - log(sqrt(2 pi)) over x = 0, 1, 2
    expected = 2 * (-(0 + 1 + 4) / 2 - 3 * 0.5 * math.log(2 * math.pi))
    assert "log_prob_sum" in tr.nodes["x"]
    assert tr.nodes["x"]["log_prob_sum"].item() == pytest.approx(expected)

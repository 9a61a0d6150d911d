"""Plates: dim allocation, broadcasting, subsampling, sequential plates, shape errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine


def test_nested_plates_take_dims_minus_one_then_minus_two_and_broadcast():
    def model():
        with plate("outer", 3):
            with plate("inner", 4):
                return pplkit.sample("x", dist.Normal(0.0, 1.0))

    tr = poutine.trace(model).get_trace()
    site = tr["x"]
    assert site.value.shape == (4, 3)
    assert [(f.name, f.dim, f.size) for f in site.cond_indep_stack] == [("outer", -1, 3), ("inner", -2, 4)]
    assert site.fn.batch_shape == (4, 3)


def test_explicit_dims_and_a_dim_freed_after_exit():
    def model():
        with plate("a", 2, dim=-2):
            x = pplkit.sample("x", dist.Normal(0.0, 1.0))
        with plate("b", 5):
            y = pplkit.sample("y", dist.Normal(0.0, 1.0))
        return x, y

    x, y = model()
    assert x.shape == (2, 1) and y.shape == (5,)


def test_two_plates_wanting_one_dim_is_an_error_that_suggests_a_free_dim():
    with pytest.raises(ValueError, match=r"plates 'a' and 'b' both want dim -1.*dim=-2"):
        with plate("a", 2, dim=-1):
            with plate("b", 3, dim=-1):
                pass


def test_plate_yields_its_indices():
    with plate("data", 4) as idx:
        assert idx.tolist() == [0, 1, 2, 3]
    with plate("data", 10, subsample=torch.tensor([7, 2])) as idx:
        assert idx.tolist() == [7, 2]


def test_subsampling_scales_the_log_prob_by_size_over_subsample_size():
    data = torch.randn(100)

    def model():
        with plate("data", 100, subsample_size=10) as idx:
            pplkit.sample("obs", dist.Normal(0.0, 1.0), obs=data[idx])

    tr = poutine.trace(model).get_trace()
    idx = tr["data"].value
    assert tr["obs"].scale == 10.0
    expected = 10.0 * dist.Normal(0.0, 1.0).log_prob(data[idx]).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_subsample_indices_are_distinct_and_every_element_is_equally_likely():
    counts = torch.zeros(40)
    for _ in range(2000):
        with plate("data", 40, subsample_size=5) as idx:
            assert len(set(idx.tolist())) == 5 and 0 <= idx.min() and idx.max() < 40
            counts[idx] += 1
    # each element is drawn with probability 5/40: 250 expected per element, sd ~ 14.8
    assert (counts - 250).abs().max() < 6 * 14.8


def test_subsampling_a_huge_plate_does_not_touch_every_index():
    with plate("data", 10**12, subsample_size=256) as idx:
        assert idx.shape == (256,) and len(idx.unique()) == 256


def test_replay_gives_the_model_the_guides_subsample():
    def guide():
        with plate("data", 1000, subsample_size=8):
            pass

    def model():
        with plate("data", 1000, subsample_size=8) as idx:
            return idx

    guide_tr = poutine.trace(guide).get_trace()
    model_tr = poutine.trace(poutine.replay(model, trace=guide_tr)).get_trace()
    assert torch.equal(model_tr["data"].value, guide_tr["data"].value)


def test_param_with_event_dim_is_indexed_by_the_subsample():
    full = torch.arange(10.0)
    with plate("data", 10, subsample=torch.tensor([3, 7])):
        local = pplkit.param("local", full, event_dim=0)
    assert local.tolist() == [3.0, 7.0]


def test_observed_data_of_the_wrong_size_names_the_plate_and_dim():
    def model():
        with plate("data", 100):
            pplkit.sample("obs", dist.Normal(0.0, 1.0), obs=torch.zeros(170))

    with pytest.raises(ValueError, match=r"site 'obs'.*size 170 at dim -1.*plate 'data' has size 100"):
        poutine.trace(model).get_trace()


def test_full_data_in_a_subsampled_plate_suggests_indexing():
    def model():
        with plate("data", 100, subsample_size=10):
            pplkit.sample("obs", dist.Normal(0.0, 1.0), obs=torch.zeros(100))

    with pytest.raises(ValueError, match=r"subsampled to 10 of 100.*x\[idx\]"):
        model()


def test_distribution_batch_shape_disagreeing_with_the_plate_is_an_error():
    def model():
        with plate("data", 3):
            pplkit.sample("x", dist.Normal(torch.zeros(4), 1.0))

    expected = r"^Shape mismatch inside plate\('data'\) at site 'x' dim -1, 3 vs 4: its distribution has batch shape"
    with pytest.raises(ValueError, match=expected + r" \(4,\).*plate 'data' of size 3"):
        model()


def test_observed_value_that_cannot_broadcast_with_the_distribution_is_an_error():
    def model():
        with plate("data", 3):
            pplkit.sample("x", dist.Normal(torch.zeros(2, 3), 1.0), obs=torch.zeros(4, 3))

    with pytest.raises(ValueError, match=r"site 'x': the observed value has shape \(4, 3\).*does not broadcast"):
        model()


def test_sequential_plate_iterates_without_taking_a_dim():
    def model():
        xs = []
        for i in plate("loop", 3):
            xs.append(pplkit.sample(f"x_{i}", dist.Normal(0.0, 1.0)))
        return xs

    tr = poutine.trace(model).get_trace()
    frames = [tr[f"x_{i}"].cond_indep_stack for i in range(3)]
    assert [f[0].dim for f in frames] == [None, None, None]
    assert [f[0].counter for f in frames] == [0, 1, 2]
    assert all(tr[f"x_{i}"].value.shape == () for i in range(3))


def test_plate_arguments_are_checked():
    with pytest.raises(ValueError, match="dim must be a negative int"):
        plate("p", 3, dim=1)
    with pytest.raises(ValueError, match="subsample_size must be in 1..3"):
        plate("p", 3, subsample_size=5)
    with pytest.raises(ValueError, match="subsample_size needs the plate.s size"):
        plate("p", subsample_size=2)


def test_a_plate_without_a_size_marks_independence_and_broadcasts_nothing():
    # As in Pyro (svi_part_iii: `with pyro.plate("data_plate"):`): the sites inside get the plate's dim.
    with poutine.trace() as t:
        with plate("p") as idx:
            x = pplkit.sample("x", dist.Bernoulli(0.3), obs=torch.ones(4))
            z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    assert idx.numel() == 0 and x.shape == (4,) and z.shape == ()
    frame = t.trace.nodes["x"].cond_indep_stack[0]
    assert (frame.name, frame.dim) == ("p", -1)
    assert "p" not in t.trace.nodes  # no subsample draw


    with pytest.raises(ValueError, match="subsample_size needs the plate's size"):
        plate("p", subsample_size=2)


# -- Pyro's other ways of writing a plate ---------------------------------------------------


def test_a_plate_without_a_size_marks_the_dim_and_broadcasts_nothing():
    # Pyro's plate("name"): any size; the distribution keeps its own batch shape.
    def model():
        with plate("p"):
            return pplkit.sample("x", dist.Bernoulli(0.5).expand_by([10]))

    tr = poutine.trace(model).get_trace()
    assert tr["x"]["value"].shape == (10,) and "p" not in tr
    assert [(f.name, f.dim, f.size) for f in tr["x"]["cond_indep_stack"]] == [("p", -1, -1)]


def test_a_plate_given_only_its_subsample_takes_its_size_from_it():
    with poutine.trace() as tr, plate("p", subsample=torch.tensor([4, 1])) as idx:
        pplkit.sample("x", dist.Normal(0.0, 1.0))
    assert idx.tolist() == [4, 1] and tr.trace["x"]["value"].shape == (2,)


def test_plate_as_a_decorator_runs_each_call_in_a_fresh_plate():
    @plate("data", 5, subsample_size=2)
    def likelihood():
        return pplkit.sample("y", dist.Normal(0.0, 1.0))

    traces = [poutine.trace(likelihood).get_trace() for _ in range(20)]
    assert all(t["y"]["value"].shape == (2,) and t["y"]["scale"] == 2.5 for t in traces)
    assert len({tuple(t["data"]["value"].tolist()) for t in traces}) > 1  # a new subsample each call
    assert likelihood.__name__ == "likelihood"


def test_plate_stack_enters_one_plate_per_size_rightmost_last():
    with poutine.trace() as tr, pplkit.plate_stack("batch", (2, 3)):
        pplkit.sample("x", dist.Normal(0.0, 1.0))
    frames = {f.name: (f.dim, f.size) for f in tr.trace["x"]["cond_indep_stack"]}
    assert frames == {"batch_0": (-1, 3), "batch_1": (-2, 2)} and tr.trace["x"]["value"].shape == (2, 3)
    with pytest.raises(ValueError, match="rightmost_dim must be a negative int"), pplkit.plate_stack("b", (2,), 0):
        pass


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    event=st.integers(0, 3),
    batch_of_param=st.booleans(),
)
def test_plates_broadcast_any_sizes(sizes, event, batch_of_param):
    """Nested plates of random sizes give values of shape (..., size_2, size_1) + event."""
    loc = torch.zeros(sizes[0]) if batch_of_param else torch.tensor(0.0)

    def model():
        stack = [plate(f"p{i}", s) for i, s in enumerate(sizes)]
        for p in stack:
            p.__enter__()
        try:
            if event:
                fn = dist.Normal(loc[..., None], 1.0).expand(loc.shape + (event,)).to_event(1)
            else:
                fn = dist.Normal(loc, 1.0)
            return pplkit.sample("x", fn)
        finally:
            for p in reversed(stack):
                p.__exit__(None, None, None)

    tr = poutine.trace(model).get_trace()
    expected = tuple(reversed(sizes)) + ((event,) if event else ())
    assert tr["x"].value.shape == expected
    tr.compute_log_prob()
    assert tr["x"].log_prob.shape == tuple(reversed(sizes))


def test_subsample_takes_the_plates_rows_and_keeps_a_broadcast_dim():
    data = torch.arange(20.0).reshape(10, 2)
    with pplkit.plate("rows", 10, subsample_size=4, dim=-1) as idx:
        batch = pplkit.subsample(data, event_dim=1)
        assert torch.equal(batch, data[idx])
        assert pplkit.subsample(torch.ones(1, 2), event_dim=1).shape == (1, 2)
        with pytest.raises(ValueError, match=r"invalid shape of pyro.subsample.*\(3, 2\)"):
            pplkit.subsample(torch.ones(3, 2), event_dim=1)
    assert pplkit.subsample(data, event_dim=1) is data  # outside any plate: unchanged


def test_a_param_inside_a_plate_must_have_the_plates_size_or_one():
    with pplkit.plate("rows", 10, subsample_size=5) as idx:
        full = pplkit.param("per_row", torch.arange(10.0), event_dim=0)
        assert torch.equal(full.detach(), idx.float())
        assert pplkit.param("shared", torch.ones(3, 1), event_dim=0).shape == (3, 1)
        with pytest.raises(ValueError, match=r"invalid shape of pyro.param\('wrong'.*\(3, 5\)"):
            pplkit.param("wrong", torch.ones(3, 5), event_dim=0)


def test_pyros_top_level_markov_is_the_handler():
    from pplkit.handlers import markov

    assert pplkit.markov is markov


def test_a_plate_without_subsample_size_takes_a_replayed_subsample():
    def model(subsample_size=None):
        with pplkit.plate("rows", 20, subsample_size=subsample_size) as idx:
            pplkit.sample("x", dist.Normal(0.0, 1.0))
        return idx

    guide_trace = poutine.trace(model).get_trace(5)
    replayed = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace()
    assert torch.equal(replayed.nodes["rows"].value, guide_trace.nodes["rows"].value)
    replayed.compute_log_prob()
    assert replayed.nodes["x"].value.shape == (5,) and replayed.nodes["x"].scale == pytest.approx(4.0)
    with pytest.raises(ValueError, match="got 5 replayed indices but subsample_size=10"):
        poutine.replay(model, trace=guide_trace)(10)

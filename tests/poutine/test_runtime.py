"""poutine.runtime: effectful operations, am_i_wrapped, get_mask; the tutorial's lazy evaluation."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.poutine.messenger import Messenger
from pplkit.poutine.runtime import am_i_wrapped, effectful, get_mask


@effectful(type="apply")
def add(x, y):
    return x + y


@effectful(type="apply")
def normal(loc, scale):
    return dist.Normal(loc, scale)


class Lazy:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def evaluate(self):
        fn = self.fn.evaluate() if isinstance(self.fn, Lazy) else self.fn
        return fn(*(a.evaluate() if isinstance(a, Lazy) else a for a in self.args))


class LazyMessenger(Messenger):
    def _process_message(self, msg):
        if msg["type"] in ("apply", "sample") and not msg["done"]:
            msg["done"] = True
            msg["value"] = Lazy(msg["fn"], *msg["args"])


def test_effectful_runs_plainly_outside_handlers_and_is_seen_inside():
    assert add(1, 2) == 3
    seen = []

    class Spy(Messenger):
        def _pyro_apply(self, msg):
            seen.append((msg["type"], msg["args"]))

    with Spy():
        assert add(1, 2) == 3
    assert seen == [("apply", (1, 2))]


def test_an_effect_s_value_can_be_set_by_a_handler():
    class Double(Messenger):
        def _pyro_post_apply(self, msg):
            msg["value"] = 2 * msg["value"]

    with Double():
        assert add(1, 2) == 6


def test_lazy_messenger_defers_sampling_until_evaluate():
    # The effect_handlers tutorial's last example: sample from a lazily built distribution.
    def model(guess):
        weight = pplkit.sample("weight", normal(guess, 1.0))
        return pplkit.sample("measurement", normal(add(weight, 1.0), 0.5))

    with LazyMessenger():
        lazy = model(8.5)
    assert isinstance(lazy, Lazy)
    pplkit.set_rng_seed(3)
    value = lazy.evaluate()
    pplkit.set_rng_seed(3)
    weight = dist.Normal(8.5, 1.0)()
    expected = dist.Normal(weight + 1.0, 0.5)()
    assert torch.equal(value, expected)


def test_effect_sites_stay_out_of_traces():
    def model():
        return add(pplkit.sample("z", dist.Normal(0.0, 1.0)), 1.0)

    tr = poutine.trace(model).get_trace()
    assert list(tr.nodes) == ["z"]


def test_effectful_needs_a_new_type_name():
    with pytest.raises(TypeError, match="give the operation a type name"):
        effectful(lambda x: x)
    with pytest.raises(ValueError, match="pplkit.sample's"):
        effectful(lambda x: x, type="sample")


def test_am_i_wrapped_and_get_mask():
    assert not am_i_wrapped() and get_mask() is None
    with poutine.trace():
        assert am_i_wrapped() and get_mask() is None
    m = torch.tensor([True, False, True])
    with poutine.mask(mask=m), poutine.mask(mask=torch.tensor([True, True, False])):
        assert get_mask().tolist() == [True, False, False]
    with poutine.mask(mask=False):
        assert get_mask() is False


def test_get_plates_lists_the_enclosing_plates_outermost_first():
    from pplkit.poutine.runtime import get_plates

    assert get_plates() == ()
    with pplkit.plate("outer", 3):
        with pplkit.plate("inner", 2, dim=-3):
            frames = get_plates()
            assert [(f.name, f.dim, f.size) for f in frames] == [("outer", -1, 3), ("inner", -3, 2)]
            site_frames = poutine.trace(lambda: pplkit.sample("x", dist.Normal(0.0, 1.0))).get_trace()
            assert frames == site_frames.nodes["x"].cond_indep_stack


def test_the_dim_allocator_view_shows_held_dims_and_frees_them_on_error():
    from pplkit.poutine import runtime

    assert runtime._DIM_ALLOCATOR._stack == []
    with pplkit.plate("a", 2, dim=-2):
        assert runtime._DIM_ALLOCATOR._stack == [None, "a"]
        assert runtime._PYRO_STACK[-1].name == "a"
    try:
        with pplkit.plate("b", 2):
            raise KeyError("boom")
    except KeyError:
        pass
    assert runtime._DIM_ALLOCATOR._stack == []

"""poutine.util.prune_subsample_sites and the package's Pyro layout."""

from __future__ import annotations

import importlib

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.poutine.util import prune_subsample_sites


def test_prune_subsample_sites_drops_plate_draws_only():
    def model():
        with pplkit.plate("data", 10, subsample_size=3):
            pplkit.sample("x", dist.Normal(0.0, 1.0))

    tr = poutine.trace(model).get_trace()
    assert "data" in tr.nodes
    pruned = prune_subsample_sites(tr)
    assert list(pruned.nodes) == ["x"]
    assert "data" in tr.nodes  # the original is untouched
    assert pruned.nodes["x"] is tr.nodes["x"]


def test_pyro_module_layout_is_importable():
    for module, name in [
        ("runtime", "effectful"),
        ("runtime", "apply_stack"),
        ("runtime", "am_i_wrapped"),
        ("runtime", "get_mask"),
        ("messenger", "Messenger"),
        ("trace_messenger", "TraceMessenger"),
        ("condition_messenger", "ConditionMessenger"),
        ("block_messenger", "BlockMessenger"),
        ("replay_messenger", "ReplayMessenger"),
        ("do_messenger", "DoMessenger"),
        ("seed_messenger", "SeedMessenger"),
        ("lift_messenger", "LiftMessenger"),
        ("reparam_messenger", "ReparamMessenger"),
        ("escape_messenger", "EscapeMessenger"),
        ("infer_config_messenger", "InferConfigMessenger"),
        ("broadcast_messenger", "BroadcastMessenger"),
        ("util", "prune_subsample_sites"),
    ]:
        assert hasattr(importlib.import_module(f"pplkit.poutine.{module}"), name), (module, name)
    for handler in ["trace", "condition", "block", "replay", "lift", "reparam", "queue", "escape", "broadcast"]:
        assert callable(getattr(poutine, handler))
    assert poutine.Trace is pplkit.Trace


def test_block_messenger_hides_by_pyro_s_first_argument():
    from pplkit.poutine.block_messenger import BlockMessenger

    with poutine.trace() as t, BlockMessenger(lambda msg: msg["name"] == "a"):
        pplkit.sample("a", dist.Normal(0.0, 1.0))
        pplkit.sample("b", dist.Normal(0.0, 1.0))
    assert list(t.trace.nodes) == ["b"]
    assert torch.is_tensor(t.trace.nodes["b"]["value"])


def test_all_escape_and_discrete_escape_stop_at_new_latent_sites():
    def model():
        pplkit.sample("loc", dist.Normal(0.0, 1.0))
        pplkit.sample("k", dist.Bernoulli(0.5))
        pplkit.sample("y", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))

    from pplkit.poutine.util import all_escape, discrete_escape

    tr = poutine.trace(model).get_trace()
    seen = poutine.Trace()
    assert all_escape(seen, tr.nodes["loc"]) and all_escape(seen, tr.nodes["k"])
    assert not all_escape(seen, tr.nodes["y"])  # observed
    assert discrete_escape(seen, tr.nodes["k"]) and not discrete_escape(seen, tr.nodes["loc"])
    assert not all_escape(tr, tr.nodes["loc"])  # already in the partial trace


def test_block_plate_draws_a_global_inside_a_plate():
    from pplkit.poutine.plate_messenger import block_plate

    def model():
        with pplkit.plate("data", 4):
            with block_plate("data"):
                scale = pplkit.sample("scale", dist.LogNormal(0.0, 1.0))
            with block_plate(dim=-1):
                pplkit.sample("other", dist.Normal(0.0, 1.0))
            pplkit.sample("x", dist.Normal(0.0, scale))

    tr = poutine.trace(model).get_trace()
    assert tr.nodes["scale"].value.shape == () and tr.nodes["scale"].cond_indep_stack == ()
    assert tr.nodes["other"].cond_indep_stack == ()
    assert tr.nodes["x"].value.shape == (4,) and [f.name for f in tr.nodes["x"].cond_indep_stack] == ["data"]


def test_block_plate_without_that_plate_says_which_plates_there_are():
    import pytest

    from pplkit.poutine.plate_messenger import block_plate

    with pplkit.plate("rows", 2):
        with pytest.raises(ValueError, match=r"block_plate matched 0 messengers.*\['rows'\]"):
            with block_plate("cols"):
                pass
        with block_plate("cols", strict=False):
            assert pplkit.poutine.runtime.get_plates()[0].name == "rows"
    with pytest.raises(ValueError, match="exactly one of name= or dim="):
        with block_plate():
            pass

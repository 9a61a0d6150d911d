"""block: hide sites from outer handlers by name, type or predicate."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    pplkit.param("p", torch.tensor(1.0))
    pplkit.sample("a", dist.Normal(0.0, 1.0))
    pplkit.sample("b", dist.Normal(0.0, 1.0))
    pplkit.deterministic("d", torch.tensor(1.0))


def traced_names(**rule):
    with poutine.trace() as tr:
        with poutine.block(**rule):
            model()
    return list(tr.trace.nodes)


def test_block_hides_everything_by_default():
    assert traced_names() == []


@pytest.mark.parametrize(
    "rule, shown",
    [
        ({"hide": ["a"]}, ["p", "b", "d"]),
        ({"expose": ["a"]}, ["a"]),
        ({"hide_types": ["param"]}, ["a", "b", "d"]),
        ({"expose_types": ["sample"]}, ["a", "b", "d"]),  # Pyro files deterministic under "sample"
        ({"hide_types": ["deterministic"]}, ["p", "a", "b"]),
        ({"hide_fn": lambda msg: msg.name == "b"}, ["p", "a", "d"]),
        ({"expose_fn": lambda msg: msg.name == "b"}, ["b"]),
    ],
)
def test_block_rules(rule, shown):
    assert traced_names(**rule) == shown


def test_block_inside_trace_still_runs_the_hidden_sites():
    def m():
        with poutine.block(hide=["z"]):
            z = pplkit.sample("z", dist.Normal(0.0, 1.0))
        return pplkit.sample("x", dist.Normal(z, 1.0))

    tr = poutine.trace(m).get_trace()
    assert list(tr.nodes) == ["x"] and tr["x"].fn.loc.shape == ()


def test_block_checks_its_rules():
    with pytest.raises(ValueError, match="unknown site type 'samples'"):
        poutine.block(hide_types=["samples"])
    with pytest.raises(ValueError, match=r"site\(s\) \['a'\] are both hidden and exposed"):
        poutine.block(hide=["a"], expose=["a"])
    with pytest.raises(ValueError, match="hide_fn or expose_fn, not both"):
        poutine.block(hide_fn=lambda m: True, expose_fn=lambda m: True)


def observed_model():
    pplkit.param("p", torch.tensor(1.0))
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    pplkit.sample("x", dist.Normal(z, 1.0), obs=torch.tensor(0.5))
    pplkit.deterministic("d", z + 1)
    pplkit.factor("f", torch.tensor(-1.0))


def observed_names(**rule):
    with poutine.trace() as tr, poutine.block(**rule):
        observed_model()
    return list(tr.trace.nodes)


@pytest.mark.parametrize(
    "rule, shown",
    [
        # Pyro files observed samples, deterministic sites and factors under "observe".
        ({"hide_types": ["observe"]}, ["p", "z"]),
        ({"expose_types": ["observe"]}, ["x", "d", "f"]),
        # Several rules together, combined as Pyro combines them.
        ({"hide": ["z"], "hide_types": ["param"]}, ["x", "d", "f"]),
        ({"expose": ["z"], "expose_types": ["param"]}, ["p", "z"]),
        ({"hide": ["x"], "expose_types": ["sample"]}, ["z", "d", "f"]),
        ({"hide_all": False, "expose_all": True}, ["p", "z", "x", "d", "f"]),
        ({"expose_all": True, "hide": ["d"]}, ["p", "z", "x", "f"]),
        ({"hide_fn": lambda msg: None}, ["p", "z", "x", "d", "f"]),  # a None answer shows the site
    ],
)
def test_block_combines_rules_as_pyro(rule, shown):
    assert observed_names(**rule) == shown


def test_a_blocked_model_pickles_with_its_rule():
    import pickle

    from pplkit.handlers import block as block_handler

    handler = block_handler(hide=["a"], expose_types=["param"])
    restored = pickle.loads(pickle.dumps(handler))
    assert restored._hides == handler._hides

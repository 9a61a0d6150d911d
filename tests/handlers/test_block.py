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


def test_block_takes_one_rule_and_known_types():
    with pytest.raises(ValueError, match="give one of"):
        poutine.block(hide=["a"], expose=["b"])
    with pytest.raises(ValueError, match="unknown site type 'samples'"):
        poutine.block(hide_types=["samples"])

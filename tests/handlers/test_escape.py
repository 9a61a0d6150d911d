"""escape: leave the run at a chosen site, holding its unsampled message."""

from __future__ import annotations

import pytest

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.runtime import get_handler_stack


def model():
    a = pplkit.sample("a", dist.Normal(0.0, 1.0))
    b = pplkit.sample("b", dist.Normal(a, 1.0))
    return pplkit.sample("c", dist.Normal(b, 1.0))


def test_escape_stops_at_the_site_before_sampling_it():
    with poutine.trace() as t, pytest.raises(poutine.NonlocalExit) as exit_:
        poutine.escape(model, escape_fn=lambda msg: msg["name"] == "b")()
    site = exit_.value.site
    assert site.name == "b" and site.value is None and site.done
    assert site.fn.loc is t.trace.nodes["a"].value  # b's distribution, built from a's draw
    assert list(t.trace.nodes) == ["a"]  # the outer trace never saw b
    assert get_handler_stack() == []


def test_inner_handlers_finish_with_the_site_before_the_exit():
    inner = poutine.trace(model)
    with pytest.raises(poutine.NonlocalExit):
        poutine.escape(inner, escape_fn=lambda msg: msg["name"] == "b")()
    assert list(inner.trace.nodes) == ["a", "b"]


def test_no_match_runs_to_the_end():
    assert poutine.escape(model, escape_fn=lambda msg: False)() is not None

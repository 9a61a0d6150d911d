"""The trace handler: recording, and notes on errors raised inside a model."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def test_get_trace_records_sites_in_execution_order():
    def model():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0))
        pplkit.param("p", torch.tensor(1.0))
        pplkit.sample("b", dist.Normal(a, 1.0))

    assert list(poutine.trace(model).get_trace().nodes) == ["a", "p", "b"]


def test_each_run_gets_a_fresh_trace():
    traced = poutine.trace(lambda: pplkit.sample("x", dist.Normal(0.0, 1.0)))
    first = traced.get_trace()
    second = traced.get_trace()
    assert first is not second and first["x"] is not second["x"]


def test_an_error_inside_the_model_keeps_its_type_and_gains_a_note_naming_the_last_site():
    def model():
        pplkit.sample("x", dist.Normal(0.0, 1.0))
        scale = torch.tensor(-1.0)
        pplkit.sample("y", dist.Normal(0.0, scale))

    with pytest.raises(ValueError) as info:
        poutine.trace(model).get_trace()
    notes = "\n".join(info.value.__notes__)
    assert "after site 'x'" in notes and "Trace Shapes:" in notes
    assert "scale" in str(info.value)


def test_nested_traces_add_one_note():
    def model():
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError) as info:
        poutine.trace(poutine.trace(model)).get_trace()
    assert len(info.value.__notes__) == 1

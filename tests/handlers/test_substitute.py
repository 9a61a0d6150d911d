"""substitute: fixed values for params."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    w = pplkit.param("w", torch.tensor(1.0))
    return pplkit.sample("x", dist.Normal(w, 1.0))


def test_substitute_replaces_param_values_without_touching_the_store():
    tr = poutine.trace(poutine.substitute(model, data={"w": torch.tensor(7.0)})).get_trace()
    assert tr["w"].value.item() == 7.0 and tr["x"].fn.loc.item() == 7.0
    assert "w" not in pplkit.get_param_store()


def test_substitute_fn_and_argument_checks():
    tr = poutine.trace(poutine.substitute(model, substitute_fn=lambda msg: torch.tensor(2.0))).get_trace()
    assert tr["w"].value.item() == 2.0
    with pytest.raises(ValueError, match="exactly one"):
        poutine.substitute(model)


def test_substitute_leaves_sample_sites_alone_as_in_pyro():
    tr = poutine.trace(poutine.substitute(model, data={"x": torch.tensor(2.0), "w": torch.tensor(0.0)})).get_trace()
    assert not tr["x"].is_observed

"""reparam: a site rewritten by a reparameteriser; config by dict or function."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer.reparam import LocScaleReparam


def model():
    return pplkit.sample("theta", dist.Normal(1.0, 2.0))


def test_reparam_by_dict_and_by_function_adds_the_auxiliary_site():
    for config in ({"theta": LocScaleReparam(centered=0.0)}, lambda msg: LocScaleReparam(centered=0.0)):
        tr = poutine.trace(poutine.reparam(model, config=config)).get_trace()
        assert list(tr.nodes) == ["theta_decentered", "theta"]
        assert tr.stochastic_nodes == ["theta_decentered"]
        assert torch.allclose(tr.nodes["theta"].value, 1.0 + 2.0 * tr.nodes["theta_decentered"].value)


def test_sites_not_in_the_config_are_left_alone():
    tr = poutine.trace(poutine.reparam(model, config={"other": LocScaleReparam(0.0)})).get_trace()
    assert list(tr.nodes) == ["theta"]
    with pytest.raises(TypeError, match="reparam needs config="):
        poutine.reparam(model, config=[LocScaleReparam()])

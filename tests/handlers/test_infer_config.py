"""infer_config: options added to sites' infer dicts without editing the model."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    pplkit.param("p", torch.tensor(0.3))
    pplkit.sample("z", dist.Bernoulli(0.3), infer={"keep": 1})
    pplkit.sample("x", dist.Normal(0.0, 1.0))


def test_config_fn_updates_each_site_s_infer_dict():
    def config(msg):
        return {"enumerate": "parallel"} if msg["name"] == "z" else {"seen": msg["type"]}

    tr = poutine.trace(poutine.infer_config(model, config_fn=config)).get_trace()
    assert tr.nodes["z"].infer == {"keep": 1, "enumerate": "parallel"}  # merged, not replaced
    assert tr.nodes["x"].infer == {"seen": "sample"}
    assert tr.nodes["p"].infer == {"seen": "param"}


def test_infer_config_needs_a_function():
    with pytest.raises(TypeError, match="config_fn= as a function"):
        poutine.infer_config(model, config_fn={"z": {}})

"""run_guide_and_model: a messenger guide runs the model once and hands over both traces."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import scale
from pplkit.infer import Importance, Trace_ELBO, TraceGraph_ELBO, TraceMeanField_ELBO
from pplkit.infer.autoguide import AutoNormalMessenger
from pplkit.infer.traces import run_guide_and_model

DATA = torch.tensor([0.3, 1.2])
calls = {"model": 0}


def model(data):
    calls["model"] += 1
    z = sample("z", dist.Normal(0.0, 1.0))
    with plate("data", len(data)):
        sample("obs", dist.Normal(z, 1.0), obs=data)
    return z


def test_a_messenger_guide_runs_the_model_once_and_pairs_the_traces():
    guide = AutoNormalMessenger(model)
    calls["model"] = 0
    model_trace, guide_trace, returned = run_guide_and_model(model, guide, (DATA,), {})
    assert calls["model"] == 1
    assert returned is guide_trace.nodes["z"].value is model_trace.nodes["z"].value
    assert isinstance(model_trace.nodes["z"].fn, dist.Normal)  # the prior
    assert "obs" in model_trace.nodes and "obs" not in guide_trace.nodes


def test_a_messenger_inside_a_handler_is_found():
    guide = AutoNormalMessenger(model)
    model_trace, guide_trace, _ = run_guide_and_model(model, scale(guide, scale=0.5), (DATA,), {})
    assert guide_trace.nodes["z"].scale == 0.5 and "obs" in model_trace.nodes


@pytest.mark.parametrize("elbo", [Trace_ELBO(), TraceMeanField_ELBO(), TraceGraph_ELBO()])
def test_the_elbos_agree_on_one_draw(elbo):
    # With the guide at N(0, 1) (the prior) the loss is -log p(x | z) for the drawn z.
    guide = AutoNormalMessenger(model, init_scale=1.0)
    torch.manual_seed(0)
    loss = elbo.loss(model, guide, DATA)
    z = guide.trace.nodes["z"].value
    expected = -dist.Normal(z, 1.0).log_prob(DATA).sum().item()
    assert loss == pytest.approx(expected, rel=1e-5)


def test_importance_weights_with_a_messenger_guide():
    # The guide at the prior: each log weight is the log likelihood of its draw.
    guide = AutoNormalMessenger(model, init_scale=1.0)
    posterior = Importance(model, guide, num_samples=5).run(DATA)
    z = posterior.samples["z"]
    expected = dist.Normal(z.unsqueeze(-1), 1.0).log_prob(DATA).sum(-1)
    assert torch.allclose(posterior.log_weights, expected, rtol=1e-5)
    assert torch.equal(posterior.samples["_RETURN"], z)  # the model's return value, from the one run


def test_traceenum_refuses_a_messenger_guide_as_pyro_does():
    from pplkit.infer import TraceEnum_ELBO

    with pytest.raises(NotImplementedError, match="GuideMessenger.*Trace_ELBO"):
        TraceEnum_ELBO(max_plate_nesting=1).loss(model, AutoNormalMessenger(model), DATA)

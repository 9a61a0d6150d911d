"""replay: reuse a trace's values, and composition of handlers."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine


def model(data):
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    with plate("data", len(data)):
        pplkit.sample("obs", dist.Normal(z, 1.0), obs=data)


def guide(data):
    loc = pplkit.param("loc", torch.tensor(0.3))
    pplkit.sample("z", dist.Normal(loc, 1.0))


def test_trace_of_replay_gives_the_model_the_guides_values():
    data = torch.randn(5)
    guide_tr = poutine.trace(guide).get_trace(data)
    model_tr = poutine.trace(poutine.replay(model, trace=guide_tr)).get_trace(data)
    assert torch.equal(model_tr["z"].value, guide_tr["z"].value)
    z = guide_tr["z"].value
    expected = dist.Normal(0.0, 1.0).log_prob(z) + dist.Normal(z, 1.0).log_prob(data).sum()
    assert torch.allclose(model_tr.log_prob_sum(), expected)


def test_replay_does_not_touch_observed_sites():
    data = torch.randn(3)

    def sneaky_guide(data):
        pplkit.sample("z", dist.Normal(0.0, 1.0))
        with plate("data", 3):
            pplkit.sample("obs", dist.Normal(0.0, 1.0))

    guide_tr = poutine.trace(sneaky_guide).get_trace(data)
    model_tr = poutine.trace(poutine.replay(model, trace=guide_tr)).get_trace(data)
    assert torch.equal(model_tr["obs"].value, data)


def test_replaying_an_observed_site_as_latent_is_an_error():
    def observed_guide():
        pplkit.sample("z", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))

    def latent_model():
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    guide_tr = poutine.trace(observed_guide).get_trace()
    with pytest.raises(RuntimeError, match="site 'z' is a latent sample site here but observed"):
        poutine.replay(latent_model, trace=guide_tr)()


def test_trace_of_condition_composes():
    data = torch.randn(4)
    conditioned = pplkit.condition(model, data={"z": torch.tensor(1.5)})
    tr = poutine.trace(conditioned).get_trace(data)
    assert tr["z"].is_observed and tr.stochastic_nodes == []
    expected = dist.Normal(0.0, 1.0).log_prob(torch.tensor(1.5)) + dist.Normal(1.5, 1.0).log_prob(data).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_block_inside_trace_of_replay():
    data = torch.randn(2)
    guide_tr = poutine.trace(guide).get_trace(data)
    tr = poutine.trace(poutine.block(poutine.replay(model, trace=guide_tr), hide=["obs"])).get_trace(data)
    assert list(tr.nodes) == ["z", "data"]
    assert torch.equal(tr["z"].value, guide_tr["z"].value)


def test_replay_with_params():
    tr = poutine.trace(poutine.replay(guide, params={"loc": torch.tensor(9.0)})).get_trace(None)
    assert tr["loc"].value.item() == 9.0


def test_replay_needs_something_to_replay():
    with pytest.raises(ValueError, match="needs a trace"):
        poutine.replay(model)


def test_a_value_for_the_model_slot_is_a_value_error_as_in_pyro():
    from pplkit.handlers import mask

    with pytest.raises(ValueError, match=r"mask: False is not callable.*mask\(mask=False\)"):
        with mask(False):
            pass

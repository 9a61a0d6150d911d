"""The low-level training loop of Pyro's effect_handlers tutorial: unconstrained(), optim.step, zero_grads."""

from __future__ import annotations

import torch
from torch.distributions import constraints

import pplkit as pyro
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer.util import zero_grads


def test_param_values_answer_their_unconstrained_leaf():
    scale = pyro.param("scale", torch.tensor(2.0), constraint=constraints.positive)
    loc = pyro.param("loc", torch.tensor(0.5))
    store = pyro.get_param_store()
    assert scale.unconstrained() is store.unconstrained("scale")
    assert loc.unconstrained() is store.unconstrained("loc")
    assert torch.allclose(scale.unconstrained(), torch.tensor(2.0).log())


def test_a_hand_written_loop_with_step_and_zero_grads_fits_the_mean():
    data = torch.tensor([1.0, 2.0, 3.0, 6.0])

    def model():
        loc = pyro.param("loc", torch.tensor(0.0))
        scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
        with pyro.plate("data", len(data)):
            pyro.sample("obs", dist.Normal(loc, scale), obs=data)

    optimizer = pyro.optim.Adam({"lr": 0.1})
    for _ in range(300):
        with poutine.trace() as param_capture:
            with poutine.block(hide_fn=lambda site: site["type"] != "param"):
                loss = -poutine.trace(model).get_trace().log_prob_sum()
        loss.backward()
        params = {site["value"].unconstrained() for site in param_capture.trace.nodes.values()}
        assert len(params) == 2
        optimizer.step(params)
        zero_grads(params)
        assert all(float(p.grad.abs().sum()) == 0.0 for p in params)
    store = pyro.get_param_store()
    assert abs(store["loc"].item() - data.mean().item()) < 1e-2
    assert abs(store["scale"].item() - data.std(unbiased=False).item()) < 2e-2

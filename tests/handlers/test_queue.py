"""queue: breadth-first enumeration of discrete sites, checked against the exact posterior."""

from __future__ import annotations

import queue as queue_module

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    a = pplkit.sample("a", dist.Bernoulli(0.3))
    b = pplkit.sample("b", dist.Categorical(torch.tensor([0.2, 0.5, 0.3])))
    pplkit.sample("y", dist.Normal(a + b, 1.0), obs=torch.tensor(2.0))
    return a, b


def test_queue_visits_every_assignment_once_with_its_joint_density():
    q = queue_module.Queue()
    q.put(poutine.Trace())
    enumerated = poutine.queue(model, queue=q)
    seen = {}
    while not q.empty():
        tr = poutine.trace(enumerated).get_trace()
        key = (int(tr.nodes["a"].value), int(tr.nodes["b"].value))
        seen[key] = tr.log_prob_sum()
    assert sorted(seen) == [(a, b) for a in (0, 1) for b in (0, 1, 2)]
    for (a, b), log_joint in seen.items():
        exact = (
            dist.Bernoulli(0.3).log_prob(torch.tensor(float(a)))
            + torch.log(torch.tensor([0.2, 0.5, 0.3])[b])
            + dist.Normal(float(a + b), 1.0).log_prob(torch.tensor(2.0))
        )
        assert torch.allclose(log_joint, exact)


def test_queue_as_a_decorator_and_its_errors():
    q = queue_module.Queue()
    with pytest.raises(ValueError, match="queue is empty"):
        poutine.queue(queue=q)(model)()
    with pytest.raises(TypeError, match="queue needs queue="):
        poutine.queue(model)
    q.put(poutine.Trace())
    with pytest.raises(ValueError, match="max_tries=1"):
        poutine.queue(model, queue=q, max_tries=1)()

"""AutoDiscreteParallel: enumerated guide probs reach the exact posterior of each assignment."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import SVI, TraceEnum_ELBO
from pplkit.infer.autoguide import AutoDiscreteParallel
from pplkit.optim import Adam

DATA = torch.tensor([0.0, 1.0, 9.0, 5.0])
LOCS = torch.tensor([0.0, 10.0])
WEIGHTS = torch.tensor([0.3, 0.7])


def mixture(data):
    with plate("data", len(data)):
        assignment = sample("assignment", dist.Categorical(WEIGHTS))
        sample("obs", dist.Normal(LOCS[assignment], 2.0), obs=data)


def exact_responsibilities(data):
    joint = WEIGHTS.log() + dist.Normal(LOCS, 2.0).log_prob(data[:, None])
    return joint.softmax(-1), joint.logsumexp(-1).sum()


def test_the_probs_learn_the_exact_responsibilities_and_the_elbo_is_the_evidence():
    guide = AutoDiscreteParallel(mixture)
    elbo = TraceEnum_ELBO(max_plate_nesting=1)
    svi = SVI(mixture, guide, Adam({"lr": 0.1}), elbo)
    for _ in range(300):
        svi.step(DATA)
    responsibilities, log_evidence = exact_responsibilities(DATA)
    probs = pplkit.param("AutoDiscreteParallel.assignment_probs")
    assert probs.shape == (4, 2)
    assert torch.allclose(probs, responsibilities, atol=0.02)
    # Enumerated, the loss has no sampling noise: at the exact posterior it is -log p(data).
    pplkit.get_param_store().adopt(
        "AutoDiscreteParallel.assignment_probs",
        torch.nn.Parameter(
            torch.distributions.transform_to(torch.distributions.constraints.simplex).inv(responsibilities)
        ),
        torch.distributions.constraints.simplex,
        1,
    )
    assert elbo.loss(mixture, guide, DATA) == pytest.approx(-log_evidence.item(), abs=1e-4)


def test_sites_are_marked_for_parallel_enumeration_and_others_refused():
    def coins():
        with plate("flips", 3):
            sample("coin", dist.Bernoulli(0.3))

    guide = AutoDiscreteParallel(coins)
    with trace() as tr:
        guide()
    site = tr.trace.nodes["coin"]
    assert site.infer["enumerate"] == "parallel" and site.fn.batch_shape == (3,)
    assert pplkit.param("AutoDiscreteParallel.coin_probs").tolist() == [0.5, 0.5, 0.5]

    def mixed():
        sample("z", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="site 'z' has a Normal prior.*block"):
        AutoDiscreteParallel(mixed)()

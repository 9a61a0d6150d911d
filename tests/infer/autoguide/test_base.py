"""What all autoguides share: one lazy trace of the model, wherever the first call happens."""

from __future__ import annotations

import threading

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import AutoNormal


def model(x):
    a = sample("a", dist.Normal(0.0, 1.0))
    with plate("data", len(x)):
        z = sample("z", dist.Normal(a, 1.0))
        sample("obs", dist.Normal(z, 1.0), obs=x)


X = torch.zeros(6)


def test_the_model_is_traced_once_and_lazily():
    calls = []

    def counting_model(x):
        calls.append(1)
        model(x)

    guide = AutoNormal(counting_model)
    assert guide.prototype_trace is None and calls == []
    guide(X)
    guide(X)
    assert len(calls) == 1
    assert set(guide.sites) == {"a", "z"}


def test_first_call_under_an_outer_plate_keeps_the_models_plate_dims():
    guide = AutoNormal(model)
    with plate("samples", 3, dim=-2):
        first = guide(X)
    assert guide.sites["z"].frames[0].dim == -1  # not pushed left by the outer plate
    assert first["z"].shape == (3, 6)
    assert guide(X)["z"].shape == (6,)


def test_create_plates_gives_the_guide_the_users_subsample():
    def subsampled(x, idx):
        with plate("data", 100, subsample=idx):
            sample("z", dist.Normal(0.0, 1.0))

    idx = torch.tensor([3, 7, 42])
    guide = AutoNormal(subsampled, create_plates=lambda x, idx: plate("data", 100, subsample=idx))
    guide(torch.zeros(100), idx)
    pplkit.get_param_store()["AutoNormal.locs.z"] = torch.arange(100.0)
    with trace() as tracer:
        guide(torch.zeros(100), torch.tensor([5, 6, 9]))
    assert torch.equal(tracer.trace.nodes["z"].fn.loc, torch.tensor([5.0, 6.0, 9.0]))


def test_concurrent_first_calls_set_up_once():
    calls = []

    def counting_model(x):
        calls.append(1)
        model(x)

    guide = AutoNormal(counting_model)
    threads = [threading.Thread(target=guide, args=(X,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1

"""seed: reproducible runs that leave the global random state as it was."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    return pplkit.sample("x", dist.Normal(0.0, 1.0)), random.random()


def test_the_same_seed_gives_the_same_draws():
    assert poutine.seed(model, rng_seed=3)() == poutine.seed(model, rng_seed=3)()
    assert poutine.seed(model, rng_seed=3)() != poutine.seed(model, rng_seed=4)()


def test_the_draws_are_those_after_set_rng_seed():
    with poutine.seed(rng_seed=11):
        inside = (torch.rand(3), random.random(), np.random.rand())
    pplkit.set_rng_seed(11)
    assert torch.equal(torch.rand(3), inside[0])
    assert (random.random(), np.random.rand()) == inside[1:]


def test_the_global_state_is_restored():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    with poutine.seed(rng_seed=0):
        torch.rand(5)
    assert torch.equal(torch.rand(1), expected)


def test_random_and_numpy_states_are_restored_too():
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.rand(), np.random.randn())
    random.seed(5)
    np.random.seed(5)
    with poutine.seed(rng_seed=0):
        random.random(), np.random.rand(3), np.random.randn()
    assert (random.random(), np.random.rand(), np.random.randn()) == expected


def test_the_slow_global_seeding_is_left_out(monkeypatch):
    # torch.manual_seed queues a seed for CUDA with a formatted stack trace while CUDA is not
    # started: a few times the cost of drawing a small model, which runs under this handler.
    def slow(*args):
        raise AssertionError("seed called torch.manual_seed or seeded CUDA before CUDA started")

    monkeypatch.setattr(torch, "manual_seed", slow)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", slow)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    with poutine.seed(rng_seed=0):
        torch.rand(1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_draws_are_seeded_and_its_state_restored_once_cuda_is_started():
    torch.zeros(1, device="cuda")  # starts CUDA
    torch.cuda.manual_seed_all(123)
    expected = torch.rand(2, device="cuda")
    torch.cuda.manual_seed_all(123)
    with poutine.seed(rng_seed=0):
        first = torch.rand(4, device="cuda")
    assert torch.equal(torch.rand(2, device="cuda"), expected)
    with poutine.seed(rng_seed=0):
        assert torch.equal(torch.rand(4, device="cuda"), first)


def test_seed_needs_an_int():
    with pytest.raises(TypeError, match="rng_seed"):
        poutine.seed(model)

"""seed: reproducible runs that leave the global random state as it was."""

from __future__ import annotations

import random

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


def test_the_global_state_is_restored():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    with poutine.seed(rng_seed=0):
        torch.rand(5)
    assert torch.equal(torch.rand(1), expected)


def test_seed_needs_an_int():
    with pytest.raises(TypeError, match="rng_seed"):
        poutine.seed(model)

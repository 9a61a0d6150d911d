"""Validation switches and seeds."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.util import validation_disabled


def test_enable_validation_switches_argument_checks():
    pplkit.enable_validation(False)
    assert not pplkit.is_validation_enabled()
    dist.Normal(0.0, -1.0)
    pplkit.enable_validation(True)
    with pytest.raises(ValueError, match="scale"):
        dist.Normal(0.0, -1.0)


def test_validation_disabled_is_per_thread_and_restored():
    seen_in_other_thread: list[bool] = []
    with validation_disabled():
        dist.Normal(0.0, -1.0)  # no check in this thread
        worker = threading.Thread(target=lambda: seen_in_other_thread.append(dist.Normal(0.0, 1.0)._validate_args))
        worker.start()
        worker.join()
        with validation_disabled():
            pass
        dist.Normal(0.0, -1.0)  # a nested block leaves the outer one in force
    assert seen_in_other_thread == [True]
    with pytest.raises(ValueError):
        dist.Normal(0.0, -1.0)


def test_an_explicit_validate_args_wins_over_the_default():
    with validation_disabled():
        with pytest.raises(ValueError):
            dist.Normal(0.0, -1.0, validate_args=True)
    assert dist.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0


def test_set_rng_seed_seeds_torch_random_and_numpy():
    pplkit.set_rng_seed(5)
    first = (torch.rand(1).item(), random.random(), np.random.rand())
    pplkit.set_rng_seed(5)
    assert (torch.rand(1).item(), random.random(), np.random.rand()) == first

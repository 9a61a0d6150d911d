"""scale and mask handlers."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine


def model():
    pplkit.sample("x", dist.Normal(0.0, 1.0).expand([3]), obs=torch.zeros(3))


def test_scale_multiplies_and_nests():
    with poutine.trace() as tr:
        with poutine.scale(scale=2.0), poutine.scale(scale=5.0):
            model()
    assert tr.trace["x"].scale == 10.0
    expected = 10 * dist.Normal(0.0, 1.0).log_prob(torch.zeros(3)).sum()
    assert torch.allclose(tr.trace.log_prob_sum(), expected)


def test_mask_combines_with_and():
    with poutine.trace() as tr:
        with poutine.mask(mask=torch.tensor([True, True, False])), poutine.mask(mask=torch.tensor([False, True, True])):
            model()
    assert tr.trace["x"].mask.tolist() == [False, True, False]


def test_bad_scale_or_mask_arguments():
    with pytest.raises(ValueError, match="scale must be positive"):
        poutine.scale(scale=0.0)
    with pytest.raises(TypeError, match="bool tensor"):
        poutine.mask(mask=torch.tensor([1.0]))

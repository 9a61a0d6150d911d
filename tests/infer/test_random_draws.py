"""A step's random draws, recorded once and replayed: the same noise as the eager calls, in order."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist
from pplkit.infer.random_draws import RecordDraws, SupplyDraws


def draws_of_a_step() -> list[torch.Tensor]:
    return [
        dist.Normal(torch.zeros(3), 1.0).rsample(),  # torch.empty(...).normal_()
        dist.Uniform(0.0, 2.0).rsample((2,)),  # torch.rand
        torch.randperm(5),
    ]


def test_replayed_draws_are_the_eager_draws_from_the_same_seed():
    recorder = RecordDraws()
    with recorder:
        draws_of_a_step()
    assert len(recorder.draws) == 3 and recorder.unsupported == ""
    torch.manual_seed(4)
    eager = draws_of_a_step()
    torch.manual_seed(4)
    noise = [draw.draw() for draw in recorder.draws]
    torch.manual_seed(4)
    # Supplied back, the step's own calls return that noise: Normal's loc and scale apply to it.
    with SupplyDraws(noise) as supply:
        supplied = draws_of_a_step()
    assert supply.used == 3
    for a, b in zip(eager, supplied):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(noise[1] * 2.0, eager[1])


def test_a_draw_whose_noise_depends_on_values_is_named():
    recorder = RecordDraws()
    with recorder:
        dist.Gamma(torch.tensor(2.0), 1.0).rsample()
        dist.Bernoulli(torch.tensor(0.3)).sample()
    assert recorder.unsupported == "torch._standard_gamma with tensor arguments"


def test_a_step_that_draws_more_than_its_probe_is_refused():
    with SupplyDraws([torch.zeros(())]), pytest.raises(RuntimeError, match="more random numbers"):
        torch.randn(())
        torch.randn(())

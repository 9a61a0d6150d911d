"""The non-reparameterised fakes: the same densities as the real families, no pathwise gradient."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist
from pplkit import poutine
from pplkit.distributions.testing import fakes


@pytest.mark.parametrize(
    "fake, real, args",
    [
        (fakes.NonreparameterizedBeta, dist.Beta, (2.0, 3.0)),
        (fakes.NonreparameterizedNormal, dist.Normal, (0.5, 2.0)),
        (fakes.NonreparameterizedGamma, dist.Gamma, (2.0, 3.0)),
    ],
)
def test_a_fake_scores_as_the_real_family_and_samples_without_gradient(fake, real, args):
    params = [torch.tensor(a, requires_grad=True) for a in args]
    d = fake(*params)
    assert not d.has_rsample and real(*args).has_rsample
    value = torch.tensor(0.4)
    assert torch.allclose(d.log_prob(value), real(*args).log_prob(value))
    tr = poutine.trace(lambda: __import__("pplkit").sample("z", fake(*params))).get_trace()
    assert not tr.nodes["z"].value.requires_grad

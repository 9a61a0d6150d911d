"""A plain torch.distributions object in a model is used as the matching pplkit class."""

from __future__ import annotations

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.distributions.wrap import as_pplkit_distribution


def test_a_torch_distribution_gains_the_helpers_and_keeps_its_density():
    plain = torch.distributions.Normal(torch.zeros(3), 2.0)
    wrapped = as_pplkit_distribution(plain)
    assert isinstance(wrapped, dist.Normal) and type(plain) is torch.distributions.Normal  # the user's is unchanged
    x = torch.tensor([0.5, -1.0, 2.0])
    assert torch.equal(wrapped.log_prob(x), plain.log_prob(x))
    assert wrapped.shape((2,)) == (2, 3) and wrapped.to_event(1).event_shape == (3,)


def test_a_pplkit_distribution_is_passed_through_and_a_users_subclass_is_wrapped_once():
    d = dist.Normal(0.0, 1.0)
    assert as_pplkit_distribution(d) is d

    class Shifted(torch.distributions.Normal):
        pass

    a, b = as_pplkit_distribution(Shifted(0.0, 1.0)), as_pplkit_distribution(Shifted(1.0, 1.0))
    assert type(a) is type(b) and isinstance(a, Shifted) and hasattr(a, "expand_by")


def test_an_explicit_validate_args_is_kept():
    wrapped = as_pplkit_distribution(torch.distributions.Normal(0.0, 1.0, validate_args=False))
    assert wrapped._validate_args is False


def test_sample_sites_record_the_wrapped_distribution_and_int_obs_as_floats():
    def model():
        pplkit.sample("z", torch.distributions.Normal(0.0, 1.0))
        pplkit.sample("k", dist.Bernoulli(0.3), obs=torch.tensor([1, 0], dtype=torch.int64))
        pplkit.sample("c", dist.Categorical(torch.ones(3)), obs=torch.tensor([2, 0]))

    tr = poutine.trace(model).get_trace()
    assert isinstance(tr.nodes["z"].fn, dist.Normal)
    assert tr.nodes["k"].value.dtype == torch.get_default_dtype()
    assert tr.nodes["c"].value.dtype == torch.int64  # Categorical values index, so they stay integers
    expected = torch.distributions.Bernoulli(0.3).log_prob(torch.tensor([1.0, 0.0])).sum()
    assert torch.allclose(tr.nodes["k"].fn.log_prob(tr.nodes["k"].value).sum(), expected)

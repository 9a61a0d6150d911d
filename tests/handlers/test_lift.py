"""lift: params become sample sites drawn from their priors."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.runtime import SiteKind


def model():
    w = pplkit.param("w", torch.tensor(0.5))
    b = pplkit.param("b", torch.tensor(0.1))
    again = pplkit.param("w")
    return w, b, again


def test_named_params_are_drawn_from_their_prior_and_scored():
    prior = dist.Normal(3.0, 0.1)
    tr = poutine.trace(poutine.lift(model, prior={"w": prior})).get_trace()
    w_site, b_site = tr.nodes["w"], tr.nodes["b"]
    assert w_site.kind is SiteKind.SAMPLE and not w_site.is_observed and w_site.fn is prior
    assert b_site.kind is SiteKind.PARAM and b_site.value.item() == pytest.approx(0.1)
    assert abs(w_site.value.item() - 3.0) < 1.0  # a draw from N(3, 0.1), not the init 0.5
    assert torch.allclose(tr.log_prob_sum(), prior.log_prob(w_site.value))
    assert "w" not in pplkit.get_param_store()  # a lifted param is never created


def test_a_param_read_twice_is_one_random_variable():
    w, _, again = poutine.lift(model, prior={"w": dist.Normal(0.0, 1.0)})()
    assert again is w


def test_one_prior_for_every_param_and_fresh_draws_per_run():
    lifted = poutine.lift(model, prior=dist.Normal(0.0, 1.0))
    first, second = poutine.trace(lifted).get_trace(), poutine.trace(lifted).get_trace()
    assert first.stochastic_nodes == ["w", "b"]
    assert first.nodes["w"].value != second.nodes["w"].value


def test_lift_rejects_a_prior_that_is_not_a_distribution():
    with pytest.raises(TypeError, match="lift needs prior= as a distribution"):
        poutine.lift(model, prior={"w": 1.0})

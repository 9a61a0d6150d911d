"""do: interventions fix a value and cut the site off from its causes."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine


def chain():
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    x = pplkit.sample("x", dist.Normal(z, 1.0))
    return pplkit.sample("y", dist.Normal(x, 1.0))


def test_downstream_sites_see_the_intervention_value():
    tr = poutine.trace(pplkit.do(chain, data={"x": torch.tensor(3.0)})).get_trace()
    assert tr["x"].value.item() == 3.0 and tr["x"].intervened
    assert tr["y"].fn.loc.item() == 3.0


def test_the_intervened_site_scores_nothing_and_is_not_latent():
    tr = poutine.trace(pplkit.do(chain, data={"x": 3.0})).get_trace()
    assert tr.stochastic_nodes == ["z", "y"]
    z, y = tr["z"].value, tr["y"].value
    by_hand = dist.Normal(0.0, 1.0).log_prob(z) + dist.Normal(3.0, 1.0).log_prob(y)
    assert torch.allclose(tr.log_prob_sum(), by_hand)


def test_an_intervention_broadcasts_over_plates():
    def m():
        with plate("data", 4):
            return pplkit.sample("x", dist.Normal(0.0, 1.0))

    tr = poutine.trace(pplkit.do(m, data={"x": 0.5})).get_trace()
    assert tr["x"].value.tolist() == [0.5] * 4


def test_an_intervention_of_the_wrong_shape_is_an_error():
    def m():
        with plate("data", 4):
            pplkit.sample("x", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="do: the value for site 'x' has shape"):
        pplkit.do(m, data={"x": torch.zeros(3)})()

"""broadcast: distributions expanded to their plates' sizes."""

from __future__ import annotations

import pytest

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.runtime import Handler, SiteKind


class ScalarPrior(Handler):
    """Swaps every sample site's distribution for a scalar one after the plates have seen it."""

    def process(self, msg):
        if msg.kind is SiteKind.SAMPLE:
            msg.fn = dist.Normal(0.0, 1.0)


def model():
    with pplkit.plate("rows", 4, dim=-2), pplkit.plate("cols", 3):
        return pplkit.sample("x", dist.Normal(0.0, 1.0))


def test_broadcast_expands_a_distribution_replaced_outside_the_plates():
    assert poutine.broadcast(model)().shape == (4, 3)  # plates already broadcast, as Pyro's
    assert poutine.trace(ScalarPrior(model)).get_trace().nodes["x"].value.shape == ()
    tr = poutine.trace(poutine.broadcast(ScalarPrior(model))).get_trace()
    assert tr.nodes["x"].fn.batch_shape == (4, 3) and tr.nodes["x"].value.shape == (4, 3)


def test_broadcast_names_the_plate_on_a_size_clash():
    def clash():
        with pplkit.plate("cols", 3):
            pplkit.sample("x", dist.Normal(0.0, 1.0))

    class Wrong(Handler):
        def process(self, msg):
            if msg.kind is SiteKind.SAMPLE:
                msg.fn = dist.Normal(0.0, 1.0).expand([5])

    with pytest.raises(ValueError, match="site 'x'.*plate 'cols' of size 3"):
        poutine.broadcast(Wrong(clash))()

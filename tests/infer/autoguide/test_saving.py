"""Saving a guide with ``torch.save`` and loading it back, and setting its params by assignment."""

from __future__ import annotations

import io

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoDelta, AutoDiagonalNormal, AutoIAFNormal, AutoMultivariateNormal, AutoNormal
from pplkit.optim import Adam


def model():
    sample("x", dist.Normal(0.0, 1.0))
    with plate("plate", 2):
        sample("y", dist.LogNormal(0.0, 1.0))
        sample("z", dist.Beta(2.0, 2.0))


def _round_trip(guide):
    buffer = io.BytesIO()
    torch.save(guide, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


@pytest.mark.parametrize(
    "guide_class", [AutoDelta, AutoNormal, AutoDiagonalNormal, AutoMultivariateNormal, AutoIAFNormal]
)
def test_a_loaded_guide_gives_the_same_samples_with_the_same_seed(guide_class):
    guide = guide_class(model)
    svi = SVI(model, guide, Adam({"lr": 0.05}), Trace_ELBO())
    for _ in range(5):
        svi.step()
    pplkit.set_rng_seed(0)
    expected = guide.call()
    loaded = _round_trip(guide)
    pplkit.set_rng_seed(0)
    actual = loaded.call()
    assert len(actual) == len(expected) == 3
    for a, e in zip(actual, expected):
        assert torch.equal(a, e)
    assert {k: v.data for k, v in loaded.named_parameters()}.keys() == dict(guide.named_parameters()).keys()


def test_a_loaded_guide_brings_its_trained_values_into_an_empty_store():
    guide = AutoNormal(model)
    guide()
    with torch.no_grad():
        guide.locs.x.fill_(3.0)  # as if trained
    loaded = _round_trip(guide)
    pplkit.clear_param_store()
    assert loaded.median()["x"].item() == 3.0
    loaded()
    assert pplkit.param("AutoNormal.locs.x").item() == 3.0


def test_assigning_a_tensor_to_a_param_sets_its_constrained_value_as_pyros():
    guide = AutoNormal(model)
    guide()
    guide.locs.x = torch.tensor(12.5)
    guide.scales.x = torch.tensor(0.25)  # positive: stored unconstrained as log(0.25)
    assert pplkit.param("AutoNormal.locs.x").item() == 12.5
    assert pplkit.param("AutoNormal.scales.x").item() == pytest.approx(0.25)
    assert isinstance(guide.locs.x, torch.nn.Parameter)
    # A second guide of the same name reads the store: the value moves with it.
    assert AutoNormal(model).median()["x"].item() == 12.5


def test_a_discrete_latent_site_names_enumeration_as_the_way_out():
    def coin_model():
        p = sample("p", dist.Beta(2.0, 2.0))
        sample("coin", dist.Bernoulli(p))

    for guide_class in (AutoNormal, AutoDiagonalNormal):
        with pytest.raises(ValueError, match=r"site 'coin'.*enumeration\.html.*hide=\['coin'\]"):
            guide_class(coin_model)()


def test_unpack_latent_yields_each_site_with_its_unconstrained_value():
    def lkj_model():
        return sample("x", dist.LKJCholesky(2, torch.tensor(1.0)))

    guide = AutoDiagonalNormal(lkj_model)
    assert guide()["x"].shape == (2, 2)
    ((site, unconstrained),) = list(guide._unpack_latent(guide.sample_latent()))
    assert site.name == "x" and unconstrained.shape == (1,)  # a 2x2 Cholesky factor has one free number


def test_a_guide_list_of_blocked_parts_round_trips_and_knows_its_parts():
    from pplkit.handlers import block
    from pplkit.infer.autoguide import AutoGuideList

    guide = AutoGuideList(model)
    guide.append(AutoDelta(block(model, expose=["x"])))
    inner = AutoGuideList(block(model, hide=["x"]))
    inner.rest = AutoNormal(block(model, hide=["x"]))  # an attribute that is a guide becomes a part, as in Pyro
    guide.append(inner)
    assert guide.master is None and inner.master() is guide and inner.rest.master() is guide
    guide()  # the first call traces the model (AutoDelta's init_to_median draws from the prior)
    pplkit.set_rng_seed(0)
    expected = guide.call()
    assert {name for name, _ in guide.named_parameters()} == {
        "0.x",
        "1.rest.locs.y",
        "1.rest.locs.z",
        "1.rest.scales.y",
        "1.rest.scales.z",
    }
    assert "AutoGuideList.1.rest.locs.y" in pplkit.get_param_store()
    loaded = _round_trip(guide)
    pplkit.set_rng_seed(0)
    for a, e in zip(loaded.call(), expected):
        assert torch.equal(a, e)

"""Invalid model/guide pairs are refused as Pyro refuses them; valid ones still train.

Written from Pyro's documented checks (``pyro.util.check_model_guide_match``): event
dims and shapes of the sites both share, and plates only the guide enters.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer import SVI, Trace_ELBO, TraceMeanField_ELBO
from pplkit.infer.model_guide_match import StructureChecks, check_model_guide_match
from pplkit.optim import Adam


def _step(model, guide, elbo=None):
    svi = SVI(model, guide, Adam({"lr": 1e-3}), elbo or Trace_ELBO())
    return svi.step()


def event_model():
    pplkit.sample("x", dist.Normal(torch.zeros(2), torch.ones(2)).to_event(1))


@pytest.mark.parametrize("Elbo", [Trace_ELBO, TraceMeanField_ELBO])
def test_event_dims_disagree_is_an_error(Elbo):
    # Bug 2 of issue 14: this pair trained silently to a loss of ~2.08.
    def guide():
        loc = pplkit.param("loc", torch.zeros(2, 1))
        pplkit.sample("x", dist.Normal(loc, 1.0).to_event(2))

    with pytest.raises(ValueError, match="Model and guide event_dims disagree at site 'x'.*to_event\\(1\\)"):
        _step(event_model, guide, Elbo())


def test_shapes_disagree_is_an_error():
    def model():
        pplkit.sample("x", dist.Normal(torch.zeros(1, 2), 1.0).to_event(2))

    def guide():
        loc = pplkit.param("loc", torch.zeros(2, 1))
        pplkit.sample("x", dist.Normal(loc, 1.0).to_event(2))

    with pytest.raises(ValueError, match="Model and guide shapes disagree at site 'x'.*\\(1, 2\\).*\\(2, 1\\)"):
        _step(model, guide)


def test_matching_pair_trains_and_loss_is_exact():
    # Guide equal to the prior: the ELBO of a model without data is exactly 0.
    def guide():
        pplkit.sample("x", dist.Normal(torch.zeros(2), torch.ones(2)).to_event(1))

    assert _step(event_model, guide) == pytest.approx(0.0, abs=1e-6)


def test_broadcast_size_one_dims_are_allowed():
    # Pyro lets shapes differ by size-1 dims on the left (zip_longest with fill 1).
    def model():
        with pplkit.plate("data", 3):
            pplkit.sample("z", dist.Normal(0.0, 1.0))

    def guide():
        loc = pplkit.param("loc", torch.zeros(3))
        with pplkit.plate("data", 3):
            pplkit.sample("z", dist.Normal(loc, 1.0))

    _step(model, guide)


def test_plate_only_in_guide_warns_under_validation():
    def model():
        pplkit.sample("x", dist.Bernoulli(0.5))

    def guide():
        p = pplkit.param("p", torch.tensor(0.5), constraint=dist.constraints.unit_interval)
        for _ in pplkit.plate("plate", 10, 5):
            pass
        pplkit.sample("x", dist.Bernoulli(p))

    with pytest.warns(UserWarning, match="plate statements in guide but not model: \\['plate'\\]"):
        _step(model, guide)
    pplkit.enable_validation(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _step(model, guide)


def test_checks_run_once_per_structure(monkeypatch):
    calls = []
    import pplkit.infer.model_guide_match as module

    monkeypatch.setattr(module, "check_model_guide_match", lambda *a: calls.append(a))

    def guide():
        pplkit.sample("x", dist.Normal(torch.zeros(2), torch.ones(2)).to_event(1))

    elbo = Trace_ELBO()
    for _ in range(5):
        _step(event_model, guide, elbo)
    assert len(calls) == 1


def test_structure_checks_skip_without_validation():
    with pplkit.handlers.trace() as model_tr:
        event_model()

    def bad_guide():
        pplkit.sample("x", dist.Normal(torch.zeros(2, 1), 1.0).to_event(2))

    with pplkit.handlers.trace() as guide_tr:
        bad_guide()
    with pytest.raises(ValueError):
        check_model_guide_match(model_tr.trace, guide_tr.trace)
    pplkit.enable_validation(False)
    StructureChecks()(event_model, bad_guide, model_tr.trace, guide_tr.trace)  # no error: validation off


def test_elbo_accepts_pyros_keyword_arguments():
    elbo = Trace_ELBO(
        num_particles=2,
        max_plate_nesting=1,
        strict_enumeration_warning=False,
        ignore_jit_warnings=True,
        jit_options={},
        retain_graph=True,
        tail_adaptive_beta=-0.5,
    )
    assert elbo.strict_enumeration_warning is False and elbo.tail_adaptive_beta == -0.5
    with pytest.warns(FutureWarning, match="max_plate_nesting"):
        assert Trace_ELBO(max_iarange_nesting=2).max_plate_nesting == 2

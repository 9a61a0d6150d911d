"""GuideMessenger: a guide that runs the model, and the two traces it hands the ELBO."""

from __future__ import annotations

import io

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import param, plate, sample
from pplkit.distributions import constraints
from pplkit.infer import SVI, Trace_ELBO
from pplkit.optim import Adam
from pplkit.poutine.guide import GuideMessenger


def model(data):
    a = sample("a", dist.Normal(0.0, 1.0))
    with plate("data", len(data)):
        b = sample("b", dist.Normal(a, 1.0))
        sample("obs", dist.Normal(b, 1.0), obs=data)


class ShiftedPrior(GuideMessenger):
    """Each posterior is the prior shifted by a learned amount (one per site)."""

    def get_posterior(self, name, prior):
        shift = param(f"{name}_shift", lambda: torch.zeros(()))
        return dist.Normal(prior.loc + shift, prior.scale)


DATA = torch.tensor([1.0, 2.0, 0.5])


def test_each_posterior_sees_its_prior_conditioned_on_upstream_draws():
    guide = ShiftedPrior(model)
    samples = guide(DATA)
    assert set(samples) == {"a", "b", "obs"}
    tr = guide.trace
    # b's prior is N(a, 1) at the posterior draw of a, broadcast to the plate.
    assert torch.equal(tr.nodes["b"].infer["prior"].loc, samples["a"].expand(3))
    assert guide.upstream_value("a") is samples["a"]
    assert torch.equal(samples["obs"], DATA)


def test_get_traces_pairs_priors_and_posteriors():
    guide = ShiftedPrior(model)
    guide(DATA)
    pplkit.get_param_store()["b_shift"] = torch.tensor(0.5)
    guide(DATA)
    model_trace, guide_trace = guide.get_traces()
    latent = {n for n, s in guide_trace.nodes.items() if s.kind is pplkit.runtime.SiteKind.SAMPLE}
    assert latent == {"a", "b"}  # no observed site, no param in the guide's trace
    assert {"a", "b", "obs", "a_shift", "b_shift"} <= set(model_trace.nodes)
    a = guide_trace.nodes["a"].value
    assert torch.equal(model_trace.nodes["b"].fn.loc, a.expand(3))
    assert torch.allclose(guide_trace.nodes["b"].fn.loc, a.expand(3) + 0.5)
    assert model_trace.nodes["b"].value is guide_trace.nodes["b"].value


def test_a_value_is_a_point_mass_and_aux_sites_stay_in_the_guide():
    class PointAndAux(GuideMessenger):
        def get_posterior(self, name, prior):
            noise = sample(f"{name}_noise", dist.Normal(0.0, 1.0), infer={"is_auxiliary": True})
            return prior.mean + 0.0 * noise

    guide = PointAndAux(model)
    guide(DATA)
    model_trace, guide_trace = guide.get_traces()
    assert isinstance(guide_trace.nodes["a"].fn, dist.Delta)
    assert guide_trace.nodes["a"].value.item() == 0.0
    assert "a_noise" in guide_trace.nodes and "a_noise" not in model_trace.nodes


def test_svi_trains_the_params_made_inside_get_posterior():
    # The data lie above the prior means: the first steps move both shifts up from zero.
    pplkit.set_rng_seed(0)
    guide = ShiftedPrior(model)
    svi = SVI(model, guide, Adam({"lr": 0.05}), Trace_ELBO())
    for _ in range(50):
        svi.step(DATA)
    store = pplkit.get_param_store()
    assert store["a_shift"].item() > 0.1 and store["b_shift"].item() > 0.1


def test_torch_save_leaves_the_trace_and_store_out():
    guide = ShiftedPrior(model)
    guide(DATA)
    buffer = io.BytesIO()
    torch.save(guide, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert loaded.model is model and len(loaded.trace.nodes) == 0
    assert set(loaded(DATA)) == {"a", "b", "obs"}


def test_get_posterior_must_be_implemented():
    with pytest.raises(NotImplementedError, match="get_posterior"):
        GuideMessenger(model)(DATA)


def test_positive_constraint_param_reads_back():
    class Scale(GuideMessenger):
        def get_posterior(self, name, prior):
            scale = param(f"{name}_scale", torch.tensor(0.3), constraint=constraints.positive)
            return dist.Normal(prior.loc, scale)

    Scale(model)(DATA)
    assert pplkit.get_param_store()["a_scale"].item() == pytest.approx(0.3)

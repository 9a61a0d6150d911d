"""AutoIAFNormal: a flow guide that reaches the exact posterior of a conjugate model."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoIAFNormal, init_to_mean
from pplkit.optim import ClippedAdam

X = torch.tensor([[1.0, 3.0], [2.0, 2.0], [0.5, 4.0], [1.5, 3.0]])


def normal_model(x):
    z = sample("z", dist.Normal(torch.zeros(2), 1.0).to_event(1))
    with plate("data", len(x)):
        sample("obs", dist.Normal(z, 1.0).to_event(1), obs=x)


def test_it_reaches_the_exact_posterior_of_a_conjugate_normal_model():
    # z ~ N(0, I), x_i ~ N(z, I), n = 4: the posterior is N(sum(x) / 5, I / 5).
    guide = AutoIAFNormal(normal_model, hidden_dim=[8])
    svi = SVI(
        normal_model,
        guide,
        ClippedAdam({"lr": 0.05, "lrd": 0.996}),
        Trace_ELBO(num_particles=8, vectorize_particles=True),
    )
    for _ in range(600):
        svi.step(X)
    with torch.no_grad():
        draws = torch.stack([guide(X)["z"] for _ in range(4000)])
    assert torch.allclose(draws.mean(0), X.sum(0) / 5, atol=0.05)
    assert torch.allclose(draws.var(0), torch.full((2,), 0.2), atol=0.03)


def test_the_latent_is_scored_by_the_flow_and_the_sites_are_its_images():
    def model():
        sample("scale", dist.LogNormal(0.0, 1.0))
        sample("z", dist.Normal(0.0, 1.0).expand([3]).to_event(1))

    guide = AutoIAFNormal(model, num_transforms=2)
    with trace() as tr:
        values = guide()
    latent = tr.trace.nodes["_AutoIAFNormal_latent"]
    assert latent.value.shape == (4,) and latent.infer["is_auxiliary"]
    assert values["scale"] > 0 and values["scale"] == latent.value[0].exp()
    assert torch.isfinite(tr.trace.log_prob_sum())
    names = {name for name, _ in guide.named_parameters()}
    assert "transform.0.arn.layers.0.weight" in names and "transform.1.arn.layers.1.bias" in names
    assert "AutoIAFNormal.transform.1.arn.layers.1.bias" in pplkit.get_param_store()


def test_median_points_to_sampling_and_bad_arguments_are_named():
    guide = AutoIAFNormal(normal_model)
    guide(X)
    with pytest.raises(NotImplementedError, match="Predictive"):
        guide.median()
    with pytest.warns(FutureWarning, match="init_loc_fn has no effect"):
        AutoIAFNormal(normal_model, init_loc_fn=init_to_mean)
    with pytest.raises(TypeError, match="stable"):
        AutoIAFNormal(normal_model, stable=True)
    with pytest.raises(ValueError, match="num_transforms"):
        AutoIAFNormal(normal_model, num_transforms=0)
    with pytest.raises(ValueError, match="hidden_dim"):
        AutoIAFNormal(normal_model, hidden_dim=[0])(X)

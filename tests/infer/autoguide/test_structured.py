"""AutoStructured: conditionals per site, dependencies between sites, and the exact answers they reach."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.handlers import trace
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoStructured
from pplkit.optim import ClippedAdam

Y = torch.tensor(2.0)


def chain_model(y):
    a = sample("a", dist.Normal(0.0, 1.0))
    b = sample("b", dist.Normal(a, 1.0))
    sample("y", dist.Normal(b, 0.5), obs=y)


def exact_chain_posterior(y):
    """(mean, covariance) of (a, b) given y: Gaussian conditioning in closed form."""
    prior_cov = torch.tensor([[1.0, 1.0], [1.0, 2.0]])
    h = torch.tensor([[0.0, 1.0]])
    precision = torch.linalg.inv(prior_cov) + h.T @ h / 0.25
    cov = torch.linalg.inv(precision)
    return cov @ h.T.squeeze(-1) * y / 0.25, cov


def _fit(guide, model, steps, *args):
    svi = SVI(
        model, guide, ClippedAdam({"lr": 0.05, "lrd": 0.992}), Trace_ELBO(num_particles=8, vectorize_particles=True)
    )
    for _ in range(steps):
        svi.step(*args)


def _draws(guide, *args, n=3000):
    with torch.no_grad():
        return [guide(*args) for _ in range(n)]


@pytest.mark.parametrize(
    "conditionals, dependencies",
    [({"a": "normal", "b": "normal"}, {"b": {"a": "linear"}}), ("mvn", "linear")],
    ids=["normal-linear", "inferred"],
)
def test_a_linear_dependency_reaches_the_exact_correlated_posterior(conditionals, dependencies):
    guide = AutoStructured(chain_model, conditionals=conditionals, dependencies=dependencies)
    _fit(guide, chain_model, 500, Y)
    draws = _draws(guide, Y)
    ab = torch.stack([torch.stack([d["a"], d["b"]]) for d in draws])
    mean, cov = exact_chain_posterior(Y)
    assert torch.allclose(ab.mean(0), mean, atol=0.06)
    assert torch.allclose(torch.cov(ab.T), cov, atol=0.04)  # the correlation too: 0.41 here


def test_the_dependencies_inferred_link_parents_children_and_co_parents():
    def model():
        x = sample("x", dist.Normal(0.0, 1.0))
        y = sample("y", dist.Normal(0.0, 1.0))
        sample("lonely", dist.Normal(0.0, 1.0))
        z = sample("z", dist.Normal(x, 1.0))
        sample("obs", dist.Normal(y + z, 1.0), obs=torch.tensor(0.0))

    guide = AutoStructured(model, conditionals="normal")
    guide()
    upstreams = {entry.site.name: sorted(entry.upstreams) for entry in guide._plan}
    # z's parent is x; y and z are co-parents of obs; "lonely" touches nothing.
    assert upstreams == {"x": [], "y": [], "lonely": [], "z": ["x", "y"]}


def test_the_guide_density_is_the_conditionals_minus_the_log_jacobian():
    def model():
        sample("s", dist.LogNormal(0.0, 1.0))
        with plate("data", 3):
            sample("m", dist.Normal(0.0, 1.0))

    guide = AutoStructured(model, conditionals={"s": "normal", "m": "delta"}, dependencies={})
    with trace() as tr:
        values = guide()
    nodes = tr.trace.nodes
    assert "m_aux" not in nodes and values["m"].shape == (3,)
    u = nodes["s_aux"].value + pplkit.param("AutoStructured.locs.s")
    expected = dist.Normal(0.0, 0.1).log_prob(nodes["s_aux"].value).sum() - u.sum()  # log|d exp(u)/du| = u
    assert torch.allclose(values["s"], u.exp().squeeze())
    assert torch.allclose(tr.trace.log_prob_sum(), expected)
    assert guide.median()["m"].shape == (3,) and math.isclose(guide.median()["s"].item(), 1.0, rel_tol=1e-6)


def test_a_module_conditional_is_trained_with_the_guide():
    class Noise(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.log_scale = torch.nn.Parameter(torch.zeros(()))

        def forward(self):
            return sample("noise", dist.Normal(0.0, self.log_scale.exp()))

    def model():
        sample("z", dist.Normal(1.0, 0.5))

    guide = AutoStructured(model, conditionals={"z": Noise()}, dependencies={})
    _fit(guide, model, 400)
    assert "conds.z.log_scale" in dict(guide.named_parameters())
    # The exact posterior is the prior N(1, 0.5): loc and the module's scale both learn it.
    assert guide.median()["z"].item() == pytest.approx(1.0, abs=0.1)
    assert guide.conds.z.log_scale.exp().item() == pytest.approx(0.5, abs=0.1)


def test_bad_structures_are_named():
    with pytest.raises(ValueError, match="'b'.*itself"):
        AutoStructured(chain_model, dependencies={"b": {"b": "linear"}})
    with pytest.raises(ValueError, match="cycle among \\['a', 'b'\\]"):
        AutoStructured(chain_model, dependencies={"a": {"b": "linear"}, "b": {"a": "linear"}})(Y)
    with pytest.raises(ValueError, match="missing: \\['b'\\]"):
        AutoStructured(chain_model, conditionals={"a": "normal"})(Y)
    with pytest.raises(ValueError, match="one of \\['delta', 'normal', 'mvn'\\]"):
        AutoStructured(chain_model, conditionals="laplace")
    with pytest.raises(ValueError, match="\\['c'\\], which are not latent sites"):
        AutoStructured(chain_model, dependencies={"b": {"c": "linear"}})(Y)

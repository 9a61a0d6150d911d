"""AutoNormalMessenger and AutoHierarchicalNormalMessenger against closed-form answers."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import Predictive, Trace_ELBO
from pplkit.infer.autoguide import (
    AutoHierarchicalNormalMessenger,
    AutoNormalMessenger,
    init_to_value,
)

from .. import conjugate as cj

DATA = torch.tensor([0.9, 2.1, 1.4, 0.3, 1.8])
PRIOR_SCALE = 2.0


def one_mean_model(data: torch.Tensor) -> None:
    """mu ~ N(0, 2); x_i ~ N(mu, 1); y_new ~ N(mu, 1), a new draw no data constrains."""
    mu = sample("mu", dist.Normal(0.0, PRIOR_SCALE))
    with plate("data", len(data)):
        sample("obs", dist.Normal(mu, 1.0), obs=data)
    sample("y_new", dist.Normal(mu, 1.0))


def mu_posterior() -> tuple[float, float]:
    precision = 1 / PRIOR_SCALE**2 + len(DATA)
    return DATA.sum().item() / precision, precision**-0.5


def log_evidence() -> float:
    """log p(x): the data are jointly Normal with covariance I + prior_scale^2 11^T."""
    n = len(DATA)
    covariance = torch.eye(n) + PRIOR_SCALE**2 * torch.ones(n, n)
    return dist.MultivariateNormal(torch.zeros(n), covariance).log_prob(DATA).item()


def set_exact_posterior(guide: AutoNormalMessenger) -> None:
    """The exact posterior: mu ~ N(m, s); y_new | mu ~ N(mu, 1), where the family holds it."""
    guide(DATA)  # makes the params
    store = pplkit.get_param_store()
    mean, sd = mu_posterior()
    store["locs.mu"] = torch.tensor(mean)
    store["scales.mu"] = torch.tensor(sd)
    store["scales.y_new"] = torch.tensor(1.0)
    if isinstance(guide, AutoHierarchicalNormalMessenger):
        store["weights.mu"] = torch.tensor(1.0)  # the prior mean of mu is 0: the weight has no effect
        store["locs.y_new"] = torch.tensor(0.0)
        store["weights.y_new"] = torch.tensor(1.0)  # loc = 0 + 1 * mu: y_new follows its prior
    else:
        store["locs.y_new"] = torch.tensor(mean)  # the best mean-field factor of y_new


def test_the_exact_posterior_makes_the_elbo_the_log_evidence():
    # With q = p(z | x), log p(x, z) - log q(z) = log p(x) for every draw: the loss has no noise.
    # (Mean-field cannot hold y_new's dependence on mu; the hierarchical guide can.)
    guide = AutoHierarchicalNormalMessenger(one_mean_model)
    set_exact_posterior(guide)
    for _ in range(3):
        assert Trace_ELBO().loss(one_mean_model, guide, DATA) == pytest.approx(-log_evidence(), abs=1e-4)


@pytest.mark.parametrize("guide_class", [AutoNormalMessenger, AutoHierarchicalNormalMessenger])
def test_svi_reaches_the_exact_posterior_of_each_group_mean(guide_class):
    guide = guide_class(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA)
    mean, sd = cj.group_means_posterior()
    store = pplkit.get_param_store()
    assert store["locs.mu"].shape == (4, 1)  # one param per group, as Pyro names them
    # The prior mean of mu is 0, so the hierarchical loc is the posterior mean too.
    assert torch.allclose(store["locs.mu"], mean, atol=0.2 * sd[0, 0].item())
    assert torch.allclose(store["scales.mu"], sd, rtol=0.08)


def test_predictive_draws_match_the_closed_form_posterior_predictive():
    guide = AutoHierarchicalNormalMessenger(one_mean_model)
    set_exact_posterior(guide)
    pplkit.set_rng_seed(0)
    samples = Predictive(one_mean_model, guide=guide, num_samples=20000, parallel=True)(DATA)
    mean, sd = mu_posterior()
    # y_new | x ~ N(m, 1 + s^2); the 20000-sample error of the mean is 0.008, of the sd 0.6%.
    assert samples["y_new"].mean().item() == pytest.approx(mean, abs=0.04)
    assert samples["y_new"].std().item() == pytest.approx(math.sqrt(1 + sd**2), rel=0.03)
    assert samples["mu"].std().item() == pytest.approx(sd, rel=0.03)
    assert torch.equal(samples["obs"][0].reshape(-1), DATA)  # observed sites come back as the data


def test_mean_field_predictive_loses_the_posterior_spread_of_mu():
    # Mean-field, y_new's factor is N(m, 1): the predictive sd is 1, not sqrt(1 + s^2).
    guide = AutoNormalMessenger(one_mean_model)
    set_exact_posterior(guide)
    pplkit.set_rng_seed(0)
    samples = Predictive(one_mean_model, guide=guide, num_samples=20000, parallel=True)(DATA)
    assert samples["y_new"].std().item() == pytest.approx(1.0, rel=0.03)


def chain_model() -> None:
    a = sample("a", dist.Normal(0.0, 1.0))
    sample("b", dist.Normal(a, 1.0))
    sample("c", dist.LogNormal(a, 1.0))


def test_hierarchical_loc_follows_the_prior_mean_as_pyro_documents():
    # loc_total = loc + weight * transform.inv(prior.mean); the loc starts at
    # init - init_weight * transform.inv(prior.mean), so the first median is the initial value.
    init = init_to_value(values={"a": 0.5, "b": 2.0, "c": 3.0})
    guide = AutoHierarchicalNormalMessenger(chain_model, init_loc_fn=init)
    first = guide.median()
    assert [first[n].item() for n in "abc"] == pytest.approx([0.5, 2.0, 3.0])
    store = pplkit.get_param_store()
    store["locs.a"] = torch.tensor(1.5)
    store["weights.b"] = torch.tensor(2.0)
    median = guide.median()
    assert median["a"].item() == pytest.approx(1.5)
    # b: loc 2 - 1 * 0.5 = 1.5, plus 2 * 1.5.
    assert median["b"].item() == pytest.approx(1.5 + 2.0 * 1.5)
    # c: LogNormal(a, 1) has mean exp(a + 1/2); loc = log 3 - (0.5 + 1/2), plus 1 * (1.5 + 1/2).
    assert median["c"].item() == pytest.approx(math.exp(math.log(3.0) - 1.0 + 2.0), rel=1e-5)


def test_hierarchical_sites_limits_the_dependence_and_scalar_weights():
    guide = AutoHierarchicalNormalMessenger(chain_model, hierarchical_sites=["b"])
    guide()
    names = set(pplkit.get_param_store().keys())
    assert {"weights.b"} == {n for n in names if n.startswith("weights.")}

    class ScalarWeights(AutoHierarchicalNormalMessenger):
        weight_type = "scalar"

    def vector_model():
        a = sample("a", dist.Normal(0.0, 1.0))
        sample("v", dist.Normal(a, 1.0).expand([3]).to_event(1))

    pplkit.clear_param_store()
    ScalarWeights(vector_model)()
    store = pplkit.get_param_store()
    assert store["weights.v"].shape == () and store["locs.v"].shape == (3,)


def test_median_maps_the_loc_onto_the_support():
    guide = AutoNormalMessenger(cj.gamma_poisson_model)
    guide(cj.COUNTS)
    pplkit.get_param_store()["locs.rate"] = torch.tensor(math.log(4.0))
    assert guide.median(cj.COUNTS)["rate"].item() == pytest.approx(4.0)


def test_bad_inputs_name_the_site_or_argument():
    with pytest.raises(ValueError, match="init_scale"):
        AutoNormalMessenger(chain_model, init_scale=0.0)

    def discrete():
        sample("coin", dist.Bernoulli(0.5))

    with pytest.raises(ValueError, match="site 'coin'.*Bernoulli.*not continuous"):
        AutoNormalMessenger(discrete)()

"""Predictive: Pyro's shapes, and prior / posterior predictive moments against closed forms."""

from __future__ import annotations

import io
import math
import warnings

import pytest
import torch

import pplkit.distributions as dist
from pplkit import deterministic, plate, sample
from pplkit.handlers import uncondition
from pplkit.infer import AutoDelta, AutoMultivariateNormal, AutoNormal, Predictive, config_enumerate, infer_discrete

from . import conjugate as cj


def small_model(x, y=None):
    a = sample("a", dist.Normal(0.0, 10.0))
    sigma = sample("sigma", dist.Uniform(0.0, 10.0))
    with plate("data", len(x)):
        z = sample("z", dist.Normal(0.0, 1.0))
        deterministic("m", a * x + z)
        return sample("obs", dist.Normal(a * x + z, sigma), obs=y)


X = torch.linspace(-1, 1, 20)
# Shapes printed by Pyro 1.9.2's Predictive for the same model (see the module docstring of
# pplkit.infer.predictive for the rule).
ALL_SITES = {"a": (7, 1), "sigma": (7, 1), "z": (7, 20), "obs": (7, 20), "m": (7, 20)}


@pytest.mark.parametrize("guide_class", [AutoNormal, AutoMultivariateNormal, AutoDelta])
@pytest.mark.parametrize("parallel", [False, True])
def test_shapes_with_a_guide_are_pyros(guide_class, parallel):
    guide = guide_class(small_model)
    guide(X, X)
    samples = Predictive(small_model, guide=guide, num_samples=7, parallel=parallel)(X)
    assert {k: tuple(v.shape) for k, v in samples.items()} == ALL_SITES


def test_guide_may_come_second_positionally():
    guide = AutoNormal(small_model)
    samples = Predictive(small_model, guide, num_samples=7)(X)
    assert {k: tuple(v.shape) for k, v in samples.items()} == ALL_SITES


def guide_with_an_auxiliary_site(x, y=None):
    # a = 2 + 0.1 * eps through a helper variable that the model does not have
    eps = sample("eps", dist.Normal(0.0, 1.0), infer={"is_auxiliary": True})
    sample("a", dist.Delta(2.0 + 0.1 * eps))
    sample("sigma", dist.Delta(torch.tensor(0.5)))
    with plate("data", len(x)):
        sample("z", dist.Normal(0.0, 1.0))


@pytest.mark.parametrize("parallel", [False, True])
def test_a_guides_auxiliary_sites_are_neither_warned_about_nor_returned(parallel):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        samples = Predictive(small_model, guide=guide_with_an_auxiliary_site, num_samples=7, parallel=parallel)(X)
    assert {k: tuple(v.shape) for k, v in samples.items()} == ALL_SITES
    assert torch.all((samples["a"] - 2.0).abs() < 1.0) and torch.all(samples["sigma"] == 0.5)


def test_return_sites_including_the_return_value():
    guide = AutoNormal(small_model)
    samples = Predictive(small_model, guide=guide, num_samples=7, return_sites=["a", "obs", "_RETURN"])(X)
    assert {k: tuple(v.shape) for k, v in samples.items()} == {"a": (7, 1), "obs": (7, 20), "_RETURN": (7, 20)}
    assert torch.equal(samples["_RETURN"], samples["obs"])


@pytest.mark.parametrize("parallel", [False, True])
def test_prior_and_posterior_sample_shapes_are_pyros(parallel):
    prior = Predictive(small_model, num_samples=7, parallel=parallel)(X)
    assert {k: tuple(v.shape) for k, v in prior.items()} == ALL_SITES
    posterior_samples = {"a": torch.randn(4), "sigma": torch.rand(4)}
    samples = Predictive(small_model, posterior_samples=posterior_samples, parallel=parallel)(X)
    assert {k: tuple(v.shape) for k, v in samples.items()} == {"z": (4, 20), "obs": (4, 20), "m": (4, 20)}


def test_posterior_samples_are_used_draw_by_draw():
    posterior_samples = {"a": torch.tensor([1.0, -2.0, 3.0]), "sigma": torch.tensor([1e-4, 1e-4, 1e-4])}
    samples = Predictive(small_model, posterior_samples=posterior_samples, return_sites=["m", "z"])(X)
    assert torch.allclose(samples["m"], posterior_samples["a"][:, None] * X + samples["z"])


def test_both_guide_and_samples_is_an_error():
    with pytest.raises(ValueError, match="either guide= .* or posterior_samples="):
        Predictive(small_model, posterior_samples={"a": torch.zeros(3)}, guide=AutoNormal(small_model))
    with pytest.raises(ValueError, match="num_samples"):
        Predictive(small_model)


def test_unknown_return_site_is_named():
    with pytest.raises(ValueError, match="\\['typo'\\] are not sample or deterministic sites"):
        Predictive(small_model, num_samples=2, return_sites=["typo"])(X)


# -- moments against closed forms ---------------------------------------------------------------


def normal_model(n):
    mu = sample("mu", dist.Normal(1.0, 2.0))
    with plate("data", n):
        return sample("obs", dist.Normal(mu, 0.5))


@pytest.mark.parametrize("parallel", [False, True])
def test_prior_predictive_moments(parallel):
    # obs ~ N(1, sqrt(2^2 + 0.5^2)) marginally. 4 standard errors of the mean and of the sd.
    n = 4000 if parallel else 1000
    obs = Predictive(normal_model, num_samples=n, parallel=parallel)(1)["obs"].reshape(-1)
    sd = math.sqrt(4.25)
    assert abs(obs.mean().item() - 1.0) < 4 * sd / math.sqrt(n)
    assert abs(obs.std().item() - sd) < 4 * sd / math.sqrt(2 * n)


def test_posterior_predictive_of_beta_bernoulli_from_exact_samples():
    # The next flip is 1 with probability a / (a + b) under the Beta(a, b) posterior.
    a, b = cj.beta_posterior()
    n = 20000
    posterior_samples = {"p": torch.distributions.Beta(a, b).sample((n,))}
    # uncondition: the model observes its argument; here it draws new flips instead.
    predictive = Predictive(uncondition(cj.beta_bernoulli_model), posterior_samples=posterior_samples, parallel=True)
    flips = predictive(torch.zeros(1))
    assert flips["obs"].shape == (n, 1)
    p_next = a / (a + b)
    assert abs(flips["obs"].mean().item() - p_next) < 4 * math.sqrt(p_next * (1 - p_next) / n)


def test_posterior_predictive_from_a_fitted_guide_matches_the_closed_form():
    # New data in group k: N(m_k, sqrt(s_k^2 + noise^2)) with the exact posterior N(m_k, s_k).
    guide = AutoNormal(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA)
    n = 4000
    predictive = Predictive(uncondition(cj.group_means_model), guide=guide, num_samples=n, parallel=True)
    samples = predictive(torch.zeros(4, 1))
    assert samples["mu"].shape == (n, 4, 1) and samples["x"].shape == (n, 4, 1)
    mean, sd = cj.group_means_posterior()
    predictive_sd = (sd**2 + cj.GROUP_NOISE**2).sqrt()
    x = samples["x"]
    # 4 MC standard errors, plus the fit's own error (< 0.2 posterior sd, see test_normal).
    assert torch.all((x.mean(0) - mean).abs() < 4 * predictive_sd / math.sqrt(n) + 0.2 * sd)
    assert torch.all((x.std(0) - predictive_sd).abs() < 4 * predictive_sd / math.sqrt(2 * n) + 0.08 * sd)


def test_a_seeded_predictive_draws_pyros_numbers_and_leaves_the_generator_where_pyro_does():
    # Same seed, same numbers: Predictive(model, guide=...) makes Pyro's draws in Pyro's
    # order, so that everything a notebook draws after it is Pyro's too.
    pyro = pytest.importorskip("pyro")
    import pyro.distributions as pyro_dist

    import pplkit

    def make(ppl, d):
        def model(x):
            a = ppl.sample("a", d.Normal(0.0, 1.0))
            with ppl.plate("data", len(x)):
                ppl.sample("obs", d.Normal(a, 0.5), obs=x)

        def guide(x):
            ppl.sample("a", d.Normal(0.3, 0.2))

        return model, guide

    x = torch.tensor([0.1, 0.4, -0.2])
    results = []
    for ppl, d, predictive in ((pyro, pyro_dist, pyro.infer.Predictive), (pplkit, dist, Predictive)):
        model, guide = make(ppl, d)
        for parallel in (False, True):
            ppl.set_rng_seed(7)
            samples = predictive(model, guide=guide, num_samples=4, parallel=parallel)(x)
            results.append((samples["a"], samples["obs"], torch.rand(())))
    for theirs, ours in zip(results[:2], results[2:]):
        for t, o in zip(theirs, ours):
            assert torch.equal(t, o)


def test_get_samples_is_pyros_deprecated_name_for_calling_the_predictive():
    def model():
        sample("z", dist.Normal(0.0, 1.0))

    predictive = Predictive(model, num_samples=7)
    with pytest.warns(DeprecationWarning, match="get_samples is deprecated"):
        samples = predictive.get_samples()
    assert samples["z"].shape == (7,)


def point_model(x):
    a = sample("a", dist.Normal(0.0, 1.0))
    with plate("data", len(x)):
        return sample("obs", dist.Normal(a * x, 1.0))


def test_predictive_is_a_torch_module_holding_the_guide_and_call_gives_the_sorted_tuple():
    guide = AutoDelta(point_model)
    guide(X)
    predictive = Predictive(point_model, guide=guide, num_samples=3, return_sites=["a", "obs"])
    assert isinstance(predictive, torch.nn.Module)
    # The guide is a submodule (as in Pyro), so its params are the predictive's.
    assert {id(p) for p in predictive.parameters()} == {id(p) for p in guide.parameters()}
    torch.manual_seed(0)
    samples = predictive(X)
    torch.manual_seed(0)
    a, obs = predictive.call(X)
    assert torch.equal(a, samples["a"]) and torch.equal(obs, samples["obs"])


def test_a_traced_predictive_saves_loads_and_returns_the_point_guides_value():
    guide = AutoDelta(point_model)
    guide(X)
    predictive = Predictive(point_model, guide=guide, num_samples=4, return_sites=["a", "obs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TracerWarning and its deprecation of torch.jit
        traced = torch.jit.trace_module(predictive, {"call": (X,)})
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
        buffer.seek(0)
        a, obs = torch.jit.load(buffer).call(X)
    # AutoDelta draws its point every time: the loaded module returns that point 4 times.
    assert torch.allclose(a, guide.median()["a"].expand(4))
    assert obs.shape == (4, 20)


# -- infer_discrete under Predictive: each sample's discrete posterior, given that sample --------

CLUSTER_DATA = torch.tensor([-1.0, 0.2, 1.0, 3.0])


@config_enumerate
def two_clusters(data):
    locs = sample("locs", dist.Normal(torch.zeros(2), 10.0).to_event(1))
    with plate("data", len(data)):
        which = sample("which", dist.Categorical(torch.tensor([0.5, 0.5])))
        sample("x", dist.Normal(locs[which], 1.0), obs=data)


def test_infer_discrete_under_predictive_takes_each_posterior_sample_into_account():
    # Conditioning from outside would not reach infer_discrete's own (blocked) runs; in Pyro
    # 1.9.2 it does not, and the assignments come from prior draws of the locations.
    locs = torch.tensor([[-1.0, 1.0], [1.0, -1.0], [0.0, 3.0]])
    serving = infer_discrete(two_clusters, first_available_dim=-2, temperature=0)
    which = Predictive(serving, posterior_samples={"locs": locs})(CLUSTER_DATA)["which"]
    nearest = (CLUSTER_DATA[None, :, None] - locs[:, None, :]).abs().argmin(-1)  # equal weights and scales
    assert torch.equal(which, nearest)


def test_infer_discrete_draws_under_predictive_follow_the_exact_posterior():
    locs = torch.tensor([-0.5, 1.5]).expand(400, 2)
    serving = infer_discrete(two_clusters, first_available_dim=-2, temperature=1)
    which = Predictive(serving, posterior_samples={"locs": locs})(CLUSTER_DATA)["which"]
    log_p = torch.distributions.Normal(locs[0], 1.0).log_prob(CLUSTER_DATA[:, None])
    exact = log_p.softmax(-1)[:, 1]
    assert torch.allclose(which.float().mean(0), exact, atol=4 * 0.5 / math.sqrt(400))


def test_infer_discrete_under_a_parallel_predictive_is_refused_with_the_fix():
    serving = infer_discrete(two_clusters, first_available_dim=-2)
    predictive = Predictive(serving, posterior_samples={"locs": torch.zeros(3, 2)}, parallel=True)
    with pytest.raises(ValueError, match="parallel=True.*infer_discrete.*Use parallel=False"):
        predictive(CLUSTER_DATA)

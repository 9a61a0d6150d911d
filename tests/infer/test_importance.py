"""Importance sampling: the log evidence of a conjugate model, exact-posterior proposals, bad guides."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer import AutoDiagonalNormal
from pplkit.infer.autoguide import init_to_value
from pplkit.infer.importance import EmpiricalMarginal, Importance

DATA = torch.tensor([1.1, 0.3, 1.9, 1.4, 0.6])
PRIOR_SD, NOISE_SD = 2.0, 1.0


def model(x):
    loc = pplkit.sample("loc", dist.Normal(0.0, PRIOR_SD))
    with plate("data", len(x)):
        pplkit.sample("x", dist.Normal(loc, NOISE_SD), obs=x)
    return loc * 2


def exact_log_evidence(x):
    """x ~ MVN(0, noise^2 I + prior^2 11'): the loc integrated out."""
    n = len(x)
    covariance = NOISE_SD**2 * torch.eye(n) + PRIOR_SD**2 * torch.ones(n, n)
    return torch.distributions.MultivariateNormal(torch.zeros(n), covariance).log_prob(x)


def exact_posterior(x):
    precision = 1 / PRIOR_SD**2 + len(x) / NOISE_SD**2
    return float(x.sum() / NOISE_SD**2 / precision), precision**-0.5


def posterior_guide(x):
    mean, sd = exact_posterior(x)
    pplkit.sample("loc", dist.Normal(mean, sd))


def test_log_evidence_from_the_prior_matches_the_closed_form():
    importance = Importance(model, num_samples=4000).run(DATA)
    ess = float(importance.get_ESS())
    # With normalised weights, the relative standard error of the mean weight is sqrt(1/ESS - 1/N).
    standard_error = math.sqrt(1 / ess - 1 / 4000)
    assert abs(float(importance.get_log_normalizer() - exact_log_evidence(DATA))) < 4 * standard_error


def test_the_exact_posterior_as_proposal_gives_constant_weights():
    importance = Importance(model, guide=posterior_guide, num_samples=50).run(DATA)
    assert torch.allclose(importance.log_weights, importance.log_weights[0].expand(50), atol=1e-4)
    assert float(importance.get_ESS()) == pytest.approx(50.0)
    assert float(importance.get_log_normalizer()) == pytest.approx(float(exact_log_evidence(DATA)), abs=1e-4)


def test_weighted_samples_give_the_posterior_moments():
    importance = Importance(model, num_samples=3000).run(DATA)
    mean, sd = exact_posterior(DATA)
    ess = float(importance.get_ESS())
    marginal = EmpiricalMarginal(importance, "loc")
    assert abs(float(marginal.mean) - mean) < 4 * sd / math.sqrt(ess)
    assert float(marginal.variance) ** 0.5 == pytest.approx(sd, rel=4 / math.sqrt(2 * ess))
    returned = EmpiricalMarginal(importance)  # the model's return value, 2 * loc
    assert float(returned.mean) == pytest.approx(2 * float(marginal.mean))
    resampled = importance.get_samples(500)
    assert resampled["loc"].shape == (500,)
    assert abs(float(resampled["loc"].mean()) - mean) < 4 * sd / math.sqrt(min(ess, 500)) + 4 * sd / math.sqrt(ess)


def test_empirical_marginal_samples_and_scores_its_values():
    importance = Importance(model, guide=posterior_guide, num_samples=20).run(DATA)
    marginal = EmpiricalMarginal(importance, "loc")
    draws = marginal.sample((30,))
    assert draws.shape == (30,)
    assert all(bool((importance.samples["loc"] == d).any()) for d in draws)
    first = importance.samples["loc"][0]
    assert float(marginal.log_prob(first)) == pytest.approx(math.log(1 / 20), abs=1e-4)
    assert float(marginal.log_prob(torch.tensor(123.0))) == -math.inf


def test_default_num_samples_warns_as_in_pyro():
    with pytest.warns(UserWarning, match="num_samples not given, using 10"):
        importance = Importance(model)
    assert importance.num_samples == 10


def test_guides_that_miss_or_invent_sites_are_named():
    def empty_guide(x):
        pass

    def typo_guide(x):
        posterior_guide(x)
        pplkit.sample("lco", dist.Normal(0.0, 1.0))

    def observing_guide(x):
        posterior_guide(x)
        pplkit.sample("x", dist.Normal(0.0, 1.0), obs=x)

    def latent_obs_guide(x):
        posterior_guide(x)
        pplkit.sample("x", dist.Normal(torch.zeros(len(x)), 1.0))

    with pytest.raises(ValueError, match="the guide has no sample site for the model's latent site\\(s\\) 'loc'"):
        Importance(model, empty_guide, num_samples=2).run(DATA)
    with pytest.raises(ValueError, match="the guide samples site\\(s\\) 'lco' that the model does not have"):
        Importance(model, typo_guide, num_samples=2).run(DATA)
    with pytest.raises(ValueError, match="the guide observes site\\(s\\) 'x'"):
        Importance(model, observing_guide, num_samples=2).run(DATA)
    with pytest.raises(ValueError, match="site 'x' is observed in the model but sampled by the guide"):
        Importance(model, latent_obs_guide, num_samples=2).run(DATA)


def test_a_guide_that_cannot_take_the_arguments_gets_the_signature_hint():
    def no_args_guide():
        posterior_guide(DATA)

    with pytest.raises(TypeError, match="the guide `.*no_args_guide` cannot be called with the arguments"):
        Importance(model, no_args_guide, num_samples=2).run(DATA)
    with pytest.raises(TypeError, match="the model `model` cannot be called with the arguments"):
        Importance(model, num_samples=2).run(DATA, 3)


def test_an_autocontinuous_guide_is_a_proposal_and_its_auxiliary_site_is_allowed():
    mean, sd = exact_posterior(DATA)
    # Centred on the posterior but twice as wide, so the weights vary (a wider proposal keeps the ESS high).
    guide = AutoDiagonalNormal(model, init_loc_fn=init_to_value(values={"loc": torch.tensor(mean)}), init_scale=2 * sd)
    importance = Importance(model, guide=guide, num_samples=4000).run(DATA)
    assert float(importance.log_weights.std()) > 0.1
    ess = float(importance.get_ESS())
    standard_error = math.sqrt(1 / ess - 1 / 4000)
    assert abs(float(importance.get_log_normalizer() - exact_log_evidence(DATA))) < 4 * standard_error
    assert "_AutoDiagonalNormal_latent" not in importance.samples
    assert abs(float(EmpiricalMarginal(importance, "loc").mean) - mean) < 4 * sd / math.sqrt(ess)


def test_bad_arguments_and_order_of_calls():
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        Importance(model, num_samples=0)
    with pytest.raises(TypeError, match="guide must be callable"):
        Importance(model, guide="guide", num_samples=3)
    with pytest.raises(RuntimeError, match=r"call importance.run\(\*model_args\) first"):
        Importance(model, num_samples=3).get_log_normalizer()
    with pytest.raises(ValueError, match="no samples of site 'nope'"):
        EmpiricalMarginal(Importance(model, num_samples=3).run(DATA), "nope")

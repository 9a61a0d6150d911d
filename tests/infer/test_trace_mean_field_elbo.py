"""TraceMeanField_ELBO: the same expectation as Trace_ELBO, with the KL in closed form."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import Trace_ELBO, TraceMeanField_ELBO

from .test_elbo import exact_elbo, expected_log_likelihood, gaussian_guide, gaussian_model, term_estimates


def _values(elbo, model, guide, n: int) -> torch.Tensor:
    return torch.tensor([-elbo.loss(model, guide) for _ in range(n)])


def test_expectation_is_log_evidence_minus_kl():
    elbo = TraceMeanField_ELBO(num_particles=200, vectorize_particles=True)
    values = _values(elbo, gaussian_model, gaussian_guide, 20)
    assert abs(values.mean().item() - exact_elbo(0.2, 0.8)) < 4 * values.std().item() / math.sqrt(len(values))


def test_equals_trace_elbo_in_expectation():
    mean_field = _values(TraceMeanField_ELBO(), gaussian_model, gaussian_guide, 400)
    sampled = _values(Trace_ELBO(), gaussian_model, gaussian_guide, 400)
    se = math.sqrt(mean_field.var().item() / 400 + sampled.var().item() / 400)
    assert abs(mean_field.mean().item() - sampled.mean().item()) < 4 * se


def test_without_data_the_estimate_is_minus_the_exact_kl_with_no_noise():
    def prior_only():
        sample("z", dist.Normal(0.0, 1.0))

    kl = torch.distributions.kl_divergence(torch.distributions.Normal(0.2, 0.8), torch.distributions.Normal(0.0, 1.0))
    mean_field = _values(TraceMeanField_ELBO(), prior_only, gaussian_guide, 5)
    assert torch.allclose(mean_field, -kl.expand(5), atol=1e-6)
    assert _values(Trace_ELBO(), prior_only, gaussian_guide, 5).std() > 0.1  # sampled: noisy


def test_kl_term_is_exact():
    result = TraceMeanField_ELBO().compute(gaussian_model, gaussian_guide, (), {}, terms=True)
    assert result.terms is not None
    kl = torch.distributions.kl_divergence(torch.distributions.Normal(0.2, 0.8), torch.distributions.Normal(0.0, 1.0))
    assert result.terms["kl"] == pytest.approx(kl.item(), abs=1e-5)
    assert result.loss == pytest.approx(result.terms["kl"] - result.terms["log_likelihood"], abs=1e-5)
    # The log-likelihood is still sampled: its mean over many draws is the closed form.
    elbo = TraceMeanField_ELBO(num_particles=500, vectorize_particles=True)
    log_likelihood, kls = term_estimates(elbo, gaussian_model, gaussian_guide)
    standard_error = log_likelihood.std().item() / math.sqrt(len(log_likelihood))
    assert abs(log_likelihood.mean().item() - expected_log_likelihood(0.2, 0.8)) < 4 * standard_error
    assert torch.allclose(kls, kl.expand(len(kls)), atol=1e-5)


def test_sites_without_a_closed_form_kl_fall_back_to_sampling():
    data = torch.tensor([0.3, 0.5, 0.4])

    def model():
        p = sample("p", dist.Uniform(0.0, 1.0))
        with plate("data", 3):
            sample("x", dist.Normal(p, 0.2), obs=data)

    def guide():
        sample("p", dist.Beta(torch.tensor(4.0), torch.tensor(6.0)))

    mean_field = _values(TraceMeanField_ELBO(num_particles=100, vectorize_particles=True), model, guide, 20)
    sampled = _values(Trace_ELBO(num_particles=100, vectorize_particles=True), model, guide, 20)
    se = math.sqrt(mean_field.var().item() / 20 + sampled.var().item() / 20)
    assert abs(mean_field.mean().item() - sampled.mean().item()) < 4 * se


def test_discrete_guide_site_is_refused_by_name():
    def model():
        sample("z", dist.Bernoulli(0.5))

    def guide():
        sample("z", dist.Bernoulli(0.3))

    with pytest.raises(NotImplementedError, match="guide site 'z' is Bernoulli; use Trace_ELBO"):
        TraceMeanField_ELBO().loss(model, guide)

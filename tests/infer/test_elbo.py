"""Trace_ELBO against closed forms: log evidence minus KL, exact gradients by enumeration."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import param, plate, sample
from pplkit.distributions import constraints
from pplkit.infer import SVI, NonFiniteLossError, Trace_ELBO
from pplkit.optim import Adam

X0 = 1.3  # the observed value in the Gaussian model below


def gaussian_model():
    z = sample("z", dist.Normal(0.0, 1.0))
    sample("x", dist.Normal(z, 1.0), obs=torch.tensor(X0))


def gaussian_guide(m=0.2, s=0.8):
    sample("z", dist.Normal(torch.tensor(m), torch.tensor(s)))


def exact_elbo(m: float, s: float) -> float:
    """log p(x) - KL(q || p(z | x)) for z ~ N(0,1), x ~ N(z,1): evidence N(0, 2), posterior N(x/2, 1/2)."""
    log_evidence = -0.5 * math.log(2 * math.pi * 2.0) - X0**2 / 4.0
    post_m, post_v = X0 / 2.0, 0.5
    kl = 0.5 * (s**2 / post_v + (m - post_m) ** 2 / post_v - 1.0 + math.log(post_v / s**2))
    return log_evidence - kl


def _estimates(elbo, model, guide, batches: int = 20) -> torch.Tensor:
    return torch.tensor([-elbo.loss(model, guide) for _ in range(batches)])


def test_trace_elbo_expectation_is_log_evidence_minus_kl():
    elbo = Trace_ELBO(num_particles=500, vectorize_particles=True)
    values = _estimates(elbo, gaussian_model, gaussian_guide)
    standard_error = values.std() / math.sqrt(len(values))
    assert abs(values.mean().item() - exact_elbo(0.2, 0.8)) < 4 * standard_error.item()


def test_elbo_at_the_exact_posterior_is_the_log_evidence_with_no_noise():
    elbo = Trace_ELBO()
    log_evidence = -0.5 * math.log(2 * math.pi * 2.0) - X0**2 / 4.0
    for _ in range(5):
        loss = elbo.loss(gaussian_model, lambda: gaussian_guide(X0 / 2, math.sqrt(0.5)))
        assert -loss == pytest.approx(log_evidence, abs=1e-5)


def test_vectorized_and_looped_particles_agree_in_expectation():
    looped = Trace_ELBO(num_particles=200)
    vectorized = Trace_ELBO(num_particles=200, vectorize_particles=True)
    a = _estimates(looped, gaussian_model, gaussian_guide, batches=5)
    b = _estimates(vectorized, gaussian_model, gaussian_guide, batches=20)
    se = math.sqrt(a.var().item() / len(a) + b.var().item() / len(b))
    assert abs(a.mean().item() - b.mean().item()) < 4 * se


def expected_log_likelihood(m: float, s: float) -> float:
    """E_q log N(X0; z, 1) for z ~ N(m, s): -log(2 pi) / 2 - ((X0 - m)^2 + s^2) / 2."""
    return -0.5 * math.log(2 * math.pi) - 0.5 * ((X0 - m) ** 2 + s**2)


def prior_kl(m: float, s: float) -> float:
    """KL(N(m, s) || N(0, 1)), the guide against the prior of z."""
    return float(torch.distributions.kl_divergence(torch.distributions.Normal(m, s), torch.distributions.Normal(0, 1)))


def term_estimates(elbo, model, guide, batches: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """``batches`` independent estimates of (log_likelihood, kl)."""
    terms = [elbo.compute(model, guide, (), {}, terms=True).terms for _ in range(batches)]
    return torch.tensor([t["log_likelihood"] for t in terms]), torch.tensor([t["kl"] for t in terms])


def test_terms_split_the_loss_into_kl_minus_log_likelihood():
    result = Trace_ELBO().compute(gaussian_model, gaussian_guide, (), {}, terms=True)
    assert result.terms is not None
    assert result.loss == pytest.approx(result.terms["kl"] - result.terms["log_likelihood"], abs=1e-5)
    assert Trace_ELBO().compute(gaussian_model, gaussian_guide, (), {}).terms is None


def test_terms_are_the_expected_log_likelihood_and_the_kl_from_the_prior():
    elbo = Trace_ELBO(num_particles=500, vectorize_particles=True)
    log_likelihood, kl = term_estimates(elbo, gaussian_model, gaussian_guide)
    for values, expected in ((log_likelihood, expected_log_likelihood(0.2, 0.8)), (kl, prior_kl(0.2, 0.8))):
        assert abs(values.mean().item() - expected) < 4 * values.std().item() / math.sqrt(len(values))


def test_a_model_without_data_has_no_log_likelihood_and_a_factor_counts_in_it():
    def prior_only():
        sample("z", dist.Normal(0.0, 1.0))

    def with_factor():
        sample("z", dist.Normal(0.0, 1.0))
        pplkit.factor("penalty", torch.tensor(-2.5))

    for model, log_likelihood in ((prior_only, 0.0), (with_factor, -2.5)):
        result = Trace_ELBO().compute(model, gaussian_guide, (), {}, terms=True)
        assert result.terms is not None
        assert result.terms["log_likelihood"] == log_likelihood
        assert result.terms["kl"] == pytest.approx(result.loss + log_likelihood, abs=1e-5)


# -- the score-function term, checked against the exact gradient by enumeration -----------------

DATA = torch.tensor([0.7, -1.2, 2.0])
PRIOR_P = 0.4


def mixed_model():
    mu = sample("mu", dist.Normal(0.0, 1.0))
    with plate("data", 3):
        z = sample("z", dist.Bernoulli(PRIOR_P))
        sample("x", dist.Normal(mu + 2 * z - 1, 1.0), obs=DATA)


def mixed_guide():
    m = param("m", torch.tensor(0.3))
    s = param("s", torch.tensor(0.7), constraint=constraints.positive)
    logits = param("logits", torch.tensor([0.5, -0.3, 1.0]))
    sample("mu", dist.Normal(m, s))
    with plate("data", 3):
        sample("z", dist.Bernoulli(logits=logits))


def exact_mixed_elbo(m: torch.Tensor, s: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Sum over z in {0, 1} per element, Gaussian expectations over mu in closed form."""
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    elbo = -half_log_2pi - 0.5 * (m**2 + s**2)  # E log N(mu; 0, 1)
    elbo = elbo + half_log_2pi + torch.log(s) + 0.5  # entropy of N(m, s)
    q1 = torch.sigmoid(logits)
    for z, qz in ((1.0, q1), (0.0, 1 - q1)):
        log_prior = math.log(PRIOR_P if z else 1 - PRIOR_P)
        expected_lik = -half_log_2pi - 0.5 * ((DATA - (2 * z - 1) - m) ** 2 + s**2)
        elbo = elbo + (qz * (log_prior + expected_lik - torch.log(qz))).sum()
    return elbo


def _param_grads(loss: torch.Tensor) -> torch.Tensor:
    store = pplkit.get_param_store()
    leaves = [store.unconstrained(n) for n in ("m", "s", "logits")]
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, leaves)])


def _exact_grads() -> torch.Tensor:
    store = pplkit.get_param_store()
    m, s, logits = store["m"], store["s"], store["logits"]
    return _param_grads(-exact_mixed_elbo(m, s, logits))


def test_score_function_gradient_is_unbiased_against_enumeration():
    elbo = Trace_ELBO(num_particles=4000, vectorize_particles=True)
    estimates = torch.stack([_param_grads(elbo.differentiable_loss(mixed_model, mixed_guide)) for _ in range(10)])
    exact = _exact_grads()
    mean = estimates.mean(0)
    standard_error = estimates.std(0) / math.sqrt(len(estimates))
    assert torch.all((mean - exact).abs() < 4 * standard_error + 1e-3), (mean, exact, standard_error)
    # The check has power: without the score-function term the logits get no gradient at all,
    # and the exact one is far outside the tolerance around zero.
    assert exact[2:].abs().max() > 10 * standard_error[2:].max()


def test_differentiable_loss_value_equals_the_loss():
    torch.manual_seed(1)
    surrogate = Trace_ELBO().differentiable_loss(mixed_model, mixed_guide)
    torch.manual_seed(1)
    loss = Trace_ELBO().loss(mixed_model, mixed_guide)
    assert surrogate.item() == pytest.approx(loss, abs=1e-4)


def test_exact_elbo_of_mixed_model_matches_a_large_sample_estimate():
    # Guards the enumeration formula itself, so the gradient test above compares like with like.
    mixed_guide()  # create the params
    values = _estimates(Trace_ELBO(num_particles=2000, vectorize_particles=True), mixed_model, mixed_guide)
    store = pplkit.get_param_store()
    exact = exact_mixed_elbo(store["m"], store["s"], store["logits"]).item()
    assert abs(values.mean().item() - exact) < 4 * values.std().item() / math.sqrt(len(values))


# -- errors -------------------------------------------------------------------------------------


def _two_site_model(x):
    a = sample("a", dist.Normal(0.0, 1.0))
    b = sample("b", dist.Normal(0.0, 1.0))
    sample("obs", dist.Normal(a + b, 1.0), obs=x)


def test_guide_missing_a_latent_site_names_it():
    def guide(x):
        sample("a", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="latent site\\(s\\) 'b'"):
        Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0))


def test_guide_sampling_an_unknown_site_names_it():
    def guide(x):
        sample("a", dist.Normal(0.0, 1.0))
        sample("b", dist.Normal(0.0, 1.0))
        sample("c_typo", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="'c_typo'.*latent sites are 'a', 'b'"):
        Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0))


def test_auxiliary_guide_sites_are_allowed():
    def guide(x):
        u = sample("u", dist.Normal(0.0, 1.0), infer={"is_auxiliary": True})
        sample("a", dist.Delta(u))
        sample("b", dist.Normal(0.0, 1.0))

    assert math.isfinite(Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0)))


def test_observed_site_in_the_guide_names_it():
    def guide(x):
        sample("a", dist.Normal(0.0, 1.0))
        sample("b", dist.Normal(0.0, 1.0))
        sample("obs", dist.Normal(0.0, 1.0), obs=x)

    with pytest.raises(ValueError, match="guide observes site\\(s\\) 'obs'"):
        Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0))


def test_guide_with_the_wrong_signature_is_named():
    def my_guide():
        sample("a", dist.Normal(0.0, 1.0))
        sample("b", dist.Normal(0.0, 1.0))

    with pytest.raises(TypeError, match="guide `.*my_guide` cannot be called with the arguments \\(tensor\\(1\\)\\)"):
        Trace_ELBO().loss(_two_site_model, my_guide, torch.tensor(1.0))


def test_model_with_the_wrong_signature_is_named():
    def guide(x, y):
        sample("a", dist.Normal(0.0, 1.0))
        sample("b", dist.Normal(0.0, 1.0))

    with pytest.raises(TypeError, match="model `_two_site_model`.*y=tensor\\(2\\).*unexpected keyword argument 'y'"):
        Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0), y=torch.tensor(2.0))


def test_type_error_inside_the_guide_body_is_not_reworded():
    def guide(x):
        raise TypeError("a bug inside the guide")

    with pytest.raises(TypeError, match="^a bug inside the guide") as info:
        Trace_ELBO().loss(_two_site_model, guide, torch.tensor(1.0))
    assert "cannot be called" not in str(info.value)


def test_nonfinite_loss_names_the_site_and_leaves_params_unchanged():
    def model(x):
        z = sample("z", dist.Normal(0.0, 1.0))
        sample("obs", dist.Normal(z, 1.0), obs=x)

    def guide(x):
        sample("z", dist.Normal(param("loc", torch.tensor(0.0)), 1.0))

    svi = SVI(model, guide, Adam({"lr": 0.1}), Trace_ELBO())
    svi.step(torch.tensor(1.0))
    loc = pplkit.get_param_store().unconstrained("loc")
    before = loc.detach().clone()
    with pytest.raises(NonFiniteLossError, match="model site 'obs'"):
        svi.step(torch.tensor(float("inf")))
    assert torch.equal(loc.detach(), before)
    assert loc.grad is None


def test_value_outside_the_support_names_the_site():
    def model():
        sample("sigma", dist.Uniform(0.0, 1.0))

    def guide():
        sample("sigma", dist.Normal(5.0, 0.1))

    with pytest.raises(ValueError, match="model site 'sigma'"):
        Trace_ELBO().loss(model, guide)


def _model_standard_normal():
    sample("z", dist.Normal(0.0, 1.0))


@pytest.mark.parametrize("has_rsample", [True, False])
def test_a_guide_factor_is_part_of_log_q(has_rsample):
    # The guide is the prior, so log p - log q is 0 at every draw: the loss is the factor itself.
    def guide():
        z = sample("z", dist.Normal(param("loc", torch.tensor(0.0)), 1.0))
        pplkit.factor("f", 0.5 + 0.0 * z, has_rsample=has_rsample)

    assert Trace_ELBO().loss(_model_standard_normal, guide) == pytest.approx(0.5)


def test_a_guide_factor_must_say_whether_it_is_reparameterised():
    def guide():
        sample("z", dist.Normal(0.0, 1.0))
        pplkit.factor("f", torch.tensor(0.0))

    with pytest.raises(ValueError, match=r"missing specification of has_rsample.*has_rsample=True"):
        Trace_ELBO().loss(_model_standard_normal, guide)


def test_an_enumerated_guide_site_under_trace_elbo_warns_that_it_is_sampled():
    def guide():
        sample("z", dist.Bernoulli(0.5), infer={"enumerate": "parallel"})

    def model():
        sample("z", dist.Bernoulli(0.3))

    with pytest.warns(UserWarning, match="configured for enumeration: z.*use TraceEnum_ELBO"):
        Trace_ELBO().loss(model, guide)

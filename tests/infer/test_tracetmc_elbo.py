"""TraceTMC_ELBO and local sampling (config_enumerate(num_samples=K), the enum handler).

Known answers: the log evidence of conjugate Normal models in closed form,
TraceEnum_ELBO's exact sum for discrete sites, and Pyro's own TraceTMC_ELBO.
"""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer import SVI, TraceEnum_ELBO, TraceTMC_ELBO, config_enumerate
from pplkit.optim import Adam

DATA = torch.tensor([0.3, -1.2, 2.0])


def global_normal(ppl, d):
    """z ~ N(0, 1); x_i ~ N(z, 1): the evidence is N(x; 0, I + 11^T)."""

    def model():
        z = ppl.sample("z", d.Normal(0.0, 1.0))
        with ppl.plate("data", 3):
            ppl.sample("x", d.Normal(z, 1.0), obs=DATA)

    return model


def normal_chain(ppl, d):
    """z1 ~ N(0, 1); z2 ~ N(z1, 1); x_i ~ N(z2, 1): the evidence is N(x; 0, I + 2 * 11^T)."""

    def model():
        z1 = ppl.sample("z1", d.Normal(0.0, 1.0))
        z2 = ppl.sample("z2", d.Normal(z1, 1.0))
        with ppl.plate("data", 3):
            ppl.sample("x", d.Normal(z2, 1.0), obs=DATA)

    return model


def evidence(prior_variance: float) -> float:
    cov = torch.eye(3) + prior_variance * torch.ones(3, 3)
    return dist.MultivariateNormal(torch.zeros(3), cov).log_prob(DATA).item()


def fixed_guide():
    pplkit.sample("z", dist.Normal(0.2, 0.8))


def estimates(model, guide, n: int) -> torch.Tensor:
    elbo = TraceTMC_ELBO(max_plate_nesting=1)
    return torch.tensor([-elbo.loss(model, guide) for _ in range(n)])


def test_estimate_is_unbiased_in_exp_space_and_its_log_a_lower_bound():
    torch.manual_seed(0)
    model = global_normal(pplkit, dist)
    exact = evidence(1.0)
    one = estimates(model, config_enumerate(fixed_guide, num_samples=1), 4000)
    # With K = 1 it is importance sampling with one sample: E[p/q] = p(x).
    weights = (one - exact).exp()
    assert abs(weights.mean().item() - 1.0) < 4 * weights.std().item() / math.sqrt(len(weights))
    many = estimates(model, config_enumerate(fixed_guide, num_samples=64), 200)
    # Jensen: the mean log estimate lies below log p(x) and rises with K.
    assert one.mean() < many.mean() < exact + 0.01


def test_estimate_converges_to_the_exact_log_evidence_as_k_grows():
    torch.manual_seed(1)
    model = global_normal(pplkit, dist)
    errors = [(estimates(model, config_enumerate(fixed_guide, num_samples=k), 30) - evidence(1.0)).abs().mean()
              for k in (4, 4000)]
    assert errors[1] < errors[0] / 5
    assert errors[1] < 0.01


def test_prior_sampling_in_the_model_with_local_latents():
    # No guide: each plate element draws its own K samples of z_i from the prior.
    def model():
        with pplkit.plate("data", 3):
            z = pplkit.sample("z", dist.Normal(0.0, 1.0))
            pplkit.sample("x", dist.Normal(z, 1.0), obs=DATA)

    torch.manual_seed(2)
    exact = dist.Normal(0.0, math.sqrt(2.0)).log_prob(DATA).sum().item()
    values = estimates(config_enumerate(model, num_samples=2000), lambda: None, 10)
    assert abs(values.mean().item() - exact) < 0.02


def test_a_chain_of_sampled_sites_contracts_every_pair_of_samples():
    torch.manual_seed(3)
    model = config_enumerate(normal_chain(pplkit, dist), num_samples=300)
    assert abs(estimates(model, lambda: None, 10).mean().item() - evidence(2.0)) < 0.03


def test_discrete_sites_enumerated_over_their_support_give_traceenum_elbos_exact_value_and_gradient():
    locs = torch.tensor([-1.0, 1.0])

    def model():
        probs = pplkit.param("probs", torch.tensor([0.3, 0.7]), constraint=dist.constraints.simplex)
        with pplkit.plate("data", 3):
            c = pplkit.sample("c", dist.Categorical(probs))
            pplkit.sample("x", dist.Normal(locs[c], 1.0), obs=DATA)

    pplkit.clear_param_store()
    marked = config_enumerate(model)
    losses = []
    for elbo in (TraceTMC_ELBO(max_plate_nesting=1), TraceEnum_ELBO(max_plate_nesting=1)):
        loss = elbo.differentiable_loss(marked, lambda: None)
        (grad,) = torch.autograd.grad(loss, [pplkit.param("probs").unconstrained()])
        losses.append((loss.detach(), grad))
    assert torch.allclose(losses[0][0], losses[1][0])
    assert torch.allclose(losses[0][1], losses[1][1])


def test_svi_with_a_sampled_guide_reaches_the_exact_posterior():
    # Posterior of z: N(sum(x) / 4, 1 / 4). At it every importance weight equals p(x), the
    # bound's maximum. (The guide's gradient shrinks as K grows, as IWAE's does: K = 2.)
    model = global_normal(pplkit, dist)

    @config_enumerate(num_samples=2)
    def guide():
        loc = pplkit.param("loc", torch.tensor(0.0))
        scale = pplkit.param("scale", torch.tensor(1.0), constraint=dist.constraints.positive)
        pplkit.sample("z", dist.Normal(loc, scale))

    torch.manual_seed(4)
    pplkit.clear_param_store()
    svi = SVI(model, guide, Adam({"lr": 0.05}), TraceTMC_ELBO(max_plate_nesting=1))
    locs, scales = [], []
    for step in range(2000):
        svi.step()
        if step >= 1500:  # average the last iterates: SGD noise
            locs.append(pplkit.param("loc").item())
            scales.append(pplkit.param("scale").item())
    assert abs(sum(locs) / len(locs) - DATA.sum().item() / 4) < 0.04
    assert abs(sum(scales) / len(scales) - 0.5) < 0.04


def test_a_non_reparameterised_sampled_site_gets_its_score_function_gradient():
    # Poisson's rate, sampled K times from the prior: d/d(rate) of the TMC estimate of
    # log p(x) (a Poisson mixture with one component) must match the closed form.
    def model():
        rate = pplkit.param("rate", torch.tensor(2.0), constraint=dist.constraints.positive)
        n = pplkit.sample("n", dist.Poisson(rate))
        pplkit.sample("x", dist.Normal(n, 1.0), obs=torch.tensor(3.0))

    def exact_log_evidence(rate: torch.Tensor) -> torch.Tensor:
        n = torch.arange(40.0)
        return (dist.Poisson(rate).log_prob(n) + dist.Normal(n, 1.0).log_prob(torch.tensor(3.0))).logsumexp(0)

    torch.manual_seed(5)
    pplkit.clear_param_store()
    marked = config_enumerate(model, num_samples=20000)
    loss = TraceTMC_ELBO(max_plate_nesting=0).differentiable_loss(marked, lambda: None)
    log_rate = pplkit.param("rate").unconstrained()  # the positive constraint's unconstrained value
    (ours,) = torch.autograd.grad(-loss, [log_rate])
    reference = log_rate.detach().requires_grad_()
    (exact,) = torch.autograd.grad(exact_log_evidence(reference.exp()), [reference])
    assert abs(ours.item() - exact.item()) < 0.05


def test_matches_pyros_estimator_on_a_chain():
    pyro = pytest.importorskip("pyro")
    import pyro.distributions as pdist

    def mean_estimate(ppl, d, elbo_class, n: int) -> float:
        model = ppl.infer.config_enumerate(normal_chain(ppl, d), num_samples=30)
        elbo = elbo_class(max_plate_nesting=1)
        return sum(-elbo.loss(model, lambda: None) for _ in range(n)) / n

    torch.manual_seed(6)
    theirs = mean_estimate(pyro, pdist, pyro.infer.TraceTMC_ELBO, 100)
    ours = mean_estimate(pplkit, dist, TraceTMC_ELBO, 100)
    # Both are the same biased-low estimator: their means agree, below the exact value.
    assert abs(ours - theirs) < 0.04
    assert ours < evidence(2.0)


def test_sampled_values_lie_along_their_own_dim_with_the_plates_right_of_it():
    def model():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0))
        with pplkit.plate("data", 3):
            pplkit.sample("b", dist.Normal(a, 1.0))

    tr = poutine.trace(poutine.enum(config_enumerate(model, num_samples=5), first_available_dim=-2)).get_trace()
    assert tr.nodes["a"].value.shape == (5, 1)
    # Diagonal: b's sample k was drawn given a's sample k, so it does not vary along a's dim.
    assert tr.nodes["b"].value.shape == (5, 1, 3)


def test_mixture_strategy_and_mismatched_diagonal():
    def model():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0), infer={"enumerate": "parallel", "num_samples": 4})
        pplkit.sample("b", dist.Normal(a, 1.0), infer={"enumerate": "parallel", "num_samples": 3, "tmc": "mixture"})

    tr = poutine.trace(poutine.enum(model, first_available_dim=-1)).get_trace()
    assert tr.nodes["b"].value.shape == (3, 1)
    assert tr.nodes["b"].infer["_enumerate_dim"] == -2

    def diagonal():
        a = pplkit.sample("a", dist.Normal(0.0, 1.0), infer={"enumerate": "parallel", "num_samples": 4})
        pplkit.sample("b", dist.Normal(a, 1.0), infer={"enumerate": "parallel", "num_samples": 3})

    with pytest.raises(ValueError, match="site 'b'.*tmc='mixture'"):
        poutine.trace(poutine.enum(diagonal, first_available_dim=-1)).get_trace()


def test_config_enumerate_marks_continuous_sites_and_keeps_their_own_settings():
    def model():
        pplkit.sample("z", dist.Normal(0.0, 1.0))
        pplkit.sample("k", dist.Bernoulli(0.5), infer={"num_samples": 2})
        pplkit.sample("x", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0))

    tr = poutine.trace(config_enumerate(model, num_samples=7)).get_trace()
    assert tr.nodes["z"].infer == {"enumerate": "parallel", "num_samples": 7, "expand": False, "tmc": "diagonal"}
    assert tr.nodes["k"].infer["num_samples"] == 2
    assert "num_samples" not in tr.nodes["x"].infer
    with pytest.raises(ValueError, match="num_samples must be None or a positive int"):
        config_enumerate(model, num_samples=0)
    with pytest.raises(ValueError, match="needs default='parallel'"):
        config_enumerate(model, default="sequential", num_samples=3)


def test_config_enumerate_default_none_marks_sites_as_not_enumerated():
    # Pyro's default=None: every discrete site says infer["enumerate"] = None, and is sampled.
    def model():
        pplkit.sample("k", dist.Bernoulli(0.5))

    tr = poutine.trace(poutine.enum(config_enumerate(model, default=None), first_available_dim=-1)).get_trace()
    assert tr.nodes["k"].infer["enumerate"] is None
    assert tr.nodes["k"].value.shape == ()


@pytest.mark.parametrize("elbo_class", [TraceEnum_ELBO, TraceTMC_ELBO])
def test_enumerating_elbos_check_model_and_guide_structure_before_the_enumeration_warning(elbo_class):
    # As in Pyro: a plate only the guide enters is reported, even when nothing is enumerated.
    def model():
        pplkit.sample("x", dist.Bernoulli(0.5))

    def guide():
        with pplkit.plate("guide_only", 10):
            pass
        pplkit.sample("x", dist.Bernoulli(0.5))

    with pytest.warns(UserWarning, match="Found plate statements in guide but not model"):
        elbo_class().loss(model, guide)

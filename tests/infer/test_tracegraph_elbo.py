"""TraceGraph_ELBO: unbiased against exact ELBO gradients, with lower variance than Trace_ELBO."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import constraints

import pplkit as pyro
import pplkit.distributions as dist
from pplkit.distributions.testing.fakes import NonreparameterizedBeta, NonreparameterizedNormal
from pplkit.infer import SVI, Trace_ELBO, TraceGraph_ELBO

DATA = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
A0, B0 = 10.0, 10.0


def coin_model(baseline=None):
    f = pyro.sample("f", dist.Beta(A0, B0))
    with pyro.plate("data", len(DATA)):
        pyro.sample("obs", dist.Bernoulli(f), obs=DATA)


def coin_guide(baseline=None):
    alpha = pyro.param("alpha_q", torch.tensor(15.0), constraint=constraints.positive)
    beta = pyro.param("beta_q", torch.tensor(15.0), constraint=constraints.positive)
    pyro.sample("f", NonreparameterizedBeta(alpha, beta), infer={"baseline": baseline or {}})


def exact_coin_elbo(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """E_q[log p(f) + log p(data | f)] + H(q) for q = Beta(alpha, beta), in closed form."""
    e_log_f = torch.digamma(alpha) - torch.digamma(alpha + beta)
    e_log_1mf = torch.digamma(beta) - torch.digamma(alpha + beta)
    heads, tails = DATA.sum(), (1 - DATA).sum()
    log_norm = torch.lgamma(torch.tensor(A0)) + torch.lgamma(torch.tensor(B0)) - torch.lgamma(torch.tensor(A0 + B0))
    return (A0 - 1 + heads) * e_log_f + (B0 - 1 + tails) * e_log_1mf - log_norm + dist.Beta(alpha, beta).entropy()


def gradient_draws(elbo, model, guide, names, batches, *args):
    """``batches`` estimates of the gradient of -ELBO w.r.t. the unconstrained params.

    Each estimate averages ``elbo.num_particles`` vectorised particles, so a test asks
    for few calls; the variance of one particle is ``num_particles`` times theirs.
    """
    guide(*args)
    store = pyro.get_param_store()
    leaves = [store.unconstrained(name) for name in names]
    draws = []
    for _ in range(batches):
        loss = elbo.differentiable_loss(model, guide, *args)
        draws.append(torch.stack(torch.autograd.grad(loss, leaves)))
    return torch.stack(draws)


def particles(elbo_class, nesting, **kwargs):
    return elbo_class(num_particles=40, vectorize_particles=True, max_plate_nesting=nesting, **kwargs)


def exact_coin_gradient() -> torch.Tensor:
    store = pyro.get_param_store()
    leaves = [store.unconstrained("alpha_q"), store.unconstrained("beta_q")]
    return torch.stack(torch.autograd.grad(-exact_coin_elbo(leaves[0].exp(), leaves[1].exp()), leaves))


def assert_unbiased(draws: torch.Tensor, exact: torch.Tensor) -> None:
    standard_error = draws.std(0) / len(draws) ** 0.5
    assert ((draws.mean(0) - exact).abs() < 4 * standard_error).all(), (draws.mean(0), exact, standard_error)


def test_the_score_function_gradient_is_the_exact_gradient_in_expectation():
    draws = gradient_draws(particles(TraceGraph_ELBO, 1), coin_model, coin_guide, ["alpha_q", "beta_q"], 50)
    assert_unbiased(draws, exact_coin_gradient())


def test_a_decaying_average_baseline_keeps_the_mean_and_lowers_the_variance():
    baseline = {"use_decaying_avg_baseline": True, "baseline_beta": 0.9}
    elbo = particles(TraceGraph_ELBO, 1)
    gradient_draws(elbo, coin_model, coin_guide, ["alpha_q", "beta_q"], 20, baseline)  # warm the average up
    with_baseline = gradient_draws(elbo, coin_model, coin_guide, ["alpha_q", "beta_q"], 50, baseline)
    without = gradient_draws(particles(TraceGraph_ELBO, 1), coin_model, coin_guide, ["alpha_q", "beta_q"], 50)
    exact = exact_coin_gradient()
    assert_unbiased(with_baseline, exact)
    assert (with_baseline.var(0) < 0.35 * without.var(0)).all()


X = torch.tensor([0.5, -1.0, 2.0])


def local_model():
    for i in pyro.plate("data", len(X)):
        z = pyro.sample(f"z_{i}", dist.Normal(0.0, 1.0))
        pyro.sample(f"x_{i}", dist.Normal(z, 1.0), obs=X[i])


def local_guide():
    for i in pyro.plate("data", len(X)):
        loc = pyro.param(f"m_{i}", torch.tensor(0.3))
        scale = pyro.param(f"s_{i}", torch.tensor(0.8), constraint=constraints.positive)
        pyro.sample(f"z_{i}", NonreparameterizedNormal(loc, scale))


def test_sequential_plates_cut_the_cost_to_each_iteration():
    # ELBO_i = -(m^2 + s^2)/2 - ((x - m)^2 + s^2)/2 + log s + const, so
    # d(-ELBO)/dm = 2m - x and d(-ELBO)/d(log s) = 2 s^2 - 1.
    names = [f"m_{i}" for i in range(3)] + [f"s_{i}" for i in range(3)]
    graph = gradient_draws(particles(TraceGraph_ELBO, 0), local_model, local_guide, names, 50)
    plain = gradient_draws(particles(Trace_ELBO, 0), local_model, local_guide, names, 50)
    exact = torch.cat([2 * 0.3 - X, torch.full((3,), 2 * 0.8**2 - 1)])
    assert_unbiased(graph, exact)
    assert_unbiased(plain, exact)
    assert (graph.var(0) < 0.7 * plain.var(0)).all()


def upstream_model():
    a = pyro.sample("a", dist.Normal(0.0, 1.0))
    b = pyro.sample("b", dist.Normal(0.0, 1.0))
    pyro.sample("x", dist.Normal(b, 1.0), obs=torch.tensor(1.0))
    return a


def upstream_guide():
    pyro.sample("a", dist.Normal(pyro.param("ma", torch.tensor(2.0)), 1.0))  # reparameterised, upstream of b
    pyro.sample("b", NonreparameterizedNormal(pyro.param("mb", torch.tensor(0.0)), 1.0))


def test_terms_upstream_of_a_site_leave_its_cost():
    graph = gradient_draws(particles(TraceGraph_ELBO, 0), upstream_model, upstream_guide, ["mb"], 50)
    plain = gradient_draws(particles(Trace_ELBO, 0), upstream_model, upstream_guide, ["mb"], 50)
    exact = torch.tensor([2 * 0.0 - 1.0])  # d(-ELBO)/dm_b = 2 m_b - x
    assert_unbiased(graph, exact)
    assert graph.var(0) < 0.7 * plain.var(0)


def fixed_guide(baseline):
    pyro.sample("f", NonreparameterizedBeta(torch.tensor(15.0), torch.tensor(15.0)), infer={"baseline": baseline()})


@pytest.mark.parametrize("kind", ["baseline_value", "nn_baseline"])
def test_a_learned_baseline_is_trained_towards_the_expected_cost(kind):
    # With q fixed, the cost's expectation is the ELBO itself.
    net = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(net.weight)
    torch.nn.init.zeros_(net.bias)

    def baseline():
        if kind == "nn_baseline":
            pyro.module("baseline", net)
            return {"nn_baseline": net, "nn_baseline_input": torch.ones(1)}
        return {"baseline_value": pyro.param("b", torch.tensor(0.0))}

    svi = SVI(lambda b: coin_model(), fixed_guide, pyro.optim.Adam({"lr": 0.3}), TraceGraph_ELBO())
    for _ in range(120):
        svi.step(baseline)
    learned = pyro.get_param_store()["b"] if kind == "baseline_value" else net(torch.ones(1)).squeeze()
    target = exact_coin_elbo(torch.tensor(15.0), torch.tensor(15.0))
    assert learned.item() == pytest.approx(target.item(), abs=0.5)
    loss = TraceGraph_ELBO().loss(lambda b: coin_model(), fixed_guide, baseline)
    assert abs(loss + target.item()) < 5.0  # the reported loss is -ELBO, not the baseline's loss


def test_svi_with_tracegraph_moves_towards_the_exact_posterior():
    svi = SVI(coin_model, coin_guide, pyro.optim.Adam({"lr": 0.02}), TraceGraph_ELBO())
    baseline = {"use_decaying_avg_baseline": True, "baseline_beta": 0.95}
    for _ in range(150):
        svi.step(baseline)
    store = pyro.get_param_store()
    # The exact posterior is Beta(16, 14); starting at Beta(15, 15), both move the right way.
    assert store["alpha_q"].item() > 15.2 and store["beta_q"].item() < 14.8


def test_bad_baseline_options_name_the_site():
    with pytest.raises(ValueError, match="guide site 'f': unknown baseline option"):
        TraceGraph_ELBO().loss(coin_model, coin_guide, {"use_decaying_average": True})
    with pytest.raises(ValueError, match="not both"):
        TraceGraph_ELBO().loss(coin_model, coin_guide, {"baseline_value": torch.tensor(0.0), "nn_baseline": abs})

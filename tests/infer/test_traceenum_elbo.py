"""Enumeration: config_enumerate, enum, markov, TraceEnum_ELBO and infer_discrete.

Checked against marginal likelihoods computed by hand and against Pyro itself.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import constraints

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer import SVI, TraceEnum_ELBO, config_enumerate, infer_discrete

DATA = torch.tensor([-2.1, -1.7, 0.1, 1.9, 2.4, 2.2])


def gmm(ppl, d):
    """A two-component mixture with known scale; written once for pplkit and for Pyro."""

    @ppl.infer.config_enumerate
    def model(data):
        weights = ppl.param("weights", torch.tensor([0.4, 0.6]), constraint=constraints.simplex)
        locs = ppl.param("locs", torch.tensor([-1.0, 1.5]))
        with ppl.plate("data", len(data)):
            z = ppl.sample("z", d.Categorical(weights))
            ppl.sample("x", d.Normal(locs[z], 0.8), obs=data)

    return model


def by_hand(weights, locs, data):
    """log p(data) = sum_i log sum_k w_k N(x_i; mu_k, 0.8)."""
    per_component = torch.distributions.Normal(locs, 0.8).log_prob(data.unsqueeze(-1)) + weights.log()
    return per_component.logsumexp(-1).sum()


def test_the_mixtures_marginal_likelihood_is_exact():
    model = gmm(pplkit, dist)
    loss = TraceEnum_ELBO(max_plate_nesting=1).differentiable_loss(model, lambda data: None, DATA)
    store = pplkit.get_param_store()
    weights, locs = store["weights"], store["locs"]
    exact = by_hand(weights, locs, DATA)
    assert loss.item() == pytest.approx(-exact.item(), rel=1e-6)
    got = torch.autograd.grad(loss, [store.unconstrained("locs")])[0]
    want = torch.autograd.grad(-exact, [store.unconstrained("locs")])[0]
    assert torch.allclose(got, want, atol=1e-6)


def em(data, weights, locs, steps=500):
    """Expectation-maximisation for the mixture (scale fixed): the maximum-likelihood fit, by hand."""
    for _ in range(steps):
        responsibility = (torch.distributions.Normal(locs, 0.8).log_prob(data.unsqueeze(-1)) + weights.log()).softmax(
            -1
        )
        weights = responsibility.mean(0)
        locs = (responsibility * data.unsqueeze(-1)).sum(0) / responsibility.sum(0)
    return weights, locs


def test_svi_fits_the_mixture_by_maximum_likelihood():
    model = gmm(pplkit, dist)
    svi = SVI(model, lambda data: None, pplkit.optim.Adam({"lr": 0.1}), TraceEnum_ELBO(max_plate_nesting=1))
    for _ in range(400):
        loss = svi.step(DATA)
    weights, locs = em(DATA, torch.tensor([0.4, 0.6]), torch.tensor([-1.0, 1.5]))
    assert loss == pytest.approx(-by_hand(weights, locs, DATA).item(), abs=0.02)
    assert torch.allclose(pplkit.get_param_store()["locs"].detach(), locs, atol=0.05)


def pyro_loss(make_model, make_guide, nesting, *args):
    """The same model's loss under Pyro's own TraceEnum_ELBO, the reference answer."""
    pyro = pytest.importorskip("pyro")
    import pyro.distributions as pdist

    pyro.clear_param_store()
    return pyro.infer.TraceEnum_ELBO(max_plate_nesting=nesting).loss(
        make_model(pyro, pdist), make_guide(pyro, pdist), *args
    )


def hierarchical(ppl, d):
    """A global discrete 'regime', a per-group discrete state, and data in nested plates."""

    @ppl.infer.config_enumerate
    def model(data):
        regime = ppl.sample("regime", d.Categorical(torch.tensor([0.3, 0.7])))
        stay = torch.tensor([[0.8, 0.2], [0.3, 0.7]])[regime]
        with ppl.plate("groups", data.shape[1], dim=-1):
            state = ppl.sample("state", d.Categorical(stay))
            loc = torch.tensor([-1.0, 2.0])[state]
            with ppl.plate("items", data.shape[0], dim=-2):
                ppl.sample("x", d.Normal(loc, 1.0), obs=data)

    return model


def no_guide(ppl, d):
    return lambda *args: None


def test_nested_plates_with_global_and_local_discretes_match_pyro():
    data = torch.tensor([[-1.2, 2.5, 0.3], [-0.4, 1.8, 0.9]])
    ours = TraceEnum_ELBO(max_plate_nesting=2).loss(hierarchical(pplkit, dist), lambda data: None, data)
    theirs = pyro_loss(hierarchical, no_guide, 2, data)
    assert ours == pytest.approx(theirs, rel=1e-5)
    # And by hand: sum over the regime of p(regime) * prod over groups of sum over the state.
    lik = torch.distributions.Normal(torch.tensor([-1.0, 2.0]), 1.0).log_prob(data.unsqueeze(-1)).sum(0)  # (3, 2)
    stay = torch.tensor([[0.8, 0.2], [0.3, 0.7]])
    per_regime = (stay.log().unsqueeze(1) + lik).logsumexp(-1).sum(-1) + torch.tensor([0.3, 0.7]).log()
    assert ours == pytest.approx(-per_regime.logsumexp(0).item(), rel=1e-5)


WIDTH, HEIGHT = 4, 5
PIXELS = torch.zeros(WIDTH, HEIGHT)
PIXELS[1, 2] = PIXELS[3, 0] = PIXELS[3, 4] = 1.0


def pixels(ppl, d, observe):
    """The tensor_shapes tutorial's sparse-pixel model: enumerated in the guide, observed in the model."""

    def fun(*args):
        p_x = ppl.param("p_x", torch.tensor(0.3), constraint=constraints.unit_interval)
        p_y = ppl.param("p_y", torch.tensor(0.4), constraint=constraints.unit_interval)
        x_axis = ppl.plate("x_axis", WIDTH, dim=-2)
        y_axis = ppl.plate("y_axis", HEIGHT, dim=-1)
        with x_axis:
            x_active = ppl.sample("x_active", d.Bernoulli(p_x))
        with y_axis:
            y_active = ppl.sample("y_active", d.Bernoulli(p_y))
        p = 0.1 + 0.5 * x_active * y_active
        with x_axis, y_axis:
            if observe:
                ppl.sample("pixels", d.Bernoulli(p), obs=PIXELS)

    return fun if observe else ppl.infer.config_enumerate(fun)


def test_guide_side_enumeration_is_an_exact_expectation_as_in_pyro():
    ours = TraceEnum_ELBO(max_plate_nesting=2).loss(pixels(pplkit, dist, True), pixels(pplkit, dist, False))
    theirs = pyro_loss(lambda p, d: pixels(p, d, True), lambda p, d: pixels(p, d, False), 2)
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_config_enumerate_forms_and_enum_dims():
    def model():
        a = pplkit.sample("a", dist.Categorical(torch.ones(3) / 3))
        with pplkit.plate("p", 4):
            b = pplkit.sample("b", dist.Bernoulli(0.5))
            c = pplkit.sample("c", dist.Normal(0.0, 1.0))
        return a, b, c

    for marked in (config_enumerate(model), config_enumerate(default="parallel")(model)):
        tr = poutine.trace(poutine.enum(marked, first_available_dim=-2)).get_trace()
        assert tr.nodes["a"].value.shape == (3, 1)
        assert tr.nodes["b"].value.shape == (2, 1, 1)
        assert tr.nodes["c"].value.shape == (4,)  # continuous: sampled
        assert tr.nodes["c"].infer.get("enumerate") is None
    tr = poutine.trace(poutine.enum(config_enumerate(model, expand=True), first_available_dim=-2)).get_trace()
    assert tr.nodes["b"].value.shape == (2, 1, 4)


def test_markov_reuses_enumeration_dims():
    def chain():
        x = 0
        for t in poutine.markov(range(4)):
            probs = torch.tensor([[0.9, 0.1], [0.2, 0.8]])[x]
            x = pplkit.sample(f"x_{t}", dist.Categorical(probs), infer={"enumerate": "parallel"})

    tr = poutine.trace(poutine.enum(chain, first_available_dim=-1)).get_trace()
    dims = [tr.nodes[f"x_{t}"].infer["_enumerate_dim"] for t in range(4)]
    assert dims == [-1, -2, -1, -2]
    with pytest.raises(NotImplementedError, match="share enumeration dim"):
        TraceEnum_ELBO(max_plate_nesting=0).loss(chain, lambda: None)


def test_infer_discrete_map_and_draws_follow_the_exact_posterior():
    model = gmm(pplkit, dist)
    model(DATA)  # create the params
    store = pplkit.get_param_store()
    weights, locs = store["weights"].detach(), store["locs"].detach()
    log_post = torch.distributions.Normal(locs, 0.8).log_prob(DATA.unsqueeze(-1)) + weights.log()
    posterior = log_post.softmax(-1)
    map_model = infer_discrete(model, first_available_dim=-2, temperature=0)
    tr = poutine.trace(map_model).get_trace(DATA)
    assert torch.equal(tr.nodes["z"].value, posterior.argmax(-1))
    sampler = infer_discrete(model, first_available_dim=-2, temperature=1)
    draws = torch.stack([poutine.trace(sampler).get_trace(DATA).nodes["z"].value for _ in range(150)])
    frequency = draws.float().mean(0)
    standard_error = (posterior[:, 1] * posterior[:, 0] / 150).sqrt()
    assert ((frequency - posterior[:, 1]).abs() <= 4 * standard_error + 1e-3).all()


def test_infer_discrete_with_a_global_discrete_uses_all_groups():
    data = torch.tensor([[-1.2, 2.5, 0.3], [-0.4, 1.8, 0.9]])
    model = hierarchical(pplkit, dist)
    tr = poutine.trace(infer_discrete(model, first_available_dim=-3, temperature=0)).get_trace(data)
    lik = torch.distributions.Normal(torch.tensor([-1.0, 2.0]), 1.0).log_prob(data.unsqueeze(-1)).sum(0)
    stay = torch.tensor([[0.8, 0.2], [0.3, 0.7]])
    per_regime = (stay.log().unsqueeze(1) + lik).logsumexp(-1).sum(-1) + torch.tensor([0.3, 0.7]).log()
    regime = int(per_regime.argmax())
    assert tr.nodes["regime"].value.item() == regime
    assert torch.equal(tr.nodes["state"].value, (stay[regime].log() + lik).argmax(-1))
    with pytest.raises(ValueError, match="temperature"):
        infer_discrete(model, temperature=0.5)
    assert not math.isnan(TraceEnum_ELBO(max_plate_nesting=2).loss(model, lambda data: None, data))


def test_a_sampled_discrete_guide_site_gets_an_unbiased_score_function_gradient():
    # z is sampled by the guide (not enumerated, not reparameterisable); y is summed out in
    # the model. The mean gradient over many particles must be the exact ELBO's gradient.
    x_obs = torch.tensor(0.7)
    p_y = torch.tensor([[0.8, 0.2], [0.3, 0.7]])  # p(y | z)
    locs = torch.tensor([-1.0, 1.0])

    def model():
        z = pplkit.sample("z", dist.Bernoulli(0.3)).long()
        y = pplkit.sample("y", dist.Categorical(p_y[z]), infer={"enumerate": "parallel"})
        pplkit.sample("x", dist.Normal(locs[y], 1.0), obs=x_obs)

    def guide():
        theta = pplkit.param("theta", torch.tensor(0.4))
        pplkit.sample("z", dist.Bernoulli(logits=theta))

    theta = torch.tensor(0.4, requires_grad=True)
    q1 = torch.sigmoid(theta)
    log_x_given_y = torch.distributions.Normal(locs, 1.0).log_prob(x_obs)
    exact = 0.0
    for z, (q_z, p_z) in enumerate([(1 - q1, 0.7), (q1, 0.3)]):
        exact = exact + q_z * (math.log(p_z) + (p_y[z].log() + log_x_given_y).logsumexp(0) - q_z.log())
    (exact_grad,) = torch.autograd.grad(-exact, theta)

    pplkit.clear_param_store()
    pplkit.set_rng_seed(0)
    elbo = TraceEnum_ELBO(max_plate_nesting=0)
    grads = []
    for _ in range(1000):
        loss = elbo.differentiable_loss(model, guide)
        (g,) = torch.autograd.grad(loss, pplkit.get_param_store().unconstrained("theta"))
        grads.append(g)
    grads_t = torch.stack(grads)
    standard_error = grads_t.std() / math.sqrt(len(grads))
    assert abs(grads_t.mean() - exact_grad) < 4 * standard_error
    assert elbo.loss(model, guide) == pytest.approx(-exact.item(), abs=1.5)  # one particle: near the ELBO


def test_vectorized_particles_give_the_exact_marginal_when_nothing_is_sampled():
    model = gmm(pplkit, dist)
    weights, locs = torch.tensor([0.4, 0.6]), torch.tensor([-1.0, 1.5])
    exact = -float(by_hand(weights, locs, DATA))
    vectorized = TraceEnum_ELBO(max_plate_nesting=1, num_particles=5, vectorize_particles=True)
    assert vectorized.loss(model, lambda data: None, DATA) == pytest.approx(exact, rel=1e-5)


def test_vectorized_particles_average_a_sampled_global():
    # loc is sampled by the guide (one value per particle); z is summed out in the model.
    @config_enumerate
    def model(data):
        loc = pplkit.sample("loc", dist.Normal(0.0, 3.0))
        with pplkit.plate("data", len(data)):
            z = pplkit.sample("z", dist.Bernoulli(0.5))
            pplkit.sample("x", dist.Normal(loc + 2.0 * z, 1.0), obs=data)

    def guide(data):
        pplkit.sample("loc", dist.Normal(0.0, 0.5))

    pplkit.set_rng_seed(0)
    many = TraceEnum_ELBO(max_plate_nesting=1, num_particles=4000, vectorize_particles=True).loss(model, guide, DATA)
    pplkit.set_rng_seed(1)
    looped = [TraceEnum_ELBO(max_plate_nesting=1).loss(model, guide, DATA) for _ in range(400)]
    assert many == pytest.approx(sum(looped) / len(looped), rel=0.03)

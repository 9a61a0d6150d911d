"""NUTS against closed-form posteriors, within Monte-Carlo error measured by the chain's own ESS.

The Monte-Carlo standard error of a posterior mean is sd / sqrt(n_eff). For the sd, the
variance estimate has standard error std((x - mean)^2) / sqrt(n_eff of (x - mean)^2),
and the sd's is half that over the sd (the delta method); NUTS chains often have a
larger n_eff for the mean than for squares, so each gets its own. Every check allows
4 standard errors.
"""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer.mcmc import HMC, MCMC, NUTS, effective_sample_size


def run_nuts(model, *args, warmup=300, samples=500, **kernel_options):
    mcmc = MCMC(NUTS(model, **kernel_options), num_samples=samples, warmup_steps=warmup, disable_progbar=True)
    mcmc.run(*args)
    return mcmc


def assert_matches(samples: torch.Tensor, mean: torch.Tensor | float, sd: torch.Tensor | float, site: str):
    """Posterior mean and sd of ``samples`` (num_samples, ...) within 4 Monte-Carlo standard errors."""
    samples = samples.double()
    mean, sd = torch.as_tensor(mean, dtype=samples.dtype), torch.as_tensor(sd, dtype=samples.dtype)
    n_eff = effective_sample_size(samples.unsqueeze(0))
    squares = (samples - samples.mean(0)) ** 2
    n_eff_squares = effective_sample_size(squares.unsqueeze(0))
    assert bool((n_eff_squares > 50).all()), f"{site}: n_eff {n_eff_squares} too low to test anything"
    mean_error = (samples.mean(0) - mean).abs() / (sd / n_eff.sqrt())
    sd_error = (samples.std(0) - sd).abs() / (squares.std(0) / n_eff_squares.sqrt() / (2 * sd))
    assert bool((mean_error < 4).all()), f"{site}: mean off by {mean_error} MCSE"
    assert bool((sd_error < 4).all()), f"{site}: sd off by {sd_error} MCSE"


def test_normal_normal_with_known_scale_in_a_plate():
    data = torch.randn(20) * 2.0 + 3.0
    prior_loc, prior_sd, noise_sd = 0.0, 5.0, 2.0

    def model(x):
        loc = pplkit.sample("loc", dist.Normal(prior_loc, prior_sd))
        with plate("data", len(x)):
            pplkit.sample("x", dist.Normal(loc, noise_sd), obs=x)

    precision = 1 / prior_sd**2 + len(data) / noise_sd**2
    post_mean = (prior_loc / prior_sd**2 + data.sum() / noise_sd**2) / precision
    mcmc = run_nuts(model, data)
    assert_matches(mcmc.get_samples()["loc"], post_mean, precision**-0.5, "loc")


def test_group_means_in_a_plate_have_their_own_conjugate_posteriors():
    group_data = torch.tensor([[1.0, 2.0, 1.5], [-3.0, -2.5, -4.0], [10.0, 11.0, 9.5]])  # (groups, obs)

    def model(y):
        with plate("groups", 3, dim=-2):
            mu = pplkit.sample("mu", dist.Normal(0.0, 10.0))  # shape (3, 1)
            with plate("obs", 3, dim=-1):
                pplkit.sample("y", dist.Normal(mu, 1.0), obs=y)

    precision = 1 / 100 + 3 / 1.0
    post_mean = (group_data.sum(-1, keepdim=True) / 1.0) / precision
    samples = run_nuts(model, group_data).get_samples()["mu"]
    assert samples.shape == (500, 3, 1)
    assert_matches(samples, post_mean, torch.full((3, 1), precision**-0.5), "mu")


def test_beta_bernoulli():
    flips = torch.tensor([1.0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1])
    a, b = 2.0, 2.0

    def model(y):
        p = pplkit.sample("p", dist.Beta(a, b))
        with plate("flips", len(y)):
            pplkit.sample("y", dist.Bernoulli(p), obs=y)

    post = torch.distributions.Beta(a + flips.sum(), b + len(flips) - flips.sum())
    assert_matches(run_nuts(model, flips).get_samples()["p"], post.mean, post.stddev, "p")


def test_gamma_poisson():
    counts = torch.tensor([3.0, 5, 4, 6, 2, 4, 5, 3])
    shape, rate = 2.0, 0.5

    def model(y):
        lam = pplkit.sample("rate", dist.Gamma(shape, rate))
        with plate("days", len(y)):
            pplkit.sample("y", dist.Poisson(lam), obs=y)

    post = torch.distributions.Gamma(shape + counts.sum(), rate + len(counts))
    assert_matches(run_nuts(model, counts).get_samples()["rate"], post.mean, post.stddev, "rate")


def regression_problem():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(30, 3, generator=gen)
    x[:, 2] = x[:, 1] + x[:, 2]  # correlated columns: a correlated posterior
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.5 * torch.randn(30, generator=gen)
    prior_sd, noise_sd = 3.0, 0.5

    def model(x, y):
        w = pplkit.sample("w", dist.Normal(torch.zeros(3), prior_sd).to_event(1))
        with plate("data", len(y)):
            pplkit.sample("y", dist.Normal(x @ w, noise_sd), obs=y)

    covariance = torch.linalg.inv(x.T @ x / noise_sd**2 + torch.eye(3) / prior_sd**2)
    mean = covariance @ x.T @ y / noise_sd**2
    return model, (x, y), mean, covariance.diagonal().sqrt()


@pytest.mark.parametrize("full_mass", [False, True])
def test_bayesian_linear_regression_with_known_noise(full_mass):
    model, data, mean, sd = regression_problem()
    mcmc = run_nuts(model, *data, full_mass=full_mass)
    assert_matches(mcmc.get_samples()["w"], mean, sd, "w")
    if full_mass:  # the learnt dense mass matrix is the posterior covariance, so steps are long
        assert mcmc.diagnostics()["mean num steps"]["chain 0"] < 8


def test_a_funnel_reports_divergences_and_their_sample_indices():
    def funnel():
        log_scale = pplkit.sample("log_scale", dist.Normal(0.0, 3.0))
        pplkit.sample("x", dist.Normal(torch.zeros(5), log_scale.exp()).to_event(1))

    # A step far too large for the funnel's neck, kept fixed, makes trajectories diverge.
    mcmc = run_nuts(funnel, warmup=0, samples=50, step_size=3.0, adapt_step_size=False)
    divergences = mcmc.diagnostics()["divergences"]["chain 0"]
    assert len(divergences) > 0
    assert all(0 <= i < 50 for i in divergences)
    assert all(mcmc.transitions[0][i].diverging for i in divergences)


def test_max_tree_depth_bounds_the_steps_per_transition():
    def model():
        pplkit.sample("x", dist.Normal(torch.zeros(3), 1.0).to_event(1))

    mcmc = run_nuts(model, warmup=0, samples=30, step_size=1e-3, adapt_step_size=False, max_tree_depth=3)
    assert max(t.num_steps for t in mcmc.transitions[0]) == 2**3 - 1  # a tree of depth 3 has 8 points
    assert max(t.tree_depth for t in mcmc.transitions[0]) == 3


@pytest.mark.parametrize(
    "options, message",
    [
        ({"step_size": 0.0}, "step_size must be a positive number"),
        ({"target_accept_prob": 1.5}, "target_accept_prob must be between 0 and 1"),
        ({"max_tree_depth": 0}, "max_tree_depth must be a positive int"),
        ({"full_mass": [("a", "b")]}, "full_mass must be True or False"),
        ({"use_multinomial_sampling": False}, "always uses multinomial"),
    ],
)
def test_bad_arguments_are_named(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        NUTS(lambda: None, **options)


def test_a_model_or_a_potential_fn_is_required():
    with pytest.raises(ValueError, match=r"NUTS got no model: pass the model function itself, NUTS\(model\), not"):
        NUTS()
    with pytest.raises(ValueError, match="either a model or a potential_fn, not both"):
        NUTS(lambda: None, potential_fn=lambda v: 0.0)
    with pytest.raises(TypeError, match="model must be callable"):
        NUTS(model=3)


def test_potential_fn_samples_a_standard_normal_from_initial_params():
    kernel = NUTS(potential_fn=lambda v: 0.5 * (v["x"] ** 2).sum())
    mcmc = MCMC(kernel, num_samples=500, warmup_steps=200, initial_params={"x": torch.zeros(2)}, disable_progbar=True)
    mcmc.run()
    assert_matches(mcmc.get_samples()["x"], torch.zeros(2), torch.ones(2), "x")
    with pytest.raises(ValueError, match="needs initial_params"):
        MCMC(NUTS(potential_fn=lambda v: v["x"]), num_samples=5, disable_progbar=True).run()


def test_autoguide_init_strategies_choose_the_starting_point():
    from pplkit.infer.autoguide.initialization import init_to_value

    def model():
        pplkit.sample("loc", dist.Normal(0.0, 1.0))
        pplkit.sample("scale", dist.LogNormal(0.0, 1.0))

    kernel = NUTS(model, init_strategy=init_to_value(values={"loc": torch.tensor(5.0), "scale": torch.tensor(2.0)}))
    kernel.setup()
    start = kernel.potential.constrain(kernel.initial_position())
    assert float(start["loc"]) == 5.0 and float(start["scale"]) == pytest.approx(2.0)


@pytest.mark.slow
def test_intro_model_agrees_with_pyros_nuts(rugged_data_dir):
    from pplkit.examples import model, rugged_data

    # Pyro 1.9.2's NUTS on the same data: posterior mean and sd of each site.
    reference = {
        "a": (9.171, 0.145),
        "bA": (-1.824, 0.232),
        "bR": (-0.180, 0.080),
        "bAR": (0.337, 0.132),
        "sigma": (0.954, 0.051),
    }
    samples = run_nuts(model, *rugged_data(), warmup=300, samples=500).get_samples()
    for site, (mean, sd) in reference.items():
        # The reference itself is a Monte-Carlo estimate (about 1000 samples), so allow for both errors.
        n_eff = float(effective_sample_size(samples[site].unsqueeze(0)))
        mcse = sd * math.sqrt(1 / n_eff + 1 / 500)
        assert abs(float(samples[site].mean()) - mean) < 4 * mcse, site
        assert abs(float(samples[site].std()) - sd) < 4 * sd * math.sqrt(1 / (2 * n_eff) + 1 / 1000), site


def beta_data():
    torch.manual_seed(0)  # a Beta sampler cannot take a generator
    return torch.distributions.Beta(2.0, 5.0).sample((50,))


BETA_DATA = beta_data()


def beta_likelihood(y):
    a = pplkit.sample("a", dist.HalfNormal(5.0))
    b = pplkit.sample("b", dist.HalfNormal(5.0))
    with pplkit.plate("data", len(y)):
        pplkit.sample("y", dist.Beta(a, b), obs=y)


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_a_beta_likelihood_runs_although_torch_validates_betas_inner_dirichlet(seed):
    # Beta(a, b) builds a torch Dirichlet that ignores pplkit's switch; a trajectory that
    # drives a concentration to 0 is a divergence there, not a crash (seed 2 crashed before).
    pplkit.set_rng_seed(seed)
    mcmc = MCMC(NUTS(beta_likelihood), num_samples=200, warmup_steps=200, disable_progbar=True)
    mcmc.run(BETA_DATA)
    samples = mcmc.get_samples()
    # The posterior means lie near the method-of-moments fit of a Beta to the data.
    mean, var = float(BETA_DATA.mean()), float(BETA_DATA.var())
    common = mean * (1 - mean) / var - 1
    for site, moment in (("a", mean * common), ("b", (1 - mean) * common)):
        assert float(samples[site].mean()) == pytest.approx(moment, rel=0.35), site


def test_a_validation_error_still_raises_when_validation_is_on():
    from pplkit.infer.mcmc.potential import Potential

    potential = Potential(beta_likelihood, (BETA_DATA,))
    z = torch.tensor([-200.0, 0.0])  # a = exp(-200) underflows to 0: Dirichlet refuses it
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        potential.energy_and_grad(z)
    with pplkit.util.validation_disabled():
        energy, grad = potential.energy_and_grad(z)
    assert energy == float("inf") and bool((grad == 0).all())


@pytest.mark.parametrize("kernel", [NUTS, HMC])
def test_step_size_none_is_accepted_as_in_pyro(kernel):
    mcmc = MCMC(kernel(normal_model_for_step_size, step_size=None), 20, warmup_steps=20, disable_progbar=True)
    mcmc.run()
    assert kernel(normal_model_for_step_size, step_size=None).step_size == 1.0
    assert mcmc.get_samples()["x"].shape == (20,)


def normal_model_for_step_size():
    pplkit.sample("x", dist.Normal(0.0, 1.0))

"""HMC with a fixed trajectory: a closed-form posterior, Pyro's num_steps semantics, bad arguments."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate
from pplkit.infer.mcmc import HMC, MCMC, effective_sample_size

DATA = torch.tensor([1.2, 0.4, 2.1, 1.7, 0.9, 1.1])


def model(x):
    loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
    with plate("data", len(x)):
        pplkit.sample("x", dist.Normal(loc, 1.0), obs=x)


def test_hmc_matches_the_normal_normal_posterior():
    kernel = HMC(model, step_size=0.2, num_steps=5)
    mcmc = MCMC(kernel, num_samples=600, warmup_steps=200, disable_progbar=True)
    mcmc.run(DATA)
    samples = mcmc.get_samples()["loc"]
    post_mean, post_sd = float(DATA.sum() / 7), 1 / math.sqrt(7)
    n_eff = float(effective_sample_size(samples.unsqueeze(0)))
    assert abs(float(samples.mean()) - post_mean) < 4 * post_sd / math.sqrt(n_eff)
    assert abs(float(samples.std()) - post_sd) < 4 * post_sd / math.sqrt(2 * n_eff)
    assert 0.0 < mcmc.diagnostics()["acceptance rate"]["chain 0"] <= 1.0


def test_num_steps_fixes_the_trajectory_length_as_in_pyro():
    kernel = HMC(model, step_size=0.1, num_steps=7, adapt_step_size=False)
    assert kernel.trajectory_length == pytest.approx(0.7)
    mcmc = MCMC(kernel, num_samples=5, warmup_steps=0, disable_progbar=True)
    mcmc.run(DATA)
    assert [t.num_steps for t in mcmc.transitions[0]] == [7] * 5
    kernel.step_size = 0.05  # what adaptation does: the same length now takes twice the steps
    assert kernel.num_steps == 14


def test_default_trajectory_length_is_two_pi():
    assert HMC(model, step_size=0.5).num_steps == int(2 * math.pi / 0.5)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"num_steps": 0}, "num_steps must be a positive int"),
        ({"num_steps": 2.5}, "num_steps must be a positive int"),
        ({"trajectory_length": -1.0}, "trajectory_length must be a positive number"),
        ({"step_size": float("nan")}, "step_size must be a positive number"),
    ],
)
def test_bad_arguments_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        HMC(model, **options)


def test_kernel_methods_need_setup_first():
    with pytest.raises(RuntimeError, match=r"call HMC.setup\(\*model_args\) first"):
        HMC(model).initial_position()


def test_a_flat_potential_is_reported_as_improper():
    kernel = HMC(potential_fn=lambda values: 0.0 * values["x"].sum(), num_steps=3)
    mcmc = MCMC(kernel, num_samples=5, warmup_steps=5, initial_params={"x": torch.zeros(2)}, disable_progbar=True)
    with pytest.raises(ValueError, match="the posterior looks improper"):
        mcmc.run()

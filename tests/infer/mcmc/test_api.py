"""MCMC: sample shapes as in Pyro, chains, initial params, hooks, summary, diagnostics, errors."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, poutine
from pplkit.infer.mcmc import MCMC, NUTS
from pplkit.util import default_validate_args

DATA = torch.tensor([0.3, -0.5, 1.2, 0.8])


def model(x):
    loc = pplkit.sample("loc", dist.Normal(0.0, 1.0))
    scale = pplkit.sample("scale", dist.HalfNormal(torch.ones(2)).to_event(1))
    with plate("data", len(x)):
        pplkit.sample("x", dist.Normal(loc, scale.sum()), obs=x)


def small_run(**options):
    options = {"num_samples": 20, "warmup_steps": 10, "disable_progbar": True, **options}
    mcmc = MCMC(NUTS(model), **options)
    mcmc.run(DATA)
    return mcmc


def test_sample_shapes_follow_pyro():
    mcmc = small_run(num_chains=2)
    samples = mcmc.get_samples()
    assert samples["loc"].shape == (40,) and samples["scale"].shape == (40, 2)
    grouped = mcmc.get_samples(group_by_chain=True)
    assert grouped["loc"].shape == (2, 20) and grouped["scale"].shape == (2, 20, 2)
    assert mcmc.get_samples(num_samples=7)["scale"].shape == (7, 2)
    assert mcmc.get_samples(num_samples=7, group_by_chain=True)["scale"].shape == (2, 7, 2)
    assert bool((samples["scale"] > 0).all())  # constrained values


def test_runs_are_reproducible_under_a_seed():
    pplkit.set_rng_seed(7)
    first = small_run().get_samples()["loc"]
    pplkit.set_rng_seed(7)
    assert torch.equal(small_run().get_samples()["loc"], first)


def test_initial_params_are_unconstrained_and_start_the_chain():
    seen = []
    start = {"loc": torch.tensor(1.5), "scale": torch.tensor([0.0, -1.0])}  # log of the scales
    small_run(num_samples=1, warmup_steps=0, initial_params=start, hook_fn=lambda k, params, stage, i: seen.append(k))
    kernel = seen[0]
    assert kernel.potential is not None
    with pytest.raises(ValueError, match=r"initial_params\['loc'\] must have a leading dim of size num_chains=2"):
        MCMC(NUTS(model), num_samples=5, num_chains=2, initial_params=start)
    with pytest.raises(ValueError, match=r"initial_params has no value for the latent sites \['scale'\]"):
        small_run(initial_params={"loc": torch.tensor(0.0)})


def test_hook_fn_sees_every_transition_with_its_stage():
    calls = []
    small_run(hook_fn=lambda kernel, params, stage, i: calls.append((stage, i, sorted(params))))
    assert [c[:2] for c in calls] == [("Warmup", i) for i in range(10)] + [("Sample", i) for i in range(20)]
    assert calls[0][2] == ["loc", "scale"]


def test_summary_prints_a_row_per_element_and_returns_the_numbers(capsys):
    table = small_run().summary(prob=0.5)
    out = capsys.readouterr().out
    assert "25.0%" in out and "75.0%" in out and "Number of divergences:" in out
    for row in ("loc", "scale[0]", "scale[1]"):
        assert f"\n{row:>10} " in out
    assert set(table) == {"loc", "scale"} and len(table["scale"]["n_eff"]) == 2


def test_diagnostics_count_per_chain():
    diagnostics = small_run(num_chains=2).diagnostics()
    assert set(diagnostics["divergences"]) == {"chain 0", "chain 1"}
    assert all(0.0 <= rate <= 1.0 for rate in diagnostics["acceptance rate"].values())
    assert diagnostics["loc"]["n_eff"].shape == () and diagnostics["scale"]["r_hat"].shape == (2,)


def test_sampling_is_hidden_from_outer_handlers_and_restores_validation():
    pplkit.enable_validation(True)
    with poutine.trace() as outer:
        small_run()
    assert len(outer.trace) == 0
    assert default_validate_args() is True and dist.Normal(0.0, 1.0)._validate_args


def test_runs_inside_no_grad():
    with torch.no_grad():
        assert small_run().get_samples()["loc"].shape == (20,)


def test_progress_bar_runs(capsys):
    small_run(disable_progbar=False)
    assert "Sample" in capsys.readouterr().err


def test_bad_arguments_and_order_of_calls():
    with pytest.raises(TypeError, match=r"MCMC needs an HMC or NUTS kernel, e.g. MCMC\(NUTS\(model\)"):
        MCMC(model, num_samples=10)
    with pytest.raises(ValueError, match="num_samples must be an int >= 1"):
        MCMC(NUTS(model), num_samples=0)
    with pytest.raises(ValueError, match="warmup_steps must be an int >= 0"):
        MCMC(NUTS(model), num_samples=5, warmup_steps=-1)
    with pytest.raises(RuntimeError, match=r"call mcmc.run\(\*model_args\) first"):
        MCMC(NUTS(model), num_samples=5).get_samples()

"""MCMC's warnings when samples are not the posterior: each check alone, then whole runs."""

from __future__ import annotations

import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer.mcmc import MCMC, NUTS
from pplkit.infer.mcmc.health import MCMCWarning, check_chains, e_bfmi
from pplkit.infer.mcmc.hmc import Transition


def transitions(n=400, energies=None, **fields):
    energies = torch.randn(n, generator=torch.Generator().manual_seed(1)).tolist() if energies is None else energies
    defaults = {"accept_prob": 0.8, "num_steps": 7, "diverging": False, "moved": True, "tree_depth": 3}
    return [[Transition(**{**defaults, **fields}, energy=float(e)) for e in energies]]


def iid_samples(n=400):
    return {"x": torch.randn(1, n, generator=torch.Generator().manual_seed(2))}


def problems(ts=None, samples=None, step_sizes=(0.5,), initial=(0.7,), max_tree_depth=10):
    return check_chains(ts or transitions(), samples or iid_samples(), step_sizes, initial, max_tree_depth)


def test_a_healthy_chain_has_no_problems():
    assert problems() == []


def test_divergences_are_counted():
    ts = transitions()
    for t in ts[0][:3]:
        t.diverging = True
    (found,) = problems(ts)
    assert found.startswith("3 of 400 transitions after warmup were divergent") and "target_accept_prob" in found


def test_a_saturated_tree_depth_is_flagged():
    (found,) = problems(transitions(tree_depth=10))
    assert "400 of 400 transitions hit max_tree_depth=10" in found


def test_a_drifting_energy_is_a_chain_that_did_not_settle():
    energies = torch.linspace(0.0, -500.0, 400) + torch.randn(400)
    found = problems(transitions(energies=energies.tolist()))
    assert any("chain 0 did not settle" in p and "improper" in p for p in found)


def test_e_bfmi_matches_its_formula_and_a_sticky_energy_is_flagged():
    energies = torch.tensor([1.0, 2.0, 4.0, 3.0])
    expected = ((1 + 4 + 1) / ((energies - 2.5) ** 2).sum()).item()
    assert e_bfmi(energies) == pytest.approx(expected)
    # A random walk in energy: each transition moves it a little, so E-BFMI is tiny.
    walk = torch.randn(400, generator=torch.Generator().manual_seed(3)).mul(0.01).cumsum(0)
    walk = walk - walk.mean()
    flagged = [p for p in problems(transitions(energies=walk.tolist())) if "E-BFMI" in p]
    assert len(flagged) == 1 and "below 0.3" in flagged[0]


def test_a_collapsed_step_size_is_flagged():
    (found,) = problems(step_sizes=(1e-4,), initial=(1.0,))
    assert "step size collapsed during warmup, from 1 to 0.0001" in found


def test_r_hat_and_few_effective_samples_are_flagged_per_site():
    stuck = torch.stack([torch.zeros(400), torch.ones(400)]) + 0.01 * torch.randn(2, 400)
    found = problems(transitions() * 2, {"x": stuck}, step_sizes=(0.5, 0.5), initial=(0.7, 0.7))
    assert any(p.startswith("site 'x' has r_hat") for p in found)
    sticky = {"x": torch.randn(1, 40).repeat_interleave(10, dim=1)}  # each draw kept 10 times
    assert any(p.startswith("site 'x' has only") for p in problems(samples=sticky))


def improper():
    x = pplkit.sample("x", dist.Normal(0.0, 1.0))
    pplkit.factor("f", x**2)  # log density x^2 / 2: no posterior at all


def test_nuts_on_an_improper_posterior_warns_and_summary_shows_it(capsys):
    mcmc = MCMC(NUTS(improper), num_samples=200, warmup_steps=200, disable_progbar=True)
    with pytest.warns(MCMCWarning) as record:
        mcmc.run()
    messages = [str(w.message) for w in record]
    assert any("did not settle" in m for m in messages)
    assert any("r_hat" in m for m in messages)
    mcmc.summary()
    printed = capsys.readouterr().out
    assert "Warning: these samples may not be the posterior" in printed and "did not settle" in printed


def normal_model():
    pplkit.sample("x", dist.Normal(1.0, 2.0))


def test_a_well_posed_run_gives_no_warning(capsys):
    mcmc = MCMC(NUTS(normal_model), num_samples=400, warmup_steps=200, disable_progbar=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MCMCWarning)
        mcmc.run()
    assert mcmc.problems == []
    mcmc.summary()
    assert "Warning" not in capsys.readouterr().out

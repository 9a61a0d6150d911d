"""Signs that a chain's samples are not a posterior: Stan's warnings, and a runaway check.

A run can finish and still be wrong. :func:`check_chains` looks for what Stan looks
for and says, in one line each, what it found and what to try:

* divergent transitions (the integrator left the typical set; the draws near them
  are biased);
* transitions that hit the maximum tree depth (the trajectory was cut short);
* a low E-BFMI, the energy Bayesian fraction of missing information (Betancourt 2016):
  the momentum draws cannot move the chain across the energy levels of a heavy tail;
* a chain whose potential energy drifts between the halves of its sampling phase
  (split r_hat of the energy): it never settled, e.g. because the posterior is
  improper and the draws keep running off;
* a step size that warmup shrank a thousandfold, which a posterior with a scale
  changing along the chain forces;
* r_hat above 1.05 and fewer than 100 effective samples for a site.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from .diagnostics import effective_sample_size, split_gelman_rubin
from .hmc import Transition

__all__ = ["MCMCWarning", "check_chains"]

MIN_E_BFMI = 0.3  # Stan's threshold
MAX_ENERGY_R_HAT = 1.1
MAX_R_HAT = 1.05
MIN_N_EFF = 100
MAX_STEP_SIZE_SHRINK = 1e-3


class MCMCWarning(UserWarning):
    """MCMC's samples show a sign that they are not (yet) draws from the posterior."""


def e_bfmi(energies: torch.Tensor) -> float:
    """The energy Bayesian fraction of missing information of one chain's Hamiltonians.

    Example::

        e_bfmi(torch.randn(1000))  # about 2 for independent draws; below 0.3 is a warning
    """
    energies = energies.double()
    spread = (energies - energies.mean()).pow(2).sum()
    return float(energies.diff().pow(2).sum() / spread) if spread > 0 else math.inf


def check_chains(
    transitions: Sequence[Sequence[Transition]],
    samples: dict[str, torch.Tensor],
    step_sizes: Sequence[float],
    initial_step_sizes: Sequence[float],
    max_tree_depth: int | None = None,
) -> list[str]:
    """What looks wrong with a finished run, one sentence per problem (empty when nothing does).

    Args:
        transitions: per chain, the sampling phase's transitions.
        samples: site name -> samples shaped ``(num_chains, num_samples, *site_shape)``.
        step_sizes: per chain, the step size after warmup.
        initial_step_sizes: per chain, the step size warmup started from.
        max_tree_depth: NUTS's limit (None for HMC).
    """
    problems: list[str] = []
    total = sum(len(ts) for ts in transitions)
    divergent = sum(t.diverging for ts in transitions for t in ts)
    if divergent:
        problems.append(
            f"{divergent} of {total} transitions after warmup were divergent: the draws near them are biased. "
            "Raise target_accept_prob (e.g. 0.95) or reparameterise the model (e.g. non-centred)"
        )
    if max_tree_depth is not None:
        saturated = sum(t.tree_depth >= max_tree_depth for ts in transitions for t in ts)
        if saturated:
            problems.append(
                f"{saturated} of {total} transitions hit max_tree_depth={max_tree_depth}: their trajectories "
                "were cut short. Raise max_tree_depth, or rescale the model's latent variables"
            )
    for chain, ts in enumerate(transitions):
        if len(ts) < 4:
            continue
        energies = torch.tensor([t.energy for t in ts], dtype=torch.float64)
        if not bool(torch.isfinite(energies).all()):
            continue
        label = f"chain {chain}"
        drift = float(split_gelman_rubin(energies.reshape(1, -1)))
        if drift > MAX_ENERGY_R_HAT:
            problems.append(
                f"{label} did not settle: its energy drifts between the halves of its samples (split r_hat "
                f"{drift:.2f}), so its draws keep leaving the region they were in. The posterior may be "
                "improper (check that every latent site has a proper prior and the factors are bounded), "
                "or warmup was too short"
            )
        fraction = e_bfmi(energies)
        if fraction < MIN_E_BFMI:
            problems.append(
                f"{label} has E-BFMI {fraction:.2f} (below {MIN_E_BFMI}): it explores the tails poorly. "
                "Reparameterise the model, or give heavy-tailed sites a tighter prior"
            )
    for chain, (final, initial) in enumerate(zip(step_sizes, initial_step_sizes)):
        if initial > 0 and final < MAX_STEP_SIZE_SHRINK * initial:
            problems.append(
                f"chain {chain}'s step size collapsed during warmup, from {initial:.2g} to {final:.2g}: the "
                "posterior's scale changes along the chain (a funnel, or draws running off). Reparameterise"
            )
    if all(v.shape[1] >= 4 for v in samples.values()):
        for name, value in samples.items():
            r_hat = float(split_gelman_rubin(value).nan_to_num(nan=math.inf).max())
            n_eff = float(effective_sample_size(value).nan_to_num(nan=0.0).min())
            if r_hat > MAX_R_HAT:
                problems.append(
                    f"site '{name}' has r_hat {r_hat:.2f} (above {MAX_R_HAT}): the chains have not converged. "
                    "Run longer (more warmup_steps) or with more chains, and check for the warnings above"
                )
            if n_eff < MIN_N_EFF:
                problems.append(
                    f"site '{name}' has only {n_eff:.0f} effective samples (fewer than {MIN_N_EFF}): its "
                    "mean and quantiles are not reliable. Draw more samples"
                )
    return problems

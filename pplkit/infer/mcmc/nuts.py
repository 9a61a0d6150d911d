"""The No-U-Turn Sampler: HMC that chooses its own trajectory length, as in Stan.

Each transition draws a momentum and doubles a trajectory forwards or backwards in
time, at random, until it makes a U-turn, diverges, or has doubled ``max_tree_depth``
times (``2**max_tree_depth - 1`` leapfrog steps). The next state is drawn from all the
points visited, each weighted by ``exp(-H)`` (multinomial sampling), with a bias
towards the newest half so that the chain moves far (Betancourt 2017, appendix A).

A U-turn is tested with the generalised criterion: with ``rho`` the sum of the momenta
of a (sub)trajectory and ``v`` the velocities at its two ends, the trajectory keeps
going while ``v_first . rho > 0`` and ``v_last . rho > 0``. As in current Stan, a
merged trajectory is also tested across the seam between its two halves, which
catches U-turns that neither half nor the whole shows on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .hamiltonian import PhasePoint
from .hmc import HMC, MAX_DELTA_ENERGY, Leapfrogs, Transition
from .potential import InitStrategy

__all__ = ["NUTS"]


@dataclass(slots=True)
class _Tree:
    """A (sub)trajectory: its two ends in the order it was built, and its proposal."""

    first: PhasePoint  # the end where building started
    last: PhasePoint  # the far end
    proposal: PhasePoint  # a point drawn from the tree with weights exp(-H)
    log_weight: float  # log of the sum of exp(H0 - H) over the tree's points
    momentum_sum: torch.Tensor  # rho
    depth: int
    turning: bool = False

    def reversed(self) -> _Tree:
        return _Tree(self.last, self.first, self.proposal, self.log_weight, self.momentum_sum, self.depth, self.turning)


@dataclass(slots=True)
class _Progress:
    """Counts kept while one trajectory is built."""

    num_steps: int = 0
    sum_accept_prob: float = 0.0
    diverging: bool = False


def _log_add_exp(a: float, b: float) -> float:
    high, low = (a, b) if a > b else (b, a)
    if low == -math.inf:
        return high
    return high + math.log1p(math.exp(low - high))


def _turning(velocity_a: torch.Tensor, velocity_b: torch.Tensor, momentum_sum: torch.Tensor) -> bool:
    return float(velocity_a.dot(momentum_sum)) <= 0.0 or float(velocity_b.dot(momentum_sum)) <= 0.0


class NUTS(HMC):
    """The No-U-Turn Sampler with multinomial sampling, as in Stan and Pyro.

    Args:
        model: the model; its discrete latent sites are summed out, as in :class:`HMC`.
        potential_fn: instead of a model, a function of a dict of unconstrained values
            returning the potential energy (then MCMC needs ``initial_params``).
        step_size: the leapfrog step size to start from (None: 1, as in Pyro); warmup tunes it.
        adapt_step_size: tune the step size during warmup by dual averaging.
        adapt_mass_matrix: learn the mass matrix during warmup (Stan's windows).
        full_mass: learn a dense mass matrix instead of a diagonal one.
        target_accept_prob: the mean acceptance statistic warmup aims for; raise it
            (e.g. 0.95) to take smaller steps when there are divergences.
        max_tree_depth: at most this many doublings, ``2**max_tree_depth - 1`` leapfrog steps,
            per transition.
        init_strategy: a function of a site giving its initial value (e.g.
            ``init_to_median``); by default uniform in (-2, 2) in unconstrained space.
        jit_compile: compile the leapfrog step into one graph, as in :class:`HMC`.
        max_plate_nesting: the model's plate dims, for summing its discrete sites out, as in :class:`HMC`.
        use_multinomial_sampling, ignore_jit_warnings: accepted so that Pyro scripts run
            unchanged. Sampling is always multinomial.

    Example::

        mcmc = MCMC(NUTS(model), num_samples=1000, warmup_steps=500)
        mcmc.run(is_cont_africa, ruggedness, log_gdp)
        mcmc.summary()
    """

    def __init__(
        self,
        model: Callable[..., Any] | None = None,
        potential_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor] | None = None,
        step_size: float | None = 1.0,
        adapt_step_size: bool = True,
        adapt_mass_matrix: bool = True,
        full_mass: bool = False,
        target_accept_prob: float = 0.8,
        max_tree_depth: int = 10,
        init_strategy: InitStrategy | None = None,
        *,
        use_multinomial_sampling: bool = True,
        jit_compile: bool = False,
        ignore_jit_warnings: bool = False,
        max_plate_nesting: int | None = None,
    ) -> None:
        super().__init__(
            model,
            potential_fn,
            step_size=step_size,
            adapt_step_size=adapt_step_size,
            adapt_mass_matrix=adapt_mass_matrix,
            full_mass=full_mass,
            target_accept_prob=target_accept_prob,
            init_strategy=init_strategy,
            jit_compile=jit_compile,
            max_plate_nesting=max_plate_nesting,
        )
        if isinstance(max_tree_depth, bool) or not isinstance(max_tree_depth, int) or max_tree_depth < 1:
            raise ValueError(f"max_tree_depth must be a positive int, got {max_tree_depth!r}")
        if not use_multinomial_sampling:
            raise ValueError("pplkit's NUTS always uses multinomial sampling; drop use_multinomial_sampling=False")
        self.max_tree_depth = max_tree_depth

    def _trajectory(self, start: PhasePoint) -> Leapfrogs[tuple[PhasePoint, Transition]]:
        energy0 = start.energy
        progress = _Progress()
        # The whole trajectory, oriented from its backward end (first) to its forward end (last).
        trajectory = _Tree(start, start, start, 0.0, start.momentum, depth=0)
        depth = 0
        while depth < self.max_tree_depth:
            forward = self._uniform() < 0.5
            if forward:
                subtree = yield from self._build(trajectory.last, depth, self.step_size, energy0, progress)
            else:
                subtree = yield from self._build(trajectory.first, depth, -self.step_size, energy0, progress)
            if subtree is None:  # it diverged or turned inside: none of its points may be chosen
                break
            depth += 1
            old = trajectory if forward else trajectory.reversed()
            merged = self._merge(old, subtree, biased=True)
            trajectory = merged if forward else merged.reversed()
            if merged.turning:
                break
        proposal = trajectory.proposal
        accept_prob = progress.sum_accept_prob / progress.num_steps
        moved = proposal is not start
        return proposal, Transition(accept_prob, progress.num_steps, progress.diverging, moved, depth, energy0)

    def _build(
        self, start: PhasePoint, depth: int, step_size: float, energy0: float, progress: _Progress
    ) -> Leapfrogs[_Tree | None]:
        """A subtree of ``2**depth`` steps from ``start``; None if it diverged or made a U-turn."""
        if depth == 0:
            point = yield (start, step_size)
            energy_error = point.energy - energy0
            progress.num_steps += 1
            progress.sum_accept_prob += 1.0 if energy_error <= 0.0 else math.exp(-energy_error)
            if energy_error > MAX_DELTA_ENERGY:
                progress.diverging = True
                return None
            return _Tree(point, point, point, -energy_error, point.momentum, depth=0)
        inner = yield from self._build(start, depth - 1, step_size, energy0, progress)
        if inner is None:
            return None
        outer = yield from self._build(inner.last, depth - 1, step_size, energy0, progress)
        if outer is None:
            return None
        merged = self._merge(inner, outer, biased=False)
        return None if merged.turning else merged

    def _merge(self, inner: _Tree, outer: _Tree, biased: bool) -> _Tree:
        """Join ``outer`` (built from ``inner.last`` onwards) to ``inner``: draw a proposal, test for a U-turn.

        Inside a subtree the proposal is drawn in proportion to the two halves' weights;
        at the top level (``biased``) the new half wins with probability
        min(1, its weight / the old trajectory's weight).
        """
        log_weight = _log_add_exp(inner.log_weight, outer.log_weight)
        log_accept = outer.log_weight - (inner.log_weight if biased else log_weight)
        take_outer = log_accept >= 0.0 or self._uniform() < math.exp(log_accept)
        proposal = outer.proposal if take_outer else inner.proposal
        momentum_sum = inner.momentum_sum + outer.momentum_sum
        turning = _turning(inner.first.velocity, outer.last.velocity, momentum_sum)
        if not turning and outer.depth > 0:  # with single points, the seam tests repeat the one above
            turning = _turning(
                inner.first.velocity, outer.first.velocity, inner.momentum_sum + outer.first.momentum
            ) or _turning(inner.last.velocity, outer.last.velocity, outer.momentum_sum + inner.last.momentum)
        return _Tree(inner.first, outer.last, proposal, log_weight, momentum_sum, outer.depth + 1, turning)

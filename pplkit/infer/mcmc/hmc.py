"""Hamiltonian Monte Carlo with a fixed trajectory length, and the machinery NUTS shares.

A kernel runs one chain at a time: :meth:`HMC.setup` builds the potential energy
from the model and its data, :meth:`HMC.begin_chain` resets the warmup adaptation
at a starting point, and each :meth:`HMC.sample` makes one transition (adapting the
step size and mass matrix while in warmup). :class:`~pplkit.infer.mcmc.api.MCMC`
drives these calls; subclasses only change :meth:`HMC._trajectory`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Generator, TypeVar

import torch

from .adaptation import DualAveraging, WarmupSchedule, WelfordCovariance
from .compiled import CompiledIntegrator, CompiledStep, JitWarning, compile_step
from .function_potential import FunctionPotential
from .hamiltonian import DenseMass, DiagonalMass, Integrator, MassMatrix, PhasePoint, UniformStream
from .potential import InitStrategy, Potential

__all__ = ["HMC", "Transition"]

T = TypeVar("T")
# Work that needs leapfrog steps: yields (point, step size), is sent the point one step on.
Leapfrogs = Generator[tuple[PhasePoint, float], PhasePoint, T]

# A trajectory whose energy error exceeds this is divergent: the integrator has left
# the posterior's typical set (Stan's and Pyro's threshold).
MAX_DELTA_ENERGY = 1000.0


@dataclass(slots=True)
class Transition:
    """What one MCMC transition did, for diagnostics and adaptation."""

    accept_prob: float  # mean Metropolis acceptance statistic: what step-size adaptation targets
    num_steps: int  # leapfrog steps, i.e. gradient evaluations
    diverging: bool
    moved: bool  # the chain left its previous position
    tree_depth: int = 0
    energy: float = 0.0  # the Hamiltonian at the start, after the momentum was drawn (for E-BFMI)


def _check_positive(kernel: str, name: str, value: Any, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 or not math.isfinite(value):
        what = "a positive int" if integer else "a positive number"
        raise ValueError(f"{kernel}: {name} must be {what}, got {value!r}")


class HMC:
    """Hamiltonian Monte Carlo: leapfrog trajectories of a fixed length, then a Metropolis test.

    Args:
        model: the model. Its discrete latent sites (Bernoulli, Categorical, ...) are
            summed out exactly by enumeration, as in Pyro (see :mod:`.enumerated`), so
            only its continuous ones are sampled.
        potential_fn: instead of a model, a function of a dict of unconstrained values
            returning the potential energy (then MCMC needs ``initial_params``).
        step_size: the leapfrog step size to start from (None: 1, as in Pyro).
        trajectory_length: the length of each trajectory (default 2 pi); the number
            of steps is ``int(trajectory_length / step_size)``.
        num_steps: the number of leapfrog steps; sets ``trajectory_length = num_steps
            * step_size``, so steps are added or removed as the step size adapts (as in Pyro).
        adapt_step_size: tune the step size during warmup by dual averaging.
        adapt_mass_matrix: learn the mass matrix during warmup from the chain's variance.
        full_mass: learn a dense mass matrix instead of a diagonal one.
        target_accept_prob: the mean acceptance statistic warmup aims for.
        init_strategy: a function of a site giving its initial value (e.g.
            ``init_to_median``); by default uniform in (-2, 2) in unconstrained space.
        jit_compile: compile the leapfrog step, potential gradient included, into one graph
            (see :mod:`pplkit.infer.mcmc.compiled`): several times faster per step, after a
            one-time compile of some seconds. A model that cannot be compiled runs eagerly,
            with one warning saying why.
        max_plate_nesting: how many plate dims the model uses; the discrete sites'
            enumeration dims go left of them. Counted from a run of the model when not given.
        ignore_jit_warnings: accepted so that Pyro scripts run unchanged.

    Example::

        mcmc = MCMC(HMC(model, step_size=0.1, num_steps=10), num_samples=500, warmup_steps=200)
        mcmc.run(data)
    """

    def __init__(
        self,
        model: Callable[..., Any] | None = None,
        potential_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor] | None = None,
        step_size: float | None = 1.0,
        trajectory_length: float | None = None,
        num_steps: int | None = None,
        adapt_step_size: bool = True,
        adapt_mass_matrix: bool = True,
        full_mass: bool = False,
        target_accept_prob: float = 0.8,
        init_strategy: InitStrategy | None = None,
        *,
        jit_compile: bool = False,
        ignore_jit_warnings: bool = False,
        max_plate_nesting: int | None = None,
    ) -> None:
        name = type(self).__name__
        if model is None and potential_fn is None:
            raise ValueError(
                f"{name} got no model: pass the model function itself, {name}(model), not the result of calling "
                f"it, {name}(model(data)) (the data go to mcmc.run(data)); or give potential_fn="
            )
        if model is not None and potential_fn is not None:
            raise ValueError(f"{name} needs either a model or a potential_fn, not both")
        for label, fn in (("model", model), ("potential_fn", potential_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: {label} must be callable, got {type(fn).__name__}")
        step_size = 1.0 if step_size is None else step_size  # Pyro's None: start the search from 1
        _check_positive(name, "step_size", step_size)
        if num_steps is not None:
            _check_positive(name, "num_steps", num_steps, integer=True)
            trajectory_length = num_steps * step_size
        elif trajectory_length is not None:
            _check_positive(name, "trajectory_length", trajectory_length)
        if not isinstance(full_mass, bool):
            raise TypeError(
                f"{name}: full_mass must be True or False (block-structured mass matrices are not supported)"
            )
        if not 0.0 < target_accept_prob < 1.0:
            raise ValueError(
                f"{name}: target_accept_prob must be between 0 and 1 (e.g. 0.8), got {target_accept_prob!r}"
            )
        self.model = model
        self.potential_fn = potential_fn
        self.step_size = float(step_size)
        self.trajectory_length = 2 * math.pi if trajectory_length is None else float(trajectory_length)
        self.adapt_step_size = adapt_step_size
        self.adapt_mass_matrix = adapt_mass_matrix
        self.full_mass = full_mass
        self.target_accept_prob = target_accept_prob
        self.init_strategy = init_strategy
        self._initial_step_size = self.step_size
        self.max_plate_nesting = max_plate_nesting
        self.potential: Potential | FunctionPotential | None = None
        self._setup_key: tuple | None = None
        self.jit_compile = bool(jit_compile)
        self.compiled_step: CompiledStep | None = None  # the compiled leapfrog of the current potential
        self._jit_failed = False

    def setup(self, *model_args: Any, **model_kwargs: Any) -> None:
        """Trace the model with its data and build the potential energy.

        With ``jit_compile``, the compiled step is kept while the model and its arguments
        are the same objects as last time (the graph holds the data as constants).
        """
        key = (tuple(map(id, model_args)), tuple((k, id(v)) for k, v in model_kwargs.items()))
        if self.jit_compile and self.compiled_step is not None and key == self._setup_key:
            return
        self._setup_key = key
        self.compiled_step, self._jit_failed = None, False
        self._build_potential(*model_args, **model_kwargs)

    @property
    def num_steps(self) -> int:
        return max(1, int(self.trajectory_length / self.step_size))

    # -- set-up ----------------------------------------------------------------------------

    def _build_potential(self, *model_args: Any, **model_kwargs: Any) -> None:
        if self.model is not None:
            self.potential = Potential(self.model, model_args, model_kwargs, self.max_plate_nesting)
        else:
            assert self.potential_fn is not None
            self.potential = FunctionPotential(self.potential_fn)

    def initial_position(self, initial_params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """A starting point: ``initial_params`` (unconstrained values by site) or the init strategy's."""
        potential = self._require_potential()
        if initial_params is not None:
            z = potential.flatten(initial_params)
            if not potential.is_finite_at(z):
                culprits = potential.non_finite_sites_at(z) if isinstance(potential, Potential) else ""
                raise ValueError(
                    "the potential energy or its gradient is not finite at initial_params"
                    + (f" ({culprits})" if culprits else "")
                    + ". initial_params are unconstrained values, as in Pyro: a positive site takes the log of "
                    "its value, e.g. {'scale': torch.tensor(2.0).log()}; or leave initial_params out"
                )
            return z
        if isinstance(potential, FunctionPotential):
            raise ValueError("with potential_fn, MCMC needs initial_params= (a dict of unconstrained values)")
        return potential.initial_point(self.init_strategy)

    # A chain's work is written as generators that yield ``(point, step_size)`` for each
    # leapfrog step they need and are sent the new point back. :meth:`_drive` answers each
    # request at once; MCMC's vectorized chains answer the requests of all chains together,
    # in one batched call (see vectorized.py). So one copy of the sampler serves both.

    def _drive(self, steps: Leapfrogs[T]) -> T:
        try:
            request = next(steps)
            while True:  # self.integrator is read each time: begin_chain makes a new one
                request = steps.send(self.integrator.leapfrog(*request))
        except StopIteration as stop:
            return stop.value

    def begin_chain(self, position: torch.Tensor, num_warmup: int) -> None:
        """Start a chain at ``position``: reset the mass matrix and step size and plan the warmup."""
        self._drive(self.begin_chain_steps(position, num_warmup))

    def begin_chain_steps(self, position: torch.Tensor, num_warmup: int) -> Leapfrogs[None]:
        """:meth:`begin_chain` as a generator of leapfrog requests."""
        potential = self._require_potential()
        self.position = position
        self._uniform = UniformStream()
        self.num_warmup = num_warmup
        self.iteration = 0
        ones = torch.ones(potential.dim, dtype=position.dtype, device=position.device)
        mass = self._mass(ones if not self.full_mass else ones.diag())
        step = self._compiled_step_at(position)
        self.integrator = CompiledIntegrator(step, mass) if step else Integrator(potential.energy_and_grad, mass)
        # A step of size zero from zero momentum: the potential and its gradient where we stand.
        zeros = torch.zeros_like(position)
        here = yield (PhasePoint(position, zeros, zeros, 0.0, zeros, 0.0), 0.0)
        self._potential_energy, self._grad = here.potential, here.grad
        self.step_size = self._initial_step_size
        self._schedule = WarmupSchedule(num_warmup, self.adapt_mass_matrix)
        self._variance = WelfordCovariance(diagonal=not self.full_mass)
        self._dual_averaging = DualAveraging(self.target_accept_prob)
        if self.adapt_step_size and num_warmup > 0:
            self.step_size = yield from self._find_reasonable_step_size()
            self._dual_averaging.restart(self.step_size)
        self.first_step_size = self.step_size  # what warmup started from, to tell a collapse

    def _compiled_step_at(self, position: torch.Tensor) -> CompiledStep | None:
        """With ``jit_compile``, the compiled leapfrog step, made on the first chain's first call."""
        if not self.jit_compile or self._jit_failed:
            return None
        if self.compiled_step is None:
            potential = self._require_potential()
            step, reason = compile_step(potential.energy, position, dense=self.full_mass)
            if step is None:
                self._jit_failed = True
                warnings.warn(
                    f"{type(self).__name__}(jit_compile=True): running eagerly instead, because {reason}",
                    JitWarning,
                    stacklevel=4,
                )
                return None
            self.compiled_step = step
        return self.compiled_step

    def _require_potential(self) -> Potential | FunctionPotential:
        if self.potential is None:
            raise RuntimeError(f"call {type(self).__name__}.setup(*model_args) first (MCMC.run does this)")
        return self.potential

    def _mass(self, inverse: torch.Tensor) -> MassMatrix:
        return DenseMass(inverse) if self.full_mass else DiagonalMass(inverse)

    @property
    def inverse_mass_matrix(self) -> torch.Tensor:
        return self.integrator.mass.inverse

    # -- one transition --------------------------------------------------------------------

    def sample(self) -> Transition:
        """Make one transition from the current position; adapt while in warmup."""
        return self._drive(self.sample_steps())

    def sample_steps(self) -> Leapfrogs[Transition]:
        """:meth:`sample` as a generator of leapfrog requests."""
        start = self.integrator.start(self.position, self._potential_energy, self._grad)
        proposal, transition = yield from self._trajectory(start)
        self.position, self._potential_energy, self._grad = proposal.position, proposal.potential, proposal.grad
        if self.iteration < self.num_warmup:
            yield from self._adapt(transition.accept_prob)
        self.iteration += 1
        return transition

    def _trajectory(self, start: PhasePoint) -> Leapfrogs[tuple[PhasePoint, Transition]]:
        point = start
        num_steps = self.num_steps
        diverging = False
        for step in range(num_steps):
            point = yield (point, self.step_size)
            if point.energy - start.energy > MAX_DELTA_ENERGY:
                diverging, num_steps = True, step + 1
                break
        delta = point.energy - start.energy
        accept_prob = 1.0 if delta <= 0 else math.exp(-delta)
        moved = self._uniform() < accept_prob
        return (point if moved else start), Transition(accept_prob, num_steps, diverging, moved, 0, start.energy)

    # -- warmup ----------------------------------------------------------------------------

    def _adapt(self, accept_prob: float) -> Leapfrogs[None]:
        i = self.iteration
        if self.adapt_step_size:
            self.step_size = self._dual_averaging.update(accept_prob)
        if self._schedule.in_window(i):
            self._variance.add(self.position)
        if self._schedule.ends_window(i):
            self.integrator.mass = self._mass(self._variance.estimate())
            self._variance.restart()
            if self.adapt_step_size:
                self.step_size = yield from self._find_reasonable_step_size()
                self._dual_averaging.restart(self.step_size)
        if i == self.num_warmup - 1 and self.adapt_step_size:
            self.step_size = self._dual_averaging.final_step_size

    def _find_reasonable_step_size(self) -> Leapfrogs[float]:
        """Double or halve the step size until one leapfrog step's acceptance crosses 0.8 (Stan's heuristic)."""
        log_threshold = math.log(0.8)
        step_size = self.step_size

        def energy_change(step_size: float) -> Leapfrogs[float]:
            start = self.integrator.start(self.position, self._potential_energy, self._grad)
            end = yield (start, step_size)
            return start.energy - end.energy

        direction = 1 if (yield from energy_change(step_size)) > log_threshold else -1
        while True:
            change = yield from energy_change(step_size)
            if (direction == 1 and not change > log_threshold) or (direction == -1 and not change < log_threshold):
                return step_size
            step_size = step_size * 2.0 if direction == 1 else step_size / 2.0
            if step_size > 1e7:
                raise ValueError(
                    "the step size grew past 1e7 without the energy changing: the posterior looks improper "
                    "(flat in some direction). Give every latent site a proper prior"
                )
            if step_size < 1e-12:
                raise ValueError(
                    "no step size above 1e-12 keeps the energy error small at the current position: the "
                    "log density may be discontinuous or not finite there"
                )

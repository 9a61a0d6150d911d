"""``jit_compile=True``: the leapfrog step, potential gradient included, as one compiled graph.

Eager, a leapfrog step runs the model under pplkit's handlers, builds its
distributions, scores them and differentiates the result: thousands of Python
operations around a few dozen small torch ops. None of that Python changes from one
step to the next, so it is run once, symbolically: ``make_fx`` records the torch ops of
one whole step (half kick, drift, ``grad_and_value`` of the potential, half kick, the
velocity and kinetic energy) on fake tensors, giving a flat graph of ATen ops with the
data as constants; ``torch.compile`` then fuses that graph into a few C++ loops.

Measured on this project's 2-core machine, tracing the intro model takes a few
seconds and Inductor's compile 10-20 s, so tracing the graph first (instead of letting
``torch.compile`` trace the Python handlers itself, which took 80 s) matters. Tracing
on fake tensors also finds what cannot be compiled: a model whose control flow depends
on latent values (``if x > 0``) or calls ``.item()`` fails to trace, and the sampler
falls back to the eager step with one warning that names the reason. A traced step is
checked against the eager potential at two points before it is used.

The same graph gives the potential energy and gradient alone: a step of size zero
with zero momentum leaves the position where it is.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch

from ..compile_util import JitWarning, checks_off_while_tracing, compile_graph, why_not_traceable
from .hamiltonian import Integrator, MassMatrix, PhasePoint

__all__ = ["CompiledIntegrator", "CompiledStep", "JitWarning", "compile_step"]

NegLogJoint = Callable[[torch.Tensor], torch.Tensor]


def step_function(energy: NegLogJoint, dense: bool) -> Callable[..., tuple[torch.Tensor, ...]]:
    """One leapfrog step of the potential ``energy`` as a pure function of tensors."""
    grad_and_energy = torch.func.grad_and_value(energy)

    def step(
        position: torch.Tensor,
        momentum: torch.Tensor,
        grad: torch.Tensor,
        inverse_mass: torch.Tensor,
        step_size: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        half = -0.5 * step_size
        momentum = momentum + half * grad
        velocity = inverse_mass @ momentum if dense else inverse_mass * momentum
        position = position + step_size * velocity
        grad, potential = grad_and_energy(position)
        momentum = momentum + half * grad
        velocity = inverse_mass @ momentum if dense else inverse_mass * momentum
        kinetic = 0.5 * momentum.dot(velocity)
        return position, momentum, velocity, grad, torch.stack([potential, kinetic])

    return step


class CompiledStep:
    """A leapfrog step (and the potential with its gradient) as one traced, compiled graph.

    Build it with :func:`compile_step`. ``trace_seconds`` and ``compile_seconds`` say
    what it cost in wall time (Inductor compiles in worker processes too), and
    ``cpu_seconds`` this process's CPU time for both; ``compiled`` says whether
    Inductor's code runs (else the traced graph does).
    """

    def __init__(
        self, graph: Callable[..., tuple[torch.Tensor, ...]], inverse_mass: torch.Tensor, batch: int | None = None
    ) -> None:
        self.graph = graph
        self.batch = batch  # a graph of ``batch`` chains at once (inputs with a leading dim), or None
        self.compiled = False
        self.trace_seconds = 0.0
        self.compile_seconds = 0.0
        self.cpu_seconds = 0.0
        self._zero = torch.zeros(
            () if batch is None else (batch,), dtype=inverse_mass.dtype, device=inverse_mass.device
        )
        self._inverse_mass = inverse_mass  # for energy_and_grad, whose momentum is zero anyway
        self._step_sizes: dict[float, torch.Tensor] = {}

    def step_size_tensor(self, step_size: float) -> torch.Tensor:
        """A 0-d tensor of ``step_size``, cached: after warmup the step size no longer changes."""
        cached = self._step_sizes.get(step_size)
        if cached is None:
            if len(self._step_sizes) > 64:
                self._step_sizes.clear()
            cached = torch.tensor(step_size, dtype=self._zero.dtype, device=self._zero.device)
            self._step_sizes[step_size] = cached
        return cached

    def energy_and_grad(self, z: torch.Tensor) -> tuple[float, torch.Tensor]:
        """U(z) as a float and its gradient, like ``Potential.energy_and_grad``."""
        if self.batch is not None:
            z = z.expand(self.batch, -1)
        zeros = torch.zeros_like(z)
        _, _, _, grad, energies = self.graph(z, zeros, zeros, self._inverse_mass, self._zero)
        if self.batch is not None:
            grad, energies = grad[0], energies[0]
        return float(energies[0]), grad


def compile_step(
    energy: NegLogJoint, example: torch.Tensor, dense: bool, inductor: bool = True, batch: int | None = None
) -> tuple[CompiledStep | None, str]:
    """Trace (and with ``inductor``, compile) a leapfrog step of the potential ``energy``.

    With ``batch``, the step of ``batch`` chains at once (``torch.func.vmap`` of it): every
    input gains a leading dim of that size.

    Returns the step, or None and the reason it could not be made (for the warning).

    Example::

        step, reason = compile_step(potential.energy, z0, dense=False)
        energy, grad = step.energy_and_grad(z0)
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    dim = example.shape[-1]
    inverse = torch.ones(dim, dtype=example.dtype, device=example.device)
    if dense:
        inverse = inverse.diag()
    zero = torch.zeros((), dtype=example.dtype, device=example.device)
    function = step_function(energy, dense)
    position = example.detach().clone()
    if batch is not None:
        function = torch.func.vmap(function)
        position = position.expand(batch, -1).clone()
        inverse = inverse.expand(batch, *inverse.shape).clone()
        zero = zero.expand(batch).clone()
    zeros = torch.zeros_like(position)
    # Distinct tensors: make_fx would take two uses of one tensor for one input.
    inputs = (position, zeros, zeros.clone(), inverse, zero)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        with checks_off_while_tracing():
            graph = make_fx(function, tracing_mode="fake", _allow_non_fake_inputs=True)(*inputs)
    except Exception as error:  # noqa: BLE001 -- any failure to trace means: run eagerly
        return None, why_not_traceable(error)
    traced = CompiledStep(graph, inverse, batch)
    traced.trace_seconds = time.perf_counter() - start
    mismatch = _disagreement(traced, energy, example)
    if mismatch:
        return None, mismatch
    if not inductor:
        traced.cpu_seconds = time.process_time() - cpu_start
        return traced, ""
    start = time.perf_counter()
    compiled, ok = compile_graph(graph, inputs, stacklevel=4)
    traced.cpu_seconds = time.process_time() - cpu_start
    if not ok:
        return traced, ""
    traced.graph = compiled
    traced.compiled = True
    traced.compile_seconds = time.perf_counter() - start
    return traced, ""


def _disagreement(step: CompiledStep, energy: NegLogJoint, example: torch.Tensor) -> str:
    """Why the traced step disagrees with the eager potential near ``example`` ("" when it agrees)."""
    generator = torch.Generator(device=example.device).manual_seed(0)
    noise = torch.randn(example.shape, generator=generator, dtype=example.dtype, device=example.device)
    for point in (example.detach(), example.detach() + 0.1 * noise):
        with checks_off_while_tracing():
            z = point.clone().requires_grad_()
            with torch.enable_grad():
                value = energy(z)
                (grad,) = torch.autograd.grad(value, z)
            value = value.detach()
        traced_energy, traced_grad = step.energy_and_grad(point)
        if not math.isfinite(float(value)):
            continue
        if not (
            math.isclose(traced_energy, float(value), rel_tol=1e-4, abs_tol=1e-4)
            and torch.allclose(traced_grad, grad, rtol=1e-4, atol=1e-4)
        ):
            return (
                "the traced potential disagrees with the eager one (the model may branch on random draws or on "
                "Python state that changes between runs)"
            )
    return ""


class CompiledIntegrator(Integrator):
    """The leapfrog integrator of :mod:`.hamiltonian`, each step one call of a compiled graph."""

    def __init__(self, step: CompiledStep, mass: MassMatrix) -> None:
        super().__init__(step.energy_and_grad, mass)
        self.compiled_step = step

    def leapfrog(self, point: PhasePoint, step_size: float) -> PhasePoint:
        position, momentum, velocity, grad, energies = self.compiled_step.graph(
            point.position,
            point.momentum,
            point.grad,
            self.mass.inverse,
            self.compiled_step.step_size_tensor(step_size),
        )
        potential, kinetic = energies.tolist()
        return PhasePoint(position, momentum, velocity, potential, grad, kinetic)

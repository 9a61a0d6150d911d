"""Phase space for HMC: points, the mass matrix, and the leapfrog integrator.

A point is a position ``z`` (unconstrained latents) with a momentum ``r``. The
Hamiltonian is ``H = U(z) + K(r)`` with ``K(r) = r . M^-1 r / 2``; ``M^-1 r`` is the
velocity, which the leapfrog steps and NUTS's U-turn test both use, so each point
keeps it. Energies are Python floats: NUTS compares and adds them constantly, and a
float costs nothing where a 0-d tensor costs an op.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

__all__ = ["DenseMass", "DiagonalMass", "Integrator", "MassMatrix", "PhasePoint", "UniformStream"]

EnergyAndGrad = Callable[[torch.Tensor], "tuple[float, torch.Tensor]"]


@dataclass(slots=True)
class PhasePoint:
    """A position and momentum, with what the integrator and NUTS need to know about them."""

    position: torch.Tensor
    momentum: torch.Tensor
    velocity: torch.Tensor  # M^-1 r
    potential: float  # U(z)
    grad: torch.Tensor  # dU/dz
    kinetic: float  # K(r)

    @property
    def energy(self) -> float:
        """The Hamiltonian H = U + K; NaN counts as infinite, i.e. as a divergence."""
        energy = self.potential + self.kinetic
        return math.inf if math.isnan(energy) else energy


class DiagonalMass:
    """A diagonal mass matrix, held as its inverse: the posterior variances learnt in warmup."""

    def __init__(self, inverse: torch.Tensor) -> None:
        self.inverse = inverse
        self._momentum_scale = inverse.rsqrt()  # momenta ~ N(0, M), M = 1 / inverse

    def sample_momentum(self) -> torch.Tensor:
        return torch.randn_like(self.inverse) * self._momentum_scale

    def velocity(self, momentum: torch.Tensor) -> torch.Tensor:
        return self.inverse * momentum

    def drift(self, position: torch.Tensor, momentum: torch.Tensor, step_size: float) -> torch.Tensor:
        """``position + step_size * velocity(momentum)``, in one op."""
        return torch.addcmul(position, self.inverse, momentum, value=step_size)


class DenseMass:
    """A dense mass matrix, held as its inverse: the posterior covariance learnt in warmup."""

    def __init__(self, inverse: torch.Tensor) -> None:
        self.inverse = inverse
        # With inverse = L L^T, the momentum r = L^-T e (e ~ N(0, I)) has covariance (L L^T)^-1 = M.
        lower = torch.linalg.cholesky(inverse)
        eye = torch.eye(inverse.shape[0], dtype=inverse.dtype, device=inverse.device)
        self._momentum_factor = torch.linalg.solve_triangular(lower.T, eye, upper=True)

    def sample_momentum(self) -> torch.Tensor:
        noise = torch.randn(self.inverse.shape[0], dtype=self.inverse.dtype, device=self.inverse.device)
        return self._momentum_factor @ noise

    def velocity(self, momentum: torch.Tensor) -> torch.Tensor:
        return self.inverse @ momentum

    def drift(self, position: torch.Tensor, momentum: torch.Tensor, step_size: float) -> torch.Tensor:
        """``position + step_size * velocity(momentum)``, in one op."""
        return torch.addmv(position, self.inverse, momentum, alpha=step_size)


MassMatrix = DiagonalMass | DenseMass


class Integrator:
    """Leapfrog steps on the Hamiltonian of ``energy_and_grad`` (U and dU/dz) and a mass matrix.

    Example::

        integrator = Integrator(potential.energy_and_grad, DiagonalMass(torch.ones(dim)))
        point = integrator.start(z)
        point = integrator.leapfrog(point, step_size=0.1)
    """

    def __init__(self, energy_and_grad: EnergyAndGrad, mass: MassMatrix) -> None:
        self.energy_and_grad = energy_and_grad
        self.mass = mass

    def point(self, position: torch.Tensor, potential: float, grad: torch.Tensor, momentum: torch.Tensor) -> PhasePoint:
        velocity = self.mass.velocity(momentum)
        kinetic = 0.5 * float(momentum.dot(velocity))
        return PhasePoint(position, momentum, velocity, potential, grad, kinetic)

    def start(
        self, position: torch.Tensor, potential: float | None = None, grad: torch.Tensor | None = None
    ) -> PhasePoint:
        """A point at ``position`` with a fresh momentum drawn from N(0, M)."""
        if potential is None or grad is None:
            potential, grad = self.energy_and_grad(position)
        return self.point(position, potential, grad, self.mass.sample_momentum())

    def leapfrog(self, point: PhasePoint, step_size: float) -> PhasePoint:
        """One leapfrog step: half a kick, a drift, half a kick. A negative step goes back in time."""
        half = -0.5 * step_size
        momentum = point.momentum.add(point.grad, alpha=half)
        position = self.mass.drift(point.position, momentum, step_size)
        potential, grad = self.energy_and_grad(position)
        momentum = momentum.add(grad, alpha=half)
        return self.point(position, potential, grad, momentum)


class UniformStream:
    """Uniform(0, 1) draws as floats, taken from torch's generator a block at a time.

    NUTS needs a uniform at every merge of two subtrees; drawing them one by one would
    cost an op each. Drawing from torch keeps runs reproducible under ``set_rng_seed``.
    """

    def __init__(self, block: int = 256) -> None:
        self._block = block
        self._draws: list[float] = []

    def __call__(self) -> float:
        if not self._draws:
            self._draws = torch.rand(self._block, dtype=torch.float64).tolist()
        return self._draws.pop()

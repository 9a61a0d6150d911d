"""A potential energy given directly as a function, for sampling a density that is not a model."""

from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["FunctionPotential"]


class FunctionPotential:
    """A potential energy given directly as a function of unconstrained values (Pyro's ``potential_fn``).

    The sites and their shapes come from the first dict of values it sees (MCMC's
    ``initial_params``); they are ordered by name, as in Pyro. Samples are the
    unconstrained values themselves.

    Example::

        banana = FunctionPotential(lambda v: v["x"] ** 2 / 2 + (v["y"] - v["x"] ** 2) ** 2)
        z = banana.flatten({"x": torch.tensor(0.0), "y": torch.tensor(1.0)})
    """

    def __init__(self, fn: Callable[[dict[str, torch.Tensor]], torch.Tensor]) -> None:
        self.fn = fn
        self.shapes: dict[str, torch.Size] = {}
        self.dim = 0
        self.has_dynamic_supports = False

    def flatten(self, unconstrained: dict[str, torch.Tensor]) -> torch.Tensor:
        values = {name: torch.as_tensor(unconstrained[name]) for name in sorted(unconstrained)}
        if not values:
            raise ValueError("initial_params is empty: give a starting value for each argument of potential_fn")
        if not self.shapes:
            self.shapes = {name: v.shape for name, v in values.items()}
            self.dim = sum(v.numel() for v in values.values())
        if {n: v.shape for n, v in values.items()} != self.shapes:
            raise ValueError(f"initial_params must have the sites and shapes {dict(self.shapes)}")
        return torch.cat([v.reshape(-1) for v in values.values()]).to(torch.get_default_dtype())

    def unflatten(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        batch, values, start = z.shape[:-1], {}, 0
        for name, shape in self.shapes.items():
            stop = start + shape.numel()
            values[name] = z[..., start:stop].reshape(batch + shape)
            start = stop
        return values

    constrain = unflatten

    def energy(self, z: torch.Tensor) -> torch.Tensor:
        """U(z) as a scalar tensor, differentiable in ``z``."""
        return self.fn(self.unflatten(z))

    def energy_and_grad(self, z: torch.Tensor) -> tuple[float, torch.Tensor]:
        z = z.detach().requires_grad_()
        energy = self.fn(self.unflatten(z))
        (grad,) = torch.autograd.grad(energy, z)
        return energy.item(), grad

    def is_finite_at(self, z: torch.Tensor) -> bool:
        energy, grad = self.energy_and_grad(z)
        return math.isfinite(energy) and bool(torch.isfinite(grad).all())

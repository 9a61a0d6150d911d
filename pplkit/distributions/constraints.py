"""Constraints on values and parameters: torch's ``constraints`` module, re-exported, plus Pyro's ``sphere``.

``import pplkit.distributions.constraints as constraints`` mirrors Pyro's import.
"""

import torch
from torch.distributions.constraints import *  # noqa: F401,F403
from torch.distributions.constraints import Constraint
from torch.distributions.constraints import __all__ as _torch_constraints


class _Sphere(Constraint):
    """Unit vectors in the last dim (Pyro's ``constraints.sphere``): ``|x| == 1`` to within rounding."""

    event_dim = 1
    reltol = 10.0  # allowed error, in units of the dtype's eps (times sqrt(dim), as Pyro)

    def check(self, value: torch.Tensor) -> torch.Tensor:
        eps = torch.finfo(value.dtype).eps
        error = (torch.linalg.norm(value, dim=-1) - 1).abs()
        return error < self.reltol * eps * value.size(-1) ** 0.5

    def __repr__(self) -> str:
        return "Sphere"


sphere = _Sphere()

__all__ = [*_torch_constraints, "sphere"]

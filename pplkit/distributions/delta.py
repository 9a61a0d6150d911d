"""Point masses: ``Delta`` for deterministic sites and ``Unit`` for ``factor``."""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Distribution, constraints

from .mixin import TorchDistributionMixin
from .util import sum_rightmost


class Delta(TorchDistributionMixin, Distribution):
    """A point mass at ``v``; its log density is ``log_density`` there and -inf elsewhere.

    Args:
        v: the point; its rightmost ``event_dim`` dims form the event.
        log_density: an extra log density carried by the point (e.g. a Jacobian term).
        event_dim: how many rightmost dims of ``v`` are one event.
    """

    arg_constraints = {"v": constraints.dependent, "log_density": constraints.real}
    has_rsample = True

    def __init__(
        self, v: torch.Tensor, log_density: float | torch.Tensor = 0.0, event_dim: int = 0, validate_args: Any = None
    ) -> None:
        v = torch.as_tensor(v)
        if not 0 <= event_dim <= v.dim():
            raise ValueError(
                f"Delta: event_dim={event_dim} must be between 0 and v.dim()={v.dim()}; pass event_dim=v.dim() to "
                "make the whole value one event, or 0 for independent elements"
            )
        batch_shape = v.shape[: v.dim() - event_dim]
        if isinstance(log_density, torch.Tensor):
            density = log_density.expand(batch_shape)
        else:
            density = torch.full(batch_shape, float(log_density), dtype=v.dtype, device=v.device)
        self.v = v
        self.log_density = density
        super().__init__(batch_shape, v.shape[v.dim() - event_dim :], validate_args=False)

    @constraints.dependent_property
    def support(self) -> Any:
        return constraints.independent(constraints.real, self.event_dim)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Delta:
        batch_shape = torch.Size(batch_shape)
        v = self.v.expand(batch_shape + self.event_shape)
        return Delta(v, self.log_density.expand(batch_shape), self.event_dim)

    def rsample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        return self.v.expand(torch.Size(sample_shape) + self.v.shape)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        log_prob = (value == self.v).to(self.v.dtype).log()
        return sum_rightmost(log_prob, self.event_dim) + self.log_density

    @property
    def mean(self) -> torch.Tensor:
        return self.v

    @property
    def variance(self) -> torch.Tensor:
        return torch.zeros_like(self.v)


class Unit(TorchDistributionMixin, Distribution):
    """A distribution over nothing (an empty event) whose log density is ``log_factor``.

    ``factor(name, log_factor)`` observes it, which adds ``log_factor`` to the model.
    """

    arg_constraints = {"log_factor": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(
        self, log_factor: float | torch.Tensor, *, has_rsample: bool | None = None, validate_args: Any = None
    ) -> None:
        log_factor = torch.as_tensor(log_factor)
        self.log_factor = log_factor
        if has_rsample is not None:
            # Set on the instance only when given: a guide's factor must say (as in Pyro).
            self.has_rsample = has_rsample
        super().__init__(log_factor.shape, torch.Size((0,)), validate_args=False)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Unit:
        return Unit(self.log_factor.expand(torch.Size(batch_shape)), has_rsample=self.__dict__.get("has_rsample"))

    def sample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        return self.log_factor.new_empty(self.shape(sample_shape))

    def rsample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        return self.sample(sample_shape)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        shape = torch.broadcast_shapes(self.batch_shape, value.shape[:-1])
        return self.log_factor.expand(shape)

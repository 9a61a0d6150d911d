"""``Stable``: the Levy alpha-stable family, which can be sampled but has no closed-form density.

Sampled by the Chambers-Mallows-Stuck method: with ``u ~ Uniform(-pi/2, pi/2)`` and
``e ~ Exponential(1)``, :func:`standard_stable` maps ``(u, e)`` to a standard stable
draw, differentiably in the parameters, so ``rsample`` has gradients. The density has
no closed form and pplkit does not compute one (Pyro 1.9's ``Stable.log_prob``
integrates it numerically): infer latent Stable sites with ``LatentStableReparam``;
for observed ones use Pyro. Special cases: ``stability=2`` is
``Normal(loc, sqrt(2) * scale)``, ``stability=1, skew=0`` is ``Cauchy(loc, scale)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.utils import broadcast_all

from .mixin import TorchDistributionMixin

__all__ = ["Stable", "standard_stable"]


def standard_stable(
    stability: torch.Tensor, skew: torch.Tensor, u: torch.Tensor, e: torch.Tensor, coords: str = "S0"
) -> torch.Tensor:
    """A standard stable draw (scale 1, loc 0) from ``u ~ Uniform(-pi/2, pi/2)``, ``e ~ Exponential(1)``.

    Weron's (1996) form of Chambers-Mallows-Stuck in Nolan's S1 coordinates, shifted to
    S0 (``coords="S0"``, continuous in ``stability``) by ``-skew * tan(pi * stability / 2)``.
    """
    if coords not in ("S0", "S"):
        raise ValueError(f"Stable: coords must be 'S0' or 'S', got {coords!r}")
    near_one = (stability - 1).abs() < 1e-4
    # Evaluate each branch only where it is finite, so that gradients through torch.where stay finite.
    a = torch.where(near_one, torch.full_like(stability, 0.5), stability)
    tan_half = torch.tan(math.pi * a / 2)
    b = torch.atan(skew * tan_half) / a
    s = (1 + (skew * tan_half) ** 2) ** (1 / (2 * a))
    general = (
        s * torch.sin(a * (u + b)) / torch.cos(u) ** (1 / a) * (torch.cos(u - a * (u + b)) / e) ** ((1 - a) / a)
    )
    if coords == "S0":
        general = general - skew * tan_half
    half_pi = math.pi / 2
    one = (half_pi + skew * u) * torch.tan(u) - skew * torch.log(half_pi * e * torch.cos(u) / (half_pi + skew * u))
    return torch.where(near_one, one / half_pi, general)


class Stable(TorchDistributionMixin, Distribution):
    """The stable distribution with ``stability`` in (0, 2], ``skew`` in [-1, 1], ``scale`` and ``loc``.

    Args:
        stability: alpha, the tail index; 2 is Gaussian, 1 Cauchy-like.
        skew: beta.
        scale: sigma (> 0).
        loc: mu.
        coords: ``"S0"`` (default, Nolan's continuous parametrisation) or ``"S"`` (S1).

    Example::

        x = pyro.sample("x", dist.Stable(1.5, 0.0), infer=...)  # with LatentStableReparam
    """

    arg_constraints = {
        "stability": constraints.interval(0, 2),
        "skew": constraints.interval(-1, 1),
        "scale": constraints.positive,
        "loc": constraints.real,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        stability: Any,
        skew: Any,
        scale: Any = 1.0,
        loc: Any = 0.0,
        coords: str = "S0",
        validate_args: Any = None,
    ) -> None:
        if coords not in ("S0", "S"):
            raise ValueError(f"Stable: coords must be 'S0' or 'S', got {coords!r}")
        self.stability, self.skew, self.scale, self.loc = broadcast_all(stability, skew, scale, loc)
        self.coords = coords
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Stable:
        shape = torch.Size(batch_shape)
        return Stable(
            self.stability.expand(shape), self.skew.expand(shape), self.scale.expand(shape), self.loc.expand(shape),
            self.coords,
        )

    def rsample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        shape = self._extended_shape(sample_shape)
        half_pi = math.pi / 2
        u = (torch.rand(shape, dtype=self.loc.dtype, device=self.loc.device) * 2 - 1) * half_pi
        e = torch.empty(shape, dtype=self.loc.dtype, device=self.loc.device).exponential_()
        return self.loc + self.scale * standard_stable(self.stability, self.skew, u, e, self.coords)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(
            "pplkit's Stable has no log_prob: the density has no closed form (Pyro 1.9 integrates it "
            "numerically). For a latent Stable site use poutine.reparam(model, config={'x': LatentStableReparam()}); "
            "for an observed one, run the model under Pyro"
        )

    @property
    def mean(self) -> torch.Tensor:
        # Finite for stability > 1; in S0 coordinates the mean is shifted by the skew.
        shift = self.skew * torch.tan(math.pi * self.stability / 2) if self.coords == "S0" else 0.0
        mean = self.loc - self.scale * shift
        return torch.where(self.stability > 1, mean, torch.full_like(mean, math.nan))

    @property
    def variance(self) -> torch.Tensor:
        finite = 2 * self.scale**2
        return torch.where(self.stability == 2, finite, torch.full_like(finite, math.inf))

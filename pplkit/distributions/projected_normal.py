"""``ProjectedNormal``: a Normal in R^d pushed onto the unit sphere, ``x / |x|`` (Pyro's distribution).

The density of the direction ``u`` comes from integrating the Normal along the ray
``r * u``. With ``x ~ Normal(c, I)``, ``t = c . u`` and ``|r u - c|^2 = (r - t)^2 + |c|^2 - t^2``:

    p(u) = (2 pi)^(-d/2) exp(-(|c|^2 - t^2) / 2) M_{d-1}(t),
    M_k(t) = integral_0^inf r^k exp(-(r - t)^2 / 2) dr,

and integrating by parts gives ``M_k = t M_{k-1} + (k-1) M_{k-2}`` with
``M_0 = sqrt(2 pi) Phi(t)``, ``M_1 = exp(-t^2/2) + t M_0``. Pyro writes out d = 2, 3, 4;
the recurrence gives every d (the same numbers for those three). It runs on
``N_k = exp(t^2/2) M_k`` (``N_0 = sqrt(pi/2) erfcx(-t/sqrt 2)``), so that a direction far
from the mode (t very negative) does not underflow to log 0:

    log p(u) = -d/2 log(2 pi) - |c|^2 / 2 + log N_{d-1}(t).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.distributions import Distribution, Transform, transform_to

from . import constraints
from .mixin import TorchDistributionMixin

__all__ = ["ProjectedNormal"]


def safe_normalize(x: torch.Tensor) -> torch.Tensor:
    """``x / |x|`` over the last dim; the zero vector goes to the first basis vector (as Pyro)."""
    norm = torch.linalg.norm(x, dim=-1, keepdim=True)
    x = x / norm.clamp(min=torch.finfo(x.dtype).tiny)
    basis = torch.zeros_like(x)
    basis[..., 0] = 1
    return torch.where(norm > 0, x, basis)


class _Normalize(Transform):
    """R^d minus the origin onto the sphere: Pyro's ``transform_to(constraints.sphere)`` (not a bijection)."""

    domain = constraints.real_vector
    codomain = constraints.sphere
    bijective = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Normalize)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return safe_normalize(x)

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y  # a unit vector is one preimage of itself


@transform_to.register(type(constraints.sphere))
def _transform_to_sphere(constraint: Any) -> Transform:
    return _Normalize()


def _log_scaled_ray_integral(t: torch.Tensor, k: int) -> torch.Tensor:
    """``log N_k(t)``, by the recurrence in the module docstring (clamped at eps, as Pyro's log)."""
    n_prev = math.sqrt(math.pi / 2) * torch.special.erfcx(-t / math.sqrt(2))  # N_0
    n = n_prev
    if k >= 1:
        n = 1 + t * n_prev  # N_1
        for j in range(2, k + 1):
            n_prev, n = n, t * n + (j - 1) * n_prev
    return n.clamp(min=torch.finfo(t.dtype).eps).log()


class ProjectedNormal(TorchDistributionMixin, Distribution):
    """The direction of ``Normal(concentration, 1)`` in R^d: a distribution on the unit sphere.

    ``concentration``'s direction is the mode and its length the concentration (0: uniform).
    ``rsample`` is reparameterised. Autoguides cannot fit a latent site of it directly (the
    sphere has no unconstrained coordinates): reparameterise the site with
    :class:`~pplkit.infer.reparam.ProjectedNormalReparam`.

    Args:
        concentration: a vector (last dim d >= 1), batch dims to its left.

    Example::

        >>> import torch, pplkit.distributions as dist
        >>> d = dist.ProjectedNormal(torch.zeros(3))   # uniform on the 2-sphere
        >>> round(d.log_prob(torch.tensor([0.0, 0.0, 1.0])).exp().item() * 4 * 3.14159265, 4)
        1.0
    """

    arg_constraints = {"concentration": constraints.real_vector}
    support = constraints.sphere
    has_rsample = True

    def __init__(self, concentration: torch.Tensor, *, validate_args: Any = None) -> None:
        if concentration.dim() < 1:
            raise ValueError(
                "ProjectedNormal: concentration must be a vector (its last dim is the space's dim), got a scalar; "
                "e.g. ProjectedNormal(torch.tensor([0.0, 2.0]))"
            )
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ProjectedNormal:
        batch_shape = torch.Size(batch_shape)
        new = self._get_checked_instance(ProjectedNormal, _instance)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> torch.Tensor:
        """The direction of ``concentration``: the centroid on the sphere (Pyro's meaning of mean)."""
        return safe_normalize(self.concentration)

    @property
    def mode(self) -> torch.Tensor:
        return safe_normalize(self.concentration)

    def rsample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        shape = self._extended_shape(torch.Size(sample_shape))
        noise = torch.randn(shape, dtype=self.concentration.dtype, device=self.concentration.device)
        return safe_normalize(self.concentration + noise)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            if value.shape[-1:] != self.event_shape:
                raise ValueError(
                    f"ProjectedNormal.log_prob: the value's last dim is {tuple(value.shape[-1:])}, the "
                    f"distribution's event shape {tuple(self.event_shape)}"
                )
            self._validate_sample(value)
        c = self.concentration
        dim = c.size(-1)
        t = (c * value).sum(-1)
        return -0.5 * dim * math.log(2 * math.pi) - 0.5 * c.square().sum(-1) + _log_scaled_ray_integral(t, dim - 1)

"""``AutoMultivariateNormal``: a full-covariance Normal over the packed latent vector.

Params, named as Pyro's: ``AutoMultivariateNormal.loc``, ``.scale`` (positive) and
``.scale_tril`` (unit lower triangular); the covariance's Cholesky factor is
``scale[:, None] * scale_tril``. Only the strictly lower part of ``scale_tril`` is
learned: its diagonal and upper part stay at the identity's ones and zeros, so the
stored value reads as Pyro's does.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Distribution, constraints

from ... import distributions as dist
from ...primitives import param
from .base import check_init_scale
from .continuous import AutoContinuous
from .initialization import InitFn, init_to_median

__all__ = ["AutoMultivariateNormal"]


class AutoMultivariateNormal(AutoContinuous):
    """A correlated Gaussian over all latent sites, in unconstrained space.

    Args:
        model: the model.
        init_loc_fn: where the location starts (default ``init_to_median``).
        init_scale: the starting marginal scale of every element.

    Example::

        guide = AutoMultivariateNormal(model)
        svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
    """

    def __init__(self, model: Any, init_loc_fn: InitFn = init_to_median, init_scale: float = 0.1) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn)
        self.init_scale = check_init_scale(self, init_scale)
        # Set by AutoLaplaceApproximation.laplace_approximation: fixed tensors, no params.
        self._fixed: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def _setup_sites(self) -> None:
        super()._setup_sites()
        loc_init = self._loc_init
        self._scale_init = torch.full_like(loc_init, self.init_scale)
        self._eye = torch.eye(self.latent_dim, dtype=loc_init.dtype, device=loc_init.device)

    def _factors(self, read: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(loc, Cholesky factor of the covariance), reading params with ``read``."""
        if self._fixed is not None:
            loc, scale, scale_tril = self._fixed
            return loc, scale[:, None] * scale_tril
        loc = read(f"{self.prefix}.loc", self._loc_init, constraints.real)
        scale = read(f"{self.prefix}.scale", self._scale_init, constraints.positive)
        raw_tril = read(f"{self.prefix}.scale_tril", self._eye, constraints.real)
        unit_tril = raw_tril.tril(-1) + self._eye
        return loc, scale[:, None] * unit_tril

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        loc, scale_tril = self._factors(param)
        return dist.MultivariateNormal(loc, scale_tril=scale_tril, validate_args=False)

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        loc, scale_tril = self._factors(self._stored)
        return loc, scale_tril.pow(2).sum(-1).sqrt()

    def covariance(self) -> torch.Tensor:
        """The posterior covariance of the packed unconstrained latent vector."""
        _, scale_tril = self._factors(self._stored)
        return (scale_tril @ scale_tril.T).detach()

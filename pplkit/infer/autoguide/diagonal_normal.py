"""``AutoDiagonalNormal``: a Normal with diagonal covariance over the packed latent vector.

Params, named as Pyro's: ``AutoDiagonalNormal.loc`` and ``AutoDiagonalNormal.scale``.
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

__all__ = ["AutoDiagonalNormal"]


class AutoDiagonalNormal(AutoContinuous):
    """Independent Normals over all latent sites, in unconstrained space, as one vector.

    Args:
        model: the model.
        init_loc_fn: where the locations start (default ``init_to_median``).
        init_scale: the starting scale of every element.

    Example::

        guide = AutoDiagonalNormal(model)
        svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
    """

    def __init__(self, model: Any, init_loc_fn: InitFn = init_to_median, init_scale: float = 0.1) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn)
        self.init_scale = check_init_scale(self, init_scale)

    def _setup_sites(self) -> None:
        super()._setup_sites()
        self._scale_init = torch.full_like(self._loc_init, self.init_scale)

    def _params(self, read: Any) -> tuple[torch.Tensor, torch.Tensor]:
        loc = read(f"{self.prefix}.loc", self._loc_init, constraints.real)
        scale = read(f"{self.prefix}.scale", self._scale_init, constraints.positive)
        return loc, scale

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        loc, scale = self._params(param)
        return dist.Independent(dist.Normal(loc, scale, validate_args=False), 1, validate_args=False)

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._params(self._stored)

"""``AutoLowRankMultivariateNormal``: a Gaussian whose covariance is low rank plus diagonal.

Params, named as Pyro's: ``AutoLowRankMultivariateNormal.loc``, ``.scale`` (positive)
and ``.cov_factor``; the covariance is ``D (W W^T + I) D`` with ``D = diag(scale)`` and
``W = cov_factor``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Distribution, constraints

from ... import distributions as dist
from ...primitives import param
from .base import check_init_scale
from .continuous import AutoContinuous, default_rank
from .initialization import InitFn, init_to_median

__all__ = ["AutoLowRankMultivariateNormal"]


class AutoLowRankMultivariateNormal(AutoContinuous):
    """A Gaussian with a few correlated directions: cheaper than full rank in high dimension.

    Args:
        model: the model.
        init_loc_fn: where the location starts (default ``init_to_median``).
        init_scale: roughly the starting marginal scale of every element.
        rank: the number of correlated directions (default: about sqrt(latent dim)).

    Example::

        guide = AutoLowRankMultivariateNormal(model, rank=2)
    """

    def __init__(
        self, model: Any, init_loc_fn: InitFn = init_to_median, init_scale: float = 0.1, rank: int | None = None
    ) -> None:
        if rank is not None and (not isinstance(rank, int) or rank < 1):
            raise ValueError(f"{type(self).__name__}: rank must be a positive int, got {rank!r}")
        super().__init__(model, init_loc_fn=init_loc_fn)
        self.init_scale = check_init_scale(self, init_scale)
        self.rank = rank
        self._cov_factor_init: torch.Tensor | None = None

    def _setup_sites(self) -> None:
        super()._setup_sites()
        if self.rank is None:
            self.rank = default_rank(self.latent_dim)
        # Random, so that W W^T has about the diagonal's scale on average (as Pyro).
        self._cov_factor_init = torch.randn(self.latent_dim, self.rank) / self.rank**0.5
        self._scale_init = torch.full_like(self._loc_init, 0.5**0.5 * self.init_scale)

    def _factors(self, read: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        assert self._cov_factor_init is not None
        loc = read(f"{self.prefix}.loc", self._loc_init, constraints.real)
        scale = read(f"{self.prefix}.scale", self._scale_init, constraints.positive)
        cov_factor = read(f"{self.prefix}.cov_factor", self._cov_factor_init, constraints.real)
        return loc, scale, cov_factor

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        loc, scale, cov_factor = self._factors(param)
        return dist.LowRankMultivariateNormal(
            loc, cov_factor * scale.unsqueeze(-1), scale * scale, validate_args=False
        )

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        loc, scale, cov_factor = self._factors(self._stored)
        return loc, scale * (cov_factor.pow(2).sum(-1) + 1).sqrt()

"""A distribution whose log density is zero where a boolean mask is False."""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Distribution

from .mixin import TorchDistributionMixin
from .util import scale_and_mask


class MaskedDistribution(TorchDistributionMixin, Distribution):
    """Made by ``d.mask(mask)``: samples as ``d``, scores only where ``mask`` is True."""

    arg_constraints: dict[str, Any] = {}

    def __init__(self, base_dist: Distribution, mask: torch.Tensor | bool) -> None:
        if isinstance(mask, bool):
            batch_shape = base_dist.batch_shape
        elif isinstance(mask, torch.Tensor) and mask.dtype == torch.bool:
            batch_shape = torch.broadcast_shapes(mask.shape, base_dist.batch_shape)
            if mask.shape != batch_shape:
                mask = mask.expand(batch_shape)
            if base_dist.batch_shape != batch_shape:
                base_dist = base_dist.expand(batch_shape)
        else:
            raise TypeError(
                f".mask() takes a bool or a bool tensor, got {type(mask).__name__}; build masks like `x > 0`"
            )
        self.base_dist = base_dist
        self._mask = mask
        super().__init__(batch_shape, base_dist.event_shape, validate_args=False)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MaskedDistribution:
        batch_shape = torch.Size(batch_shape)
        mask = self._mask if isinstance(self._mask, bool) else self._mask.expand(batch_shape)
        return MaskedDistribution(self.base_dist.expand(batch_shape), mask)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_enumerate_support

    @property
    def support(self) -> Any:  # type: ignore[override]
        return self.base_dist.support

    def sample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = torch.Size()) -> torch.Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return scale_and_mask(self.base_dist.log_prob(value), mask=self._mask)

    def enumerate_support(self, expand: bool = True) -> torch.Tensor:
        return self.base_dist.enumerate_support(expand)

    @property
    def mean(self) -> torch.Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> torch.Tensor:
        return self.base_dist.variance

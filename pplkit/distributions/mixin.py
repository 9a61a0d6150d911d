"""Pyro's conveniences on top of torch.distributions, as a mixin.

pplkit's distributions are torch's own classes with this mixin added, so every
density, sampler and KL divergence is torch's; the mixin only adds the reshaping
helpers Pyro models use (``.to_event``, ``.expand_by``, ``.mask``) and lets a
distribution be called to draw a sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch

from ..util import default_validate_args

if TYPE_CHECKING:
    from torch.distributions import Distribution


class TorchDistributionMixin:
    """Adds ``to_event``, ``expand_by``, ``mask``, ``event_dim`` and ``shape`` to a torch distribution."""

    # torch reads ``self._validate_args`` when a distribution is built and when it scores a
    # value; routing the default through pplkit.util makes validation_disabled() per thread.
    @property
    def _validate_args(self) -> bool:
        value = self.__dict__.get("_pplkit_validate_args")
        return default_validate_args() if value is None else value

    @_validate_args.setter
    def _validate_args(self, value: bool) -> None:
        self.__dict__["_pplkit_validate_args"] = value

    def __call__(self: Distribution, sample_shape: Sequence[int] = ()) -> torch.Tensor:  # type: ignore[misc]
        """Draw a sample, reparameterised when the family allows it."""
        shape = torch.Size(sample_shape)
        return self.rsample(shape) if self.has_rsample else self.sample(shape)

    @property
    def event_dim(self: Distribution) -> int:  # type: ignore[misc]
        return len(self.event_shape)

    def shape(self: Distribution, sample_shape: Sequence[int] = ()) -> torch.Size:  # type: ignore[misc]
        """The shape of a sample: ``sample_shape + batch_shape + event_shape``."""
        return torch.Size(sample_shape) + self.batch_shape + self.event_shape

    def to_event(self: Distribution, reinterpreted_batch_ndims: int | None = None) -> Distribution:  # type: ignore[misc]
        """Treat the rightmost ``reinterpreted_batch_ndims`` batch dims as event dims (all by default)."""
        from .torch import Independent

        n = len(self.batch_shape) if reinterpreted_batch_ndims is None else reinterpreted_batch_ndims
        if n == 0:
            return self
        if n < 0 or n > len(self.batch_shape):
            raise ValueError(
                f"to_event({n}): {type(self).__name__} has batch shape {tuple(self.batch_shape)}, "
                f"so it can move 0..{len(self.batch_shape)} dims into the event"
            )
        if isinstance(self, torch.distributions.Independent):
            return Independent(self.base_dist, self.reinterpreted_batch_ndims + n)
        return Independent(self, n)

    def expand_by(self: Distribution, sample_shape: Sequence[int]) -> Distribution:  # type: ignore[misc]
        """Add dims on the left of the batch shape."""
        return self.expand(torch.Size(sample_shape) + self.batch_shape)

    def has_rsample_(self: Distribution, value: bool) -> Distribution:  # type: ignore[misc]
        """Force reparameterised (True) or detached (False) sampling on this instance; returns it.

        As in Pyro: with False the ELBOs use a score-function gradient for the site, e.g.
        where a draw decides control flow and its pathwise gradient would mislead.
        """
        if value is not True and value is not False:
            raise ValueError(f"has_rsample_(value): value must be True or False, got {value!r}")
        self.has_rsample = value  # type: ignore[misc]
        return self

    def mask(self: Distribution, mask: torch.Tensor | bool) -> Distribution:  # type: ignore[misc]
        """Keep the log density where ``mask`` is True and make it zero elsewhere."""
        from .masked import MaskedDistribution

        return MaskedDistribution(self, mask)

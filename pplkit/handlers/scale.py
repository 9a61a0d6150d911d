"""``scale`` multiplies log densities; ``mask`` zeroes them where a mask is False."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..runtime import Handler, Message, SiteKind


def _scores(msg: Message) -> bool:
    return msg.kind.is_sample_like and msg.kind is not SiteKind.PLATE


class scale(Handler):
    """Multiply the log density of every sample site inside by ``scale`` (> 0).

    Example::

        with scale(scale=len(data) / batch_size):
            sample("obs", d, obs=batch)
    """

    def __init__(self, fn: Callable[..., Any] | None = None, scale: float | torch.Tensor = 1.0) -> None:
        super().__init__(fn)
        positive = bool((scale > 0).all()) if isinstance(scale, torch.Tensor) else scale > 0
        if not positive:
            raise ValueError(f"scale must be positive, got {scale!r}")
        self.scale = scale

    def process(self, msg: Message) -> None:
        if _scores(msg):
            msg.scale = msg.scale * self.scale


class mask(Handler):
    """Zero the log density of sample sites inside wherever ``mask`` is False.

    Example::

        with mask(mask=~missing):
            sample("obs", d, obs=data)
    """

    def __init__(self, fn: Callable[..., Any] | None = None, mask: torch.Tensor | bool | None = None) -> None:
        super().__init__(fn)
        if not (isinstance(mask, bool) or (isinstance(mask, torch.Tensor) and mask.dtype == torch.bool)):
            raise TypeError(f"mask needs mask= as a bool or a bool tensor, got {mask!r}")
        self.mask = mask

    def process(self, msg: Message) -> None:
        if _scores(msg):
            msg.mask = self.mask if msg.mask is None else msg.mask & self.mask

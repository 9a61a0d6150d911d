"""Small tensor helpers shared by distributions, traces and inference."""

from __future__ import annotations

import torch


def sum_rightmost(value: torch.Tensor, dim: int) -> torch.Tensor:
    """Sum out the rightmost ``dim`` dims of ``value``."""
    if dim == 0:
        return value
    return value.reshape(value.shape[: value.dim() - dim] + (-1,)).sum(-1)


def scale_and_mask(
    log_prob: torch.Tensor, scale: float | torch.Tensor = 1.0, mask: torch.Tensor | bool | None = None
) -> torch.Tensor:
    """Multiply a log density by ``scale`` and zero it where ``mask`` is False.

    Masking uses ``where`` rather than multiplication so that a masked-out ``-inf`` or
    NaN cannot leak into the sum or its gradient.
    """
    if mask is not None and mask is not True:
        if mask is False:
            return torch.zeros_like(log_prob)
        log_prob = torch.where(mask, log_prob, log_prob.new_zeros(()))
    if not (isinstance(scale, (int, float)) and scale == 1.0):
        log_prob = log_prob * scale
    return log_prob

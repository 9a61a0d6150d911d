"""Quantiles of samples, plain and importance-weighted, as ``pyro.ops.stats`` has them."""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["quantile", "weighed_quantile"]


def _as_probs(probs: float | Sequence[float] | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(probs, dtype=like.dtype, device=like.device)


def quantile(input: torch.Tensor, probs: float | Sequence[float] | torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Quantiles of ``input`` along ``dim``, interpolated linearly between order statistics.

    The quantiles replace ``dim`` (squeezed away when ``probs`` is a scalar).

    Example::

        quantile(torch.arange(5.0), [0.5, 0.75])   # tensor([2., 3.])
    """
    p = _as_probs(probs, input)
    result = torch.quantile(input, p.reshape(-1), dim=dim)  # quantiles come first
    result = result.movedim(0, dim if dim >= 0 else input.dim() + dim)
    return result.squeeze(dim) if p.dim() == 0 else result


def weighed_quantile(
    input: torch.Tensor, probs: float | Sequence[float] | torch.Tensor, log_weights: torch.Tensor, dim: int = 0
) -> torch.Tensor:
    """Quantiles of samples ``input`` along ``dim`` weighted by ``exp(log_weights)`` (one weight per sample).

    The weighted empirical CDF runs from 0 at the smallest sample to 1 at the largest,
    and each quantile is interpolated linearly on it (Pyro's convention), so equal
    weights give :func:`quantile`.

    Example::

        x = torch.tensor([[10.0, 50.0, 40.0], [20.0, 30.0, 0.0]])
        weighed_quantile(x, [0.2, 0.8], torch.tensor([0.4, 0.5, 0.1]).log(), dim=-1)
        # tensor([[40.4, 47.6], [ 9.0, 26.4]])
    """
    dim = dim if dim >= 0 else input.dim() + dim
    p = _as_probs(probs, input).reshape(-1)
    weights = torch.softmax(log_weights, 0)
    moved = input.movedim(dim, -1)
    sorted_input, order = moved.sort(-1)
    cdf = weights[order].cumsum(-1)
    first, last = cdf[..., :1], cdf[..., -1:]
    cdf = (cdf - first) / (last - first)
    above = torch.searchsorted(cdf.contiguous(), p.expand(cdf.shape[:-1] + p.shape).contiguous()).clamp(
        1, cdf.shape[-1] - 1
    )
    below = above - 1
    c_lo, c_hi = cdf.gather(-1, below), cdf.gather(-1, above)
    x_lo, x_hi = sorted_input.gather(-1, below), sorted_input.gather(-1, above)
    t = ((p - c_lo) / (c_hi - c_lo).clamp(min=torch.finfo(cdf.dtype).tiny)).clamp(0, 1)
    return (x_lo + t * (x_hi - x_lo)).movedim(-1, dim)

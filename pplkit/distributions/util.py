"""Small tensor helpers shared by distributions, traces and inference."""

from __future__ import annotations

import torch
from torch.distributions import Distribution, Independent


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


def broadcast_shape(*shapes: tuple[int, ...] | torch.Size, strict: bool = False) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, as Pyro's ``dist.util.broadcast_shape``.

    With ``strict=True`` a size-1 dim does not stretch: every shape must have the
    same size wherever it has the dim.

    Example::

        broadcast_shape((2, 1), (3,))   # (2, 3)
    """
    reversed_shape: list[int] = []
    for shape in shapes:
        for i, size in enumerate(reversed(tuple(shape))):
            if i >= len(reversed_shape):
                reversed_shape.append(size)
            elif reversed_shape[i] == 1 and not strict:
                reversed_shape[i] = size
            elif reversed_shape[i] != size and (size != 1 or strict):
                raise ValueError(
                    "shape mismatch: objects cannot be broadcast to a single shape: "
                    + " vs ".join(str(tuple(s)) for s in shapes)
                )
    return tuple(reversed(reversed_shape))


def logsumexp(tensor: torch.Tensor, dim: int | tuple[int, ...] = -1, keepdim: bool = False) -> torch.Tensor:
    """``log(sum(exp(tensor)))`` over ``dim``, safe where every term is ``-inf`` (gives ``-inf``, not NaN).

    Example::

        logsumexp(torch.tensor([0.0, 0.0]))   # log 2
    """
    if isinstance(dim, int):
        dim = (dim,)
    if not dim:
        return tensor
    peak = tensor.detach().amax(dim=dim, keepdim=True)
    peak = peak.masked_fill(~torch.isfinite(peak), 0.0)
    result = (tensor - peak).exp().sum(dim=dim, keepdim=True).log() + peak
    return result if keepdim else result.squeeze(dim)


def unwrap_independent(fn: Distribution) -> tuple[Distribution, int]:
    """The base distribution under any ``.to_event`` wrappers, and how many dims they moved.

    >>> import pplkit.distributions as dist
    >>> base, event_dims = unwrap_independent(dist.Normal(0.0, 1.0).expand([2, 3]).to_event(2))
    >>> type(base).__name__, event_dims
    ('Normal', 2)
    """
    event_dims = 0
    while isinstance(fn, Independent):
        event_dims += fn.reinterpreted_batch_ndims
        fn = fn.base_dist
    return fn, event_dims

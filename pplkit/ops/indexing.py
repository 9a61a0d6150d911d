"""Pyro's ``ops.indexing``: ``Vindex``, indexing that broadcasts over batch and enumeration dims."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["Vindex", "vindex"]


def vindex(tensor: torch.Tensor, args: Any) -> torch.Tensor:
    """``tensor[args]`` where tensor indices broadcast with each other and with the batch dims.

    Each arg is an int, ``slice(None)`` (``:``), or a long tensor of batch indices; an
    ``Ellipsis`` may come first only, and then stands for ``tensor``'s batch dims (the
    dims left of one dim per remaining arg); without it, dims left unindexed on the
    right are kept whole. The result has the broadcast batch shape followed by the sizes
    of the ``:`` dims, as in Pyro.

    >>> x = torch.arange(24).reshape(2, 3, 4)
    >>> i, j = torch.tensor([[0], [1]]), torch.tensor([0, 3])
    >>> vindex(x, (i, slice(None), j)).shape   # batch (2, 2), then the ':' dim
    torch.Size([2, 2, 3])
    >>> bool((vindex(x, (i, slice(None), j))[1, 0] == x[1, :, 0]).all())
    True
    """
    if not isinstance(args, tuple):
        args = (args,)
    if not any(isinstance(a, torch.Tensor) and a.dim() for a in args):
        return tensor[args]
    batched = args[0] is Ellipsis
    if batched:
        args = args[1:]
    if any(a is Ellipsis for a in args):
        raise ValueError("Vindex: '...' may appear only first, where it stands for the batch dims")
    if tensor.dim() < len(args):
        raise ValueError(f"Vindex: a tensor of shape {tuple(tensor.shape)} cannot take {len(args)} indices")
    if not batched:  # as plain indexing: dims not indexed are kept whole
        args = args + (slice(None),) * (tensor.dim() - len(args))
    event_dim = len(args)
    kept = [i for i, a in enumerate(args) if isinstance(a, slice)]
    for i in kept:
        if args[i] != slice(None):
            raise ValueError(f"Vindex: only ':' slices are supported, got {args[i]!r} at position {i}")
    trailing = (1,) * len(kept)
    batch_shape = tensor.shape[: tensor.dim() - event_dim]
    # Every dim gets a tensor index, so torch broadcasts them all: batch dims by arange
    # aligned at the right of the batch part, ':' dims by arange in their own slot.
    index: list[torch.Tensor] = []
    for d, size in enumerate(batch_shape):
        shape = (size,) + (1,) * (len(batch_shape) - d - 1) + trailing
        index.append(torch.arange(size, device=tensor.device).reshape(shape))
    for i, a in enumerate(args):
        size = tensor.shape[len(batch_shape) + i]
        if isinstance(a, slice):
            position = kept.index(i)
            index.append(torch.arange(size, device=tensor.device).reshape((size,) + (1,) * (len(kept) - position - 1)))
        else:
            a = torch.as_tensor(a, device=tensor.device)
            index.append(a.reshape(a.shape + trailing))
    return tensor[tuple(index)]


class Vindex:
    """``Vindex(x)[i, :, j]``: :func:`vindex` with indexing syntax, as Pyro's ``Vindex``."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self._tensor = tensor

    def __getitem__(self, args: Any) -> torch.Tensor:
        return vindex(self._tensor, args)

"""``enum``: give each site marked for parallel enumeration all its values at once, in a new dim.

A site with ``infer={"enumerate": "parallel"}`` (see ``config_enumerate``) receives
``fn.enumerate_support()``, its values laid along a batch dim of its own, left of
every plate dim: the first such site gets ``first_available_dim`` (``-1 - max_plate_nesting``),
the next one the dim left of it, and so on. Whatever depends on the site is then
computed for every value at once, by broadcasting; ``TraceEnum_ELBO`` sums the dims
out exactly. Inside a ``markov`` context, dims are reused by sites more than
``history`` steps apart, as in Pyro.

A site that also sets ``infer["num_samples"] = K`` (``config_enumerate(num_samples=K)``)
gets ``K`` samples of its distribution along its dim instead of its support, for
``TraceTMC_ELBO``: continuous sites too.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..runtime import Handler, Message, SiteKind, iter_handlers
from .markov import markov

__all__ = ["enum"]

ENUM_DIM = "_enumerate_dim"  # where the handler records a site's dim, in ``msg.infer``


class enum(Handler):
    """Enumerate the sites marked ``infer={"enumerate": "parallel"}`` in parallel.

    Args:
        fn: the model or guide.
        first_available_dim: the rightmost dim free of plates, e.g. ``-3`` for a model
            with two nested plates.

    Example::

        tr = trace(enum(config_enumerate(model), first_available_dim=-2)).get_trace()
        tr.nodes["z"].value.shape   # (K, 1): the K values of z along dim -2
    """

    def __init__(self, fn: Callable[..., Any] | None = None, first_available_dim: int | None = None) -> None:
        super().__init__(fn)
        if first_available_dim is None:
            first_available_dim = -1
        if not isinstance(first_available_dim, int) or first_available_dim >= 0:
            raise ValueError(f"enum: first_available_dim must be a negative int, e.g. -2, got {first_available_dim!r}")
        self.first_available_dim = first_available_dim
        self._next_dim = first_available_dim

    def __enter__(self) -> enum:
        self._next_dim = self.first_available_dim
        return super().__enter__()

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.done or msg.is_observed:
            return
        strategy = msg.infer.get("enumerate")
        if strategy is None:
            return
        if strategy != "parallel":
            raise NotImplementedError(
                f"site '{msg.name}': enumerate={strategy!r} is not supported by pplkit; use 'parallel'"
            )
        fn = msg.fn
        num_samples = msg.infer.get("num_samples")
        if num_samples is not None:
            dim = self._allocate(msg)
            msg.value = _local_samples(msg, num_samples, dim)
            msg.infer = {**msg.infer, ENUM_DIM: dim}
            msg.done = True
            return
        if not fn.has_enumerate_support:
            raise ValueError(
                f"site '{msg.name}' is marked for enumeration but its {type(fn).__name__} has no finite support; "
                "enumerate only discrete sites (config_enumerate skips the others)"
            )
        dim = self._allocate(msg)
        batch_rank = -dim - 1
        batch_shape = tuple(fn.batch_shape)
        # The dim must be free in the distribution's batch shape; dims left of it may hold
        # other sites' values (in a markov chain a reused dim lies right of newer ones).
        if len(batch_shape) > batch_rank and batch_shape[dim] != 1:
            raise ValueError(
                f"site '{msg.name}': its distribution has batch shape {batch_shape}, which uses dim {dim} where its "
                "enumerated values go. Raise max_plate_nesting (or first_available_dim) so that the enumeration "
                "dims sit left of every plate dim"
            )
        expand = bool(msg.infer.get("expand", False))
        support = fn.enumerate_support(expand=expand)
        size = support.shape[0]
        event = tuple(fn.event_shape)
        if expand:
            batch = batch_shape[-batch_rank:] if batch_rank else ()
            support = support.reshape((size,) + (1,) * (len(batch_shape) - len(batch)) + batch + event)
            msg.value = support.reshape((size,) + (1,) * (batch_rank - len(batch)) + batch + event)
        else:
            msg.value = support.reshape((size,) + (1,) * batch_rank + event)
        msg.infer = {**msg.infer, ENUM_DIM: dim}
        msg.done = True

    def _allocate(self, msg: Message) -> int:
        context = next(iter_handlers(markov), None)
        if context is not None:
            reused = context.reusable_dim(self)
            if reused is not None:
                return reused
        dim = self._next_dim
        self._next_dim -= 1
        if context is not None:
            context.record_dim(self, dim)
        return dim


def _local_samples(msg: Message, num_samples: int, dim: int) -> torch.Tensor:
    """``num_samples`` draws of the site along ``dim``, each drawn given one sample of its parents.

    A draw whose distribution varies along other sites' enumeration dims would hold every
    combination of their samples; like Pyro, keep one parent sample per draw: draw k uses
    parent sample k (``tmc="diagonal"``) or a parent sample drawn uniformly (``"mixture"``).
    """
    fn = msg.fn
    strategy = msg.infer.get("tmc", "diagonal")
    if strategy not in ("diagonal", "mixture"):
        raise ValueError(f"site '{msg.name}': tmc={strategy!r} is not supported by pplkit; use 'diagonal' or 'mixture'")
    shape = torch.Size([num_samples])
    draws = fn.rsample(shape) if fn.has_rsample else fn.sample(shape)
    batch_shape = tuple(fn.batch_shape)
    plate_dims = {f.dim for f in msg.cond_indep_stack if f.dim is not None}
    rank = len(batch_shape)
    index: list[torch.Tensor] = []
    kept: list[int] = []
    for i, size in enumerate((num_samples,) + batch_shape):
        batch_dim = i - 1 - rank  # the dim counted from the right of the batch shape
        at = [1] * (rank + 1)
        if i == 0 or batch_dim in plate_dims or size == 1:
            at[i] = size
            index.append(torch.arange(size).reshape(at))
            kept.append(size)
            continue
        if strategy == "mixture":
            parents = torch.randint(size, (num_samples,))
        elif size == num_samples:
            parents = torch.arange(size)
        else:
            raise ValueError(
                f"site '{msg.name}' draws {num_samples} samples but depends on a site with {size} values along dim "
                f"{batch_dim}; tmc='diagonal' pairs samples one to one, so give both the same num_samples or use "
                "tmc='mixture'"
            )
        at[0] = num_samples
        index.append(parents.reshape(at))
        kept.append(1)
    thin = draws[tuple(index)]  # shape (num_samples, *batch with parent dims 1, *event)
    batch_rank = -dim - 1
    batch = tuple(kept[1:])
    extra = batch[: max(len(batch) - batch_rank, 0)]
    assert all(size == 1 for size in extra), (msg.name, batch, dim)
    trailing = batch[len(extra):]
    return thin.reshape((num_samples,) + (1,) * (batch_rank - len(trailing)) + trailing + tuple(fn.event_shape))

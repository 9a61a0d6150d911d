"""Plates: conditional independence, vectorised broadcasting and subsampling.

``with plate("data", N) as idx:`` marks the sites inside as independent along one
batch dim. Three things follow from that, all implemented here:

* the plate takes a batch dim (the rightmost free one, unless ``dim=`` names one),
  and every distribution inside is broadcast to have the plate's size there, as the
  message passes the plate on its way out through the handler stack;
* with ``subsample_size=`` the plate draws a random subset of indices, and the log
  densities inside are scaled by ``size / subsample_size`` so that the ELBO stays an
  unbiased estimate of the full-data one;
* iterating (``for i in plate("data", N)``) gives a sequential plate: no broadcasting,
  one iteration at a time, for models that need a Python loop.
"""

from __future__ import annotations

import functools
import itertools
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Sequence

import torch

from .runtime import Handler, Message, PlateFrame, SiteKind, apply_stack, get_handler_stack
from .util import is_validation_enabled, one_random_draw

__all__ = ["plate", "plate_stack", "broadcast_to_plates", "subsample"]

_ANY_SIZE = -1  # the size of a plate created without one, as in Pyro (torch's "any size")


class _Subsample(torch.distributions.Distribution):
    """The distribution of a plate's index draw: a uniform random subset, in random order."""

    arg_constraints: dict[str, Any] = {}

    def __init__(self, size: int, subsample_size: int, device: torch.device | None = None):
        self.size = size
        self.subsample_size = subsample_size
        self.device = device
        super().__init__(torch.Size(), torch.Size(), validate_args=False)

    @one_random_draw  # a compiled ELBO draws the indices ahead of its graph
    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = torch.Size()) -> torch.Tensor:
        size, k = self.size, self.subsample_size
        if k == size:
            return torch.arange(size, device=self.device)
        if 2 * k > size:
            return torch.randperm(size, device=self.device)[:k]
        # Drawing with replacement and topping up the duplicates keeps the cost O(k)
        # however large the data, and still gives every k-subset the same chance.
        idx = torch.randint(size, (k,), device=self.device).unique()
        while idx.numel() < k:
            more = torch.randint(size, (k - idx.numel(),), device=self.device)
            idx = torch.cat([idx, more]).unique()
        return idx[torch.randperm(k, device=self.device)]

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return torch.zeros((), device=value.device)


class plate(Handler):
    """A plate of ``size`` conditionally independent elements.

    Args:
        name: the plate's name, unique within a model.
        size: the number of elements in the full data.
        subsample_size: draw this many indices at random each time the plate is created.
        subsample: use these indices instead of drawing them.
        dim: the batch dim to use (a negative int). By default the rightmost dim that
            no enclosing plate uses: -1 for the outermost plate, -2 for the next, ...
        device: where the index tensor lives.

    Example::

        with plate("data", len(x)) as idx:
            sample("obs", dist.Normal(mu, 1.0), obs=x)

        @plate("data", len(x))          # as a decorator: each call runs inside a fresh plate
        def likelihood(mu):
            return sample("obs", dist.Normal(mu, 1.0), obs=x)
    """

    def __init__(
        self,
        name: str,
        size: int | None = None,
        subsample_size: int | None = None,
        subsample: torch.Tensor | None = None,
        dim: int | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(f"plate name must be a string, got {name!r}")
        if dim is not None and (not isinstance(dim, int) or dim >= 0):
            raise ValueError(f"plate '{name}': dim must be a negative int such as -1 or -2, got {dim!r}")
        if size is None and subsample is None:
            # Pyro's plate of arbitrary size: it marks the dim as independent, nothing more.
            if subsample_size is not None:
                raise ValueError(
                    f"plate '{name}': subsample_size needs the plate's size, "
                    f"e.g. plate('{name}', len(data), {subsample_size})"
                )
            self._init_arbitrary_size(name, dim)
            return
        if size is None:
            size = len(subsample)  # type: ignore[arg-type]
        size = int(size)
        if size < 1:
            raise ValueError(
                f"plate '{name}' has size {size}, but a plate needs at least one element. If the size is "
                "len(data), the data is empty: check how it was loaded or filtered (or skip the plate when "
                "there is no data)"
            )
        if subsample is not None:
            subsample = torch.as_tensor(subsample)
            if subsample_size is not None and subsample_size != len(subsample):
                raise ValueError(
                    f"plate '{name}': subsample_size={subsample_size} but len(subsample)={len(subsample)}; "
                    "give one of them"
                )
            subsample_size = len(subsample)
        chosen = subsample_size is not None  # else any replayed subsample is accepted, as in Pyro
        if subsample_size is None:
            subsample_size = size
        if not 0 < subsample_size <= size:
            raise ValueError(f"plate '{name}': subsample_size must be in 1..{size}, got {subsample_size}")
        # The arguments as given, so that a decorated function builds a fresh plate at each call.
        self._arguments: tuple[Any, ...] = (
            name,
            size,
            subsample_size if subsample is None else None,
            subsample,
            dim,
            device,
        )
        self.name = name
        self.size = size
        self.subsample_size = int(subsample_size)
        self.requested_dim = dim
        self.dim: int | None = dim
        self._counter = 0
        device = torch.device(device) if device is not None else None
        # The index draw is a message of its own, so that replaying a guide's trace makes
        # the model see the same subsample as the guide did.
        msg = Message(
            kind=SiteKind.PLATE,
            name=name,
            fn=_Subsample(size, self.subsample_size, device),
            value=subsample,
        )
        self.indices = apply_stack(msg).value
        if len(self.indices) != self.subsample_size and not chosen:
            self.subsample_size = len(self.indices)  # the guide's subsample, replayed into this plate
        if len(self.indices) != self.subsample_size:
            raise ValueError(
                f"plate '{name}': got {len(self.indices)} replayed indices but subsample_size={self.subsample_size}; "
                "did the model and the guide use different subsample sizes?"
            )

    def _init_arbitrary_size(self, name: str, dim: int | None) -> None:
        self._arguments = (name, None, None, None, dim, None)
        self.name = name
        self.size = self.subsample_size = _ANY_SIZE
        self.requested_dim = self.dim = dim
        self._counter = 0
        self.indices = torch.arange(0)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Used as a decorator, ``plate(...)(fn)`` returns ``fn`` run inside the plate at each call."""
        if self.fn is None and len(args) == 1 and not kwargs and callable(args[0]):
            fn, arguments = args[0], self._arguments

            @functools.wraps(fn)
            def in_plate(*a: Any, **k: Any) -> Any:
                with plate(*arguments):  # a fresh subsample each call, recorded by the handlers active then
                    return fn(*a, **k)

            return in_plate
        return super().__call__(*args, **kwargs)

    @property
    def is_subsampled(self) -> bool:
        return self.subsample_size < self.size

    def __enter__(self) -> torch.Tensor:  # type: ignore[override]
        self.dim = self._allocate_dim()
        super().__enter__()
        return self.indices

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self.dim = self.requested_dim

    def __iter__(self) -> Iterator[int]:
        """Sequential plate: yield each index with the plate active but no dim taken."""
        for counter, i in enumerate(self.indices.tolist()):
            self._counter = counter
            self.dim = None
            Handler.__enter__(self)
            try:
                yield i
            finally:
                Handler.__exit__(self, None, None, None)
        self._counter = 0

    def __len__(self) -> int:
        return self.subsample_size

    def _allocate_dim(self) -> int:
        active = [h for h in get_handler_stack() if isinstance(h, plate) and h.dim is not None]
        used = {h.dim: h.name for h in active}
        if self.requested_dim is not None:
            if self.requested_dim in used:
                other = used[self.requested_dim]
                free = next(d for d in itertools.count(-1, -1) if d not in used)
                raise ValueError(
                    f"plates '{other}' and '{self.name}' both want dim {self.requested_dim}; "
                    f"give plate '{self.name}' a free dim, e.g. dim={free}"
                )
            return self.requested_dim
        return next(d for d in itertools.count(-1, -1) if d not in used)

    def frame(self) -> PlateFrame:
        """What a site inside this plate records of it now (``cond_indep_stack`` entries)."""
        return PlateFrame(self.name, self.dim, self.subsample_size, self.size, self._counter)

    def process(self, msg: Message) -> None:
        if msg.kind is SiteKind.PLATE:
            return
        msg.cond_indep_stack = (self.frame(), *msg.cond_indep_stack)
        if msg.kind.is_sample_like:
            if self.is_subsampled:
                msg.scale = msg.scale * (self.size / self.subsample_size)
            # Broadcast here, not later, so that handlers outside the plate (do,
            # condition, trace) see the distribution at its full batch shape.
            if self.dim is not None:
                broadcast_to_plates(msg)

    def postprocess(self, msg: Message) -> None:
        # A param declared with event_dim inside a subsampled plate holds one row per
        # element of the full data; the model sees only the rows of this subsample.
        if msg.kind is not SiteKind.PARAM or self.dim is None:
            return
        event_dim = msg.args[2]
        if event_dim is None:
            return
        dim = self.dim - event_dim
        value = msg.value
        if value.dim() < -dim or value.shape[dim] == 1:
            return
        if value.shape[dim] != self.size:
            if is_validation_enabled():
                # Pyro's wording ("invalid shape of pyro.param") first, then what to change.
                raise ValueError(
                    f"Inside pyro.plate('{self.name}', {self.size}, dim={self.dim}) invalid shape of "
                    f"pyro.param('{msg.name}', ..., event_dim={event_dim}): {tuple(value.shape)}; its dim {dim} "
                    f"must be the plate's size {self.size} (or 1 to broadcast)"
                )
            return
        if self.is_subsampled:
            msg.value = value.index_select(dim, self.indices.to(value.device))


@contextmanager
def plate_stack(prefix: str, sizes: Sequence[int], rightmost_dim: int = -1) -> Iterator[None]:
    """Enter one plate per size, named ``{prefix}_0``, ``{prefix}_1``, ..., the last size rightmost.

    As in Pyro: ``plate_stack("batch", (2, 3))`` enters ``batch_0`` of size 3 at dim -1 and
    ``batch_1`` of size 2 at dim -2, so every site inside is broadcast to shape ``(2, 3)``.

    Example::

        with plate_stack("batch", x.shape):
            sample("obs", dist.Normal(0.0, 1.0), obs=x)
    """
    if not isinstance(rightmost_dim, int) or rightmost_dim >= 0:
        raise ValueError(f"plate_stack('{prefix}'): rightmost_dim must be a negative int, got {rightmost_dim!r}")
    with ExitStack() as stack:
        for i, size in enumerate(reversed(tuple(sizes))):
            stack.enter_context(plate(f"{prefix}_{i}", size, dim=rightmost_dim - i))
        yield


def _shape_str(shape: torch.Size | tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def broadcast_to_plates(msg: Message) -> None:
    """Expand a sample-like site's distribution to the sizes of its vectorised plates.

    Raises a ValueError naming the plate and dim when the distribution or the observed
    value has a different size there, since that always means the model and the data
    disagree about what the plate indexes.
    """
    fn = msg.fn
    frames = [f for f in msg.cond_indep_stack if f.dim is not None and f.size != _ANY_SIZE]
    if not frames:
        return
    batch_shape = list(fn.batch_shape)
    needed = max(-f.dim for f in frames)  # type: ignore[operator]
    if len(batch_shape) < needed:
        batch_shape = [1] * (needed - len(batch_shape)) + batch_shape
    for f in frames:
        dim = f.dim
        assert dim is not None
        have = batch_shape[dim]
        if have not in (1, f.size):
            raise ValueError(
                # Pyro's opening words ("Shape mismatch inside plate"), then pplkit's explanation.
                f"Shape mismatch inside plate('{f.name}') at site '{msg.name}' dim {dim}, {f.size} vs {have}: "
                f"its distribution has batch shape {_shape_str(fn.batch_shape)}, "
                f"size {have} at dim {dim}, but it is inside plate '{f.name}' of size {f.size} at that dim. "
                + _plate_size_hint(f, have)
            )
        batch_shape[dim] = f.size
    if msg.is_observed and msg.value is not None and msg.kind is SiteKind.SAMPLE:
        _check_observed_shape(msg, frames)
    target = torch.Size(batch_shape)
    if target != fn.batch_shape:
        msg.fn = fn.expand(target)


def _plate_size_hint(frame: PlateFrame, have: int) -> str:
    if frame.full_size == have and frame.size != have:
        return (
            f"The plate is subsampled to {frame.size} of {frame.full_size}: index the data with the "
            f"plate's indices, e.g. `with plate('{frame.name}', {frame.full_size}, subsample_size={frame.size}) "
            "as idx:` and use `x[idx]`."
        )
    return f"Make them agree, e.g. plate('{frame.name}', {have}), or move the site out of the plate."


def _check_observed_shape(msg: Message, frames: list[PlateFrame]) -> None:
    value = msg.value
    event_dim = len(msg.fn.event_shape)
    shape = tuple(value.shape)
    batch = shape[: len(shape) - event_dim] if event_dim else shape
    for f in frames:
        dim = f.dim
        assert dim is not None
        if len(batch) >= -dim and batch[dim] not in (1, f.size):
            raise ValueError(
                f"site '{msg.name}': the observed value has shape {_shape_str(shape)}, size {batch[dim]} at "
                f"dim {dim}, but plate '{f.name}' has size {f.size} there. " + _plate_size_hint(f, batch[dim])
            )
    expected = tuple(msg.fn.batch_shape) + tuple(msg.fn.event_shape)
    if shape == expected:  # the usual case; torch.broadcast_shapes costs ~15 us per call
        return
    try:
        torch.broadcast_shapes(shape, expected)
    except RuntimeError:
        raise ValueError(
            f"site '{msg.name}': the observed value has shape {_shape_str(shape)}, which does not broadcast "
            f"with the distribution's shape {_shape_str(expected)} (batch {_shape_str(msg.fn.batch_shape)}, "
            f"event {_shape_str(msg.fn.event_shape)}) inside plates "
            + ", ".join(f"'{f.name}' (dim {f.dim}, size {f.size})" for f in frames)
            + ". Check which dim of the data each plate indexes."
        ) from None


def subsample(data: torch.Tensor, event_dim: int) -> torch.Tensor:
    """The rows of ``data`` for the subsample of each enclosing plate, as ``pyro.subsample``.

    Args:
        data: batched data whose dims left of its ``event_dim`` rightmost ones line up
            with the plates' dims.
        event_dim: how many rightmost dims of ``data`` are one event.

    A plate's dim that ``data`` has at the plate's full size is indexed by the plate's
    subsample; a dim of size 1 broadcasts and is kept. Anything else is refused, as in
    Pyro.

    Example::

        with plate("data", len(data), subsample_size=10):
            batch = subsample(data, event_dim=0)   # 10 rows of data
    """
    if not isinstance(event_dim, int) or event_dim < 0:
        raise ValueError(f"subsample(data, event_dim): event_dim must be a non-negative int, got {event_dim!r}")
    for handler in get_handler_stack():
        if not isinstance(handler, plate) or handler.dim is None:
            continue
        dim = handler.dim - event_dim
        if data.dim() < -dim or data.shape[dim] == 1:
            continue
        if data.shape[dim] != handler.size:
            raise ValueError(
                f"Inside pyro.plate('{handler.name}', {handler.size}, dim={handler.dim}) invalid shape of "
                f"pyro.subsample(..., event_dim={event_dim}): {tuple(data.shape)}; its dim {dim} must be the "
                f"plate's size {handler.size} (or 1 to broadcast)"
            )
        if handler.is_subsampled:
            data = data.index_select(dim, handler.indices.to(data.device))
    return data

"""Pyro's ``poutine.runtime``: the handler stack of :mod:`pplkit.runtime`, by Pyro's names."""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from ..handlers.escape import NonlocalExit
from ..handlers.scale import mask
from ..plate import plate
from ..runtime import (
    Message,
    PlateFrame,
    SiteKind,
    apply_stack,
    default_process,
    get_handler_stack,
    iter_handlers,
)

__all__ = [
    "Message",
    "NonlocalExit",
    "am_i_wrapped",
    "apply_stack",
    "default_process_message",
    "effectful",
    "get_mask",
    "get_plates",
]

default_process_message = default_process


def am_i_wrapped() -> bool:
    """True when any handler is active, i.e. the code runs under a handler."""
    return bool(get_handler_stack())


def effectful(fn: Callable[..., Any] | None = None, type: str | None = None) -> Any:
    """Make ``fn`` an operation that handlers can see and change, under the Pyro type name ``type``.

    Outside any handler the function just runs. Under handlers each call becomes a
    message of kind ``SiteKind.EFFECT`` (``msg["type"] == type``); a handler may set its
    value (and ``done``); otherwise ``fn(*args, **kwargs)`` gives it. As in Pyro's
    effect_handlers tutorial::

        @effectful(type="apply")
        def add(x, y):
            return x + y
    """
    if fn is None:
        return functools.partial(effectful, type=type)
    if getattr(fn, "_is_effectful", False):
        return fn
    if not type:
        raise TypeError(f"effectful: give the operation a type name, e.g. effectful({fn.__name__}, type='apply')")
    if type in ("sample", "param"):
        raise ValueError(f"effectful: type {type!r} is pplkit.{type}'s; give a new operation its own type name")

    @functools.wraps(fn)
    def operation(
        *args: Any, name: str | None = None, infer: dict[str, Any] | None = None, obs: Any = None, **kwargs: Any
    ) -> Any:
        if not get_handler_stack():
            return fn(*args, **kwargs)
        msg = Message(
            kind=SiteKind.EFFECT,
            effect_type=type,
            name=name or "",
            fn=fn,
            value=obs,
            is_observed=obs is not None,
            args=args,
            kwargs=kwargs,
            infer=dict(infer) if infer else {},
        )
        return apply_stack(msg).value

    operation._is_effectful = True  # type: ignore[attr-defined]
    return operation


def get_mask() -> torch.Tensor | bool | None:
    """The mask of the active ``mask`` handlers (None when there is none), as ``pyro.poutine.runtime.get_mask``.

    Lets a model skip work whose log density would be masked out anyway::

        if get_mask() is False:
            return   # nothing here will be scored
    """
    combined: torch.Tensor | bool | None = None
    for handler in iter_handlers(mask):
        combined = handler.mask if combined is None else combined & handler.mask
    return combined


def get_plates() -> tuple[PlateFrame, ...]:
    """The frames of the enclosing plates, outermost first, as a site there would record them.

    As ``pyro.poutine.runtime.get_plates``::

        with plate("data", 5):
            [f.name for f in get_plates()]   # ['data']
    """
    return tuple(h.frame() for h in get_handler_stack() if isinstance(h, plate))


class _DimAllocatorView:
    """Pyro's ``_DIM_ALLOCATOR._stack``, read from the active plates (pplkit keeps no allocator).

    Entry ``i`` names the plate that holds dim ``-1 - i`` (None for a free dim), so an
    empty list means no plate holds a dim: what Pyro's tests check after an error.
    """

    @property
    def _stack(self) -> list[str | None]:
        held = {-1 - h.dim: h.name for h in get_handler_stack() if isinstance(h, plate) and h.dim is not None}
        return [held.get(i) for i in range(max(held, default=-1) + 1)]


_DIM_ALLOCATOR = _DimAllocatorView()


def __getattr__(name: str) -> Any:
    # ``_PYRO_STACK`` is per thread in pplkit, so it is looked up when read.
    if name == "_PYRO_STACK":
        return get_handler_stack()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


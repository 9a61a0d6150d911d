"""Helpers shared by the inference algorithms: calling user code, plate nesting.

``torch_item`` is Pyro's (``pyro.infer.util.torch_item``); the other helpers here are
pplkit only (Pyro has no counterpart), used by SVI, Predictive, MCMC and the autoguides.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import torch

from ..runtime import Handler, SiteKind, get_handler_stack
from ..trace import Trace

__all__ = [
    "call_user_fn",
    "describe_args",
    "guess_max_plate_nesting",
    "torch_item",
    "tracing_for_structure",
    "zero_grads",
]


def torch_item(x: torch.Tensor | float) -> float:
    """``x.item()`` for a one-element tensor; a plain number is returned as it is (as in Pyro).

    Example::

        torch_item(torch.tensor(1.5)) == torch_item(1.5) == 1.5
    """
    return x if isinstance(x, (int, float)) else x.item()


def call_user_fn(fn: Callable[..., Any], role: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a model or guide; if it cannot accept ``args``, say which one and why.

    A TypeError raised inside the function's body is passed on unchanged: only a
    failure to bind the arguments to the signature is reworded.
    """
    try:
        return fn(*args, **kwargs)
    except TypeError as error:
        problem = signature_mismatch(fn, args, kwargs)
        if problem is None:
            _tag_role(error, role)
            raise
        raise TypeError(
            f"the {role} {_fn_name(fn)} cannot be called with the arguments {describe_args(args, kwargs)}: "
            f"{problem}. SVI and Predictive call the model and the guide with the same arguments, so give "
            "both the same signature (e.g. def guide(x, y=None) for def model(x, y=None))."
        ) from error
    except Exception as error:
        _tag_role(error, role)
        raise


def _tag_role(error: BaseException, role: str) -> None:
    # The trace handler around the call reads it, to say "raised while tracing the guide".
    if not hasattr(error, "_pplkit_role"):
        try:
            error._pplkit_role = role  # type: ignore[attr-defined]
        except AttributeError:  # an exception class with __slots__
            pass


def signature_mismatch(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """Why ``fn(*args, **kwargs)`` does not bind to ``fn``'s signature, or None if it does."""
    target = _unwrap(fn)
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        return str(e)
    return None


def _unwrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    # Handlers wrapping a model (``block(model)``, ``condition(model, ...)``) take the
    # model's arguments: look through them at the model itself.
    seen = 0
    while isinstance(fn, Handler) and fn.fn is not None and seen < 50:
        fn = fn.fn
        seen += 1
    return fn


def _fn_name(fn: Callable[..., Any]) -> str:
    target = _unwrap(fn)
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"`{name}`"


def describe_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A short rendering of call arguments: tensors by shape, other values by repr."""
    parts = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"Tensor{list(value.shape)}" if value.dim() else f"tensor({value.item():.4g})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def guess_max_plate_nesting(*traces: Trace) -> int:
    """How many batch dims the vectorised plates of these traces use (0 with none)."""
    dims = [
        frame.dim
        for tr in traces
        for site in tr.nodes.values()
        if site.kind.is_sample_like and site.kind is not SiteKind.PLATE
        for frame in site.cond_indep_stack
        if frame.dim is not None
    ]
    return -min(dims) if dims else 0


@contextmanager
def tracing_for_structure() -> Iterator[None]:
    """Run the block as if no handler were active in this thread, without gradients.

    For a run that traces a model only for its structure (an autoguide's prototype
    run, a guess at plate nesting, Predictive's site shapes), wherever it happens: an
    outer plate would otherwise shift the model's plate dims, and an outer trace
    would record sites that are no part of the user's run. The handlers are restored
    afterwards.

    Example::

        with tracing_for_structure(), trace() as tracer:
            model(data)
    """
    stack = get_handler_stack()
    saved = stack[:]
    stack.clear()
    try:
        with torch.no_grad():
            yield
    finally:
        stack[:] = saved


def zero_grads(tensors: Iterable[torch.Tensor]) -> None:
    """Set the gradient of each tensor that has one to zeros, as Pyro's ``infer.util.zero_grads``.

    Example::

        loss.backward()
        optimizer.step(params)
        zero_grads(params)
    """
    for tensor in tensors:
        if tensor.grad is not None:
            tensor.grad = torch.zeros_like(tensor.grad)

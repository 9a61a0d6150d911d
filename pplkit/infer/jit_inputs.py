"""A compiled step's inputs: the params, the arguments, and what the structure key holds.

:mod:`.jit_elbo` runs the ELBO as a pure function of tensors. These pieces make the
step's params and arguments into that function's inputs and back: param reads answered
with given tensors, the model's arguments flattened (without pytree for the usual
``step(x, y)``), the key a graph is specific to, and the param names handed to SVI.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

import torch
from torch.distributions import constraints, transform_to
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_unflatten

from ..params import current_param_store
from ..runtime import Handler, Message, SiteKind, get_handler_stack
from .svi import _ParamNames

__all__ = [
    "SupplyParams",
    "ValueChecksPass",
    "announce_params",
    "cuda_devices",
    "flatten_arguments",
    "structure_key",
    "unflatten_arguments",
]


class SupplyParams(Handler):
    """Answer param reads with the given unconstrained tensors (graph inputs while tracing)."""

    def __init__(self, values: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.values = values

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.PARAM or msg.done or msg.name not in self.values:
            return
        store = current_param_store()
        constraint = store.constraint(msg.name)
        init, _, event_dim = msg.args
        msg.value = constrained(self.values[msg.name], constraint)
        # As the store's own read records them: plates subsample by event_dim.
        msg.args = (init, constraint, store.event_dim(msg.name) if event_dim is None else event_dim)
        msg.kwargs["constraint"] = constraint
        msg.done = True


class ValueChecksPass(TorchFunctionMode):
    """While tracing, torch.distributions' value checks pass: the graph has no checks.

    A distribution built before the trace (a ``PyroSample`` prior, say) keeps the
    ``validate_args`` it was built with, and its check ``if not torch._is_all_true(valid)``
    would branch on a value. The eager first step has run those checks.
    """

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        if func is torch._is_all_true:
            return True
        return func(*args, **(kwargs or {}))


def constrained(unconstrained: torch.Tensor, constraint: constraints.Constraint) -> torch.Tensor:
    if constraint is constraints.real:
        return unconstrained
    if constraint is constraints.positive:
        return unconstrained.exp()
    return transform_to(constraint)(unconstrained)


_SCALARS = (int, float, str, bool, type(None))


def flatten_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], Hashable]:
    """The leaves of ``(args, kwargs)`` and their layout; the usual ``step(x, y)`` skips pytree (us a step)."""
    if not kwargs and all(isinstance(a, (torch.Tensor, *_SCALARS)) for a in args):
        return list(args), len(args)
    return tree_flatten((args, kwargs))


def unflatten_arguments(leaves: list[Any], layout: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(layout, int):
        return tuple(leaves), {}
    args, kwargs = tree_unflatten(leaves, layout)
    return args, kwargs


def structure_key(
    model: Callable[..., Any], guide: Callable[..., Any], leaves: list[Any], layout: Hashable
) -> tuple[Hashable, ...] | str:
    """What a graph is specific to, or the reason there is no such key (an unhashable argument)."""
    parts: list[Hashable] = [id(model), id(guide), id(current_param_store()), layout]
    for position, leaf in enumerate(leaves):
        if isinstance(leaf, torch.Tensor):
            parts.append((leaf.shape, leaf.dtype, leaf.device))
            continue
        try:
            hash(leaf)
        except TypeError:
            return (
                f"argument {position} of the model ({type(leaf).__name__}) is neither a tensor nor hashable, so "
                "a compiled graph cannot tell when it changes; pass tensors, numbers or strings"
            )
        parts.append((type(leaf), leaf))
    return tuple(parts)


def announce_params(names: tuple[str, ...]) -> None:
    """Let the handlers see the params a compiled step used, as the eager step's param sites do.

    Pyro's JIT sends a param message per param. When the only handlers are SVI's own
    name collectors (the usual ``svi.step``), the names are handed to them directly,
    which saves the messages' cost (tens of microseconds, a third of a compiled step).
    """
    stack = get_handler_stack()
    if all(type(handler) is _ParamNames for handler in stack):
        for handler in stack:
            assert isinstance(handler, _ParamNames)
            handler.names.update(dict.fromkeys(names))
        return
    from ..primitives import param

    for name in names:
        param(name)


def cuda_devices(store: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[int]:
    """The CUDA devices whose generators a probe run must leave as it found them."""
    flat, _ = flatten_arguments(args, kwargs)
    tensors = [t for t in flat if isinstance(t, torch.Tensor)] + [leaf for _, leaf in store.named_parameters()]
    return sorted({t.device.index or 0 for t in tensors if t.device.type == "cuda"})

"""The effect-handler runtime: messages, the handler stack and ``apply_stack``.

Every primitive (``sample``, ``param``, ``deterministic``, ``factor`` and a plate's
subsample draw) builds a :class:`Message` and sends it through the stack of active
handlers with :func:`apply_stack`. Handlers are small classes that edit messages on the
way through; that is the whole mechanism behind tracing, conditioning, replaying and
plates.

The stack is per thread, so that a widget can train a model in a background thread
while the notebook's own thread runs another model without the two seeing each
other's handlers.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

if TYPE_CHECKING:
    import torch

__all__ = [
    "Handler",
    "Message",
    "PlateFrame",
    "SiteKind",
    "apply_stack",
    "get_handler_stack",
]


class SiteKind(enum.Enum):
    """What a message stands for. Dispatch on this, never on strings."""

    SAMPLE = "sample"  # a random variable: latent, or observed when ``obs`` is given
    PARAM = "param"  # a learnable parameter from the param store
    DETERMINISTIC = "deterministic"  # a named function of other sites, recorded for inspection
    FACTOR = "factor"  # an extra term added to the model's log density
    PLATE = "plate"  # a plate's index draw, so that model and guide share a subsample

    @property
    def is_sample_like(self) -> bool:
        """True for the kinds Pyro files under ``type == "sample"``: they carry a distribution."""
        return self is not SiteKind.PARAM


@dataclass(frozen=True)
class PlateFrame:
    """One plate a site sits in: its name, batch dim (None when sequential) and sizes."""

    name: str
    dim: int | None
    size: int  # the number of elements present now (the subsample size)
    full_size: int  # the plate's full size; log densities are scaled by full_size / size
    counter: int = 0  # which iteration of a sequential plate

    @property
    def vectorized(self) -> bool:
        return self.dim is not None


@dataclass(eq=False, slots=True)
class Message:
    """A site on its way through the handler stack, and its record in a trace.

    ``fn`` is the site's distribution (``None`` for params); ``value`` is what the
    program receives. Handlers read and edit these fields; setting ``done`` tells
    :func:`apply_stack` not to run the default behaviour (sampling or fetching the
    param), and setting ``stop`` hides the message from handlers further out.
    """

    kind: SiteKind
    name: str
    fn: Any = None
    value: Any = None
    is_observed: bool = False
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    scale: float | torch.Tensor = 1.0
    mask: torch.Tensor | bool | None = None
    cond_indep_stack: tuple[PlateFrame, ...] = ()
    infer: dict[str, Any] = field(default_factory=dict)
    intervened: bool = False  # set by ``do``: the value was fixed from outside the model
    done: bool = False
    stop: bool = False
    log_prob: torch.Tensor | None = None  # scaled and masked, filled by Trace.compute_log_prob
    unscaled_log_prob: torch.Tensor | None = None

    @property
    def type(self) -> str:
        """The site type as Pyro names it: ``"sample"`` or ``"param"``."""
        return "sample" if self.kind.is_sample_like else self.kind.value

    # Pyro's traces hold dicts; read access by key keeps ported inspection code working.
    def __getitem__(self, key: str) -> Any:
        if key == "type":
            return self.type
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: str) -> bool:
        return key == "type" or hasattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: list[Handler] = []


_STATE = _ThreadState()


def get_handler_stack() -> list[Handler]:
    """The active handlers of this thread, outermost first. Read it; do not edit it."""
    return _STATE.stack


F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H", bound="Handler")


class Handler:
    """Base class of every effect handler.

    A handler is both a context manager and a function wrapper::

        with trace() as tr:        # handles the sites run inside the block
            model()
        traced = trace(model)      # handles the sites of each call of ``model``

    Subclasses override :meth:`process` (before the default behaviour) and
    :meth:`postprocess` (after it). Both see every message; check ``msg.kind``.
    """

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        self.fn = fn

    def __enter__(self: H) -> H:
        _STATE.stack.append(self)
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        stack = _STATE.stack
        if stack and stack[-1] is self:
            stack.pop()
        else:  # left out of order, e.g. by an exception in a nested handler's __enter__
            stack.remove(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise TypeError(
                f"{type(self).__name__} was created without a function to wrap; "
                f"use it as `with {type(self).__name__}(...):` or pass the model first"
            )
        with self:
            return self.fn(*args, **kwargs)

    def process(self, msg: Message) -> None:
        """Edit ``msg`` before the default behaviour runs."""

    def postprocess(self, msg: Message) -> None:
        """See ``msg`` after its value is set."""


def default_process(msg: Message) -> None:
    """What happens to a message that no handler marked ``done``: sample or fetch it."""
    if msg.kind is SiteKind.SAMPLE:
        if msg.value is None:
            fn = msg.fn
            msg.value = fn.rsample() if fn.has_rsample else fn.sample()
    elif msg.kind is SiteKind.PARAM:
        from .params import current_param_store

        init, constraint, event_dim = msg.args
        store = current_param_store()
        msg.value = store.get_param(msg.name, init, constraint, event_dim)
        # A read-back (``param(name)``) declares nothing; record what the store holds, so that
        # plates subsample it and renderers show its real constraint.
        if event_dim is None:
            event_dim = store.event_dim(msg.name)
        msg.args = (init, store.constraint(msg.name), event_dim)
        msg.kwargs["constraint"] = store.constraint(msg.name)
    elif msg.kind is SiteKind.PLATE:
        if msg.value is None:
            msg.value = msg.fn.sample()
    # DETERMINISTIC and FACTOR messages arrive with their value already set.
    msg.done = True


def apply_stack(msg: Message) -> Message:
    """Send ``msg`` through this thread's handlers, innermost handler first.

    1. ``process``: each handler, from the innermost (most recently entered) outwards,
       may edit the message. A handler that sets ``msg.stop`` hides it from the
       handlers further out.
    2. Default: unless a handler set ``msg.done``, the site is sampled or the param fetched.
    3. ``postprocess``: the handlers that saw the message, outermost first.
    """
    stack = _STATE.stack
    seen = 0
    for handler in reversed(stack):
        seen += 1
        handler.process(msg)
        if msg.stop:
            break
    if not msg.done:
        default_process(msg)
    for handler in stack[len(stack) - seen :]:
        handler.postprocess(msg)
    return msg


def iter_handlers(kind: type[H]) -> Iterator[H]:
    """The active handlers of one class, innermost first."""
    for handler in reversed(_STATE.stack):
        if isinstance(handler, kind):
            yield handler

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

import dataclasses
import enum
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

from torch.distributions import Distribution

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
    # Any other operation made effectful with ``poutine.runtime.effectful(type=...)``, as
    # Pyro's effect_handlers tutorial does; its Pyro type name is in ``msg.effect_type``.
    EFFECT = "effect"

    @property
    def is_sample_like(self) -> bool:
        """True for the kinds Pyro files under ``type == "sample"``: they carry a distribution."""
        return self is not SiteKind.PARAM and self is not SiteKind.EFFECT


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
    # Called with the message after every handler has postprocessed it (Pyro's field of
    # the same name): ``escape`` uses it to leave the model once the inner handlers are done.
    continuation: Callable[[Message], None] | None = None
    effect_type: str | None = None  # Pyro's type name of a SiteKind.EFFECT message, e.g. "apply"

    @property
    def type(self) -> str:
        """The site type as Pyro names it: ``"sample"``, ``"param"``, or an effect's own name."""
        if self.kind is SiteKind.EFFECT:
            return self.effect_type or "effect"
        return "sample" if self.kind.is_sample_like else self.kind.value

    # Pyro's messages are dicts: key access, read and write, keeps ported handlers and
    # inspection code working (``msg["value"] = v``, ``msg["done"] = True``).
    def __getitem__(self, key: str) -> Any:
        if key == "type":
            return self.type
        if key == "log_prob_sum":
            # Pyro's Trace.compute_log_prob stores this key; here it is read off log_prob.
            if self.log_prob is None:
                raise KeyError(f"site '{self.name}' has no log_prob_sum yet: call trace.compute_log_prob() first")
            return self.log_prob.sum()
        if key not in _FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "type":
            self.kind, self.effect_type = _kind_of_type(value)
        elif key in _FIELDS:
            setattr(self, key, value)
        else:
            raise KeyError(
                f"message of site '{self.name}' has no field {key!r} (it has {sorted(_FIELDS | {'type'})}); "
                f"keep extra information in msg['infer'][{key!r}]"
            )

    def __contains__(self, key: object) -> bool:
        return key == "type" or key in _FIELDS or (key == "log_prob_sum" and self.log_prob is not None)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def update(self, values: dict[str, Any] | None = None, **more: Any) -> None:
        """Set several fields at once, as ``dict.update`` (Pyro's handlers call ``msg.update(...)``)."""
        for key, value in {**(values or {}), **more}.items():
            self[key] = value

    def copy(self) -> Message:
        """A shallow copy: a new message sharing the field values (``infer`` copied, as Pyro's trace does)."""
        return dataclasses.replace(self, infer=dict(self.infer), kwargs=dict(self.kwargs))


_FIELDS = frozenset(f.name for f in dataclasses.fields(Message))


def _kind_of_type(type_name: str) -> tuple[SiteKind, str | None]:
    if type_name == "sample":
        return SiteKind.SAMPLE, None
    if type_name == "param":
        return SiteKind.PARAM, None
    return SiteKind.EFFECT, type_name


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: list[Handler] = []


_STATE = _ThreadState()


def get_handler_stack() -> list[Handler]:
    """The active handlers of this thread, outermost first. Read it; do not edit it."""
    return _STATE.stack


@contextmanager
def handlers_removed(handlers: Sequence[Handler]) -> Iterator[None]:
    """Take ``handlers`` off this thread's stack for the block, then put them back where they were.

    Pyro's ``block_messengers``: ``block_plate`` uses it to step outside one plate.
    """
    stack = _STATE.stack
    positions = sorted((stack.index(h), id(h), h) for h in handlers)
    for _, _, h in positions:
        stack.remove(h)
    try:
        yield
    finally:
        for index, _, h in positions:
            stack.insert(index, h)


F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H", bound="Handler")


class Handler:
    """Base class of every effect handler; Pyro's ``poutine.messenger.Messenger`` is this class.

    A handler is both a context manager and a function wrapper::

        with trace() as tr:        # handles the sites run inside the block
            model()
        traced = trace(model)      # handles the sites of each call of ``model``
        traced = trace()(model)    # the same, Pyro's ``Messenger()(fn)`` form

    Subclasses override :meth:`process` (before the default behaviour) and
    :meth:`postprocess` (after it). Both see every message; check ``msg.kind``.

    A handler written Pyro's way works too: override ``_process_message`` /
    ``_postprocess_message``, or define ``_pyro_sample`` / ``_pyro_post_sample`` (one
    per Pyro type name), and read or write the message by key (``msg["value"] = v``).
    Example::

        class Double(Handler):   # or poutine.messenger.Messenger
            def _pyro_post_sample(self, msg):
                msg["value"] = 2 * msg["value"]
    """

    fn: Callable[..., Any] | None = None  # also for Pyro-style subclasses whose __init__ skips ours

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        if fn is not None and not callable(fn):
            raise ValueError(_not_callable_message(self, fn))  # ValueError, as Pyro raises
        self.fn = fn

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Route Pyro-style hooks through process/postprocess once, at class creation, so that
        # handlers written pplkit's way pay nothing per message for the Pyro door.
        hooks = [name for name in dir(cls) if name.startswith("_pyro_")]
        pre_hooks = any(not name.startswith("_pyro_post_") for name in hooks)
        post_hooks = any(name.startswith("_pyro_post_") for name in hooks)
        if cls.process is Handler.process and (pre_hooks or cls._process_message is not Handler._process_message):
            cls.process = _call_process_message  # type: ignore[method-assign]
        if cls.postprocess is Handler.postprocess and (
            post_hooks or cls._postprocess_message is not Handler._postprocess_message
        ):
            cls.postprocess = _call_postprocess_message  # type: ignore[method-assign]

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
            if len(args) == 1 and not kwargs and callable(args[0]):
                # Pyro's ``Messenger()(fn)``: bind the function; state stays on this handler.
                self.fn = args[0]
                return self
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

    # -- Pyro's names for the two hooks ---------------------------------------------------

    def _process_message(self, msg: Message) -> None:
        """Pyro's ``process``: calls ``self._pyro_<type>(msg)`` when the handler defines it."""
        hook = getattr(self, f"_pyro_{msg.type}", None)
        if hook is not None:
            hook(msg)

    def _postprocess_message(self, msg: Message) -> None:
        """Pyro's ``postprocess``: calls ``self._pyro_post_<type>(msg)`` when the handler defines it."""
        hook = getattr(self, f"_pyro_post_{msg.type}", None)
        if hook is not None:
            hook(msg)

    def _reset(self) -> None:
        """Forget per-run state before a partial run is re-executed (``poutine.queue``)."""


def _call_process_message(self: Handler, msg: Message) -> None:
    self._process_message(msg)


def _call_postprocess_message(self: Handler, msg: Message) -> None:
    self._postprocess_message(msg)


def _not_callable_message(handler: Handler, fn: Any) -> str:
    """Handlers take the model first, so ``scale(2.0)`` passed 2.0 as the model: say so, and how to fix it."""
    import inspect

    name = type(handler).__name__
    params = list(inspect.signature(type(handler).__init__).parameters.values())[2:]

    # The value is not callable, so a ``*_fn`` keyword cannot be meant; a flag only for a bool.
    def could_take(p: inspect.Parameter) -> bool:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name.endswith("_fn"):
            return False
        return isinstance(fn, bool) or not isinstance(p.default, bool)

    keyword = next((p.name for p in params if could_take(p)), None)
    fix = f"{name}({keyword}={fn!r})" if keyword else f"{name}(model)"
    return (
        f"{name}: {fn!r} is not callable; the first argument of a handler is the model (or nothing, as in "
        f"`with {name}(...):`). Did you mean to pass it as a keyword argument: {fix}?"
    )


def default_process(msg: Message) -> None:
    """What happens to a message that no handler marked ``done``: sample or fetch it."""
    if msg.kind is SiteKind.SAMPLE:
        if msg.value is None:
            fn = msg.fn
            if not isinstance(fn, Distribution):
                from .primitives import not_a_distribution

                raise TypeError(not_a_distribution(msg.name, fn))
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
    elif msg.kind is SiteKind.EFFECT:
        if msg.value is None:
            msg.value = msg.fn(*msg.args, **msg.kwargs)
    # DETERMINISTIC and FACTOR messages arrive with their value already set.
    msg.done = True


def apply_stack(msg: Message) -> Message:
    """Send ``msg`` through this thread's handlers, innermost handler first.

    1. ``process``: each handler, from the innermost (most recently entered) outwards,
       may edit the message. A handler that sets ``msg.stop`` hides it from the
       handlers further out.
    2. Default: unless a handler set ``msg.done``, the site is sampled or the param fetched.
    3. ``postprocess``: the handlers that saw the message, outermost first.
    4. ``msg.continuation``, if a handler set one, is called with the message.
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
    if msg.continuation is not None:
        msg.continuation(msg)
    return msg


def iter_handlers(kind: type[H]) -> Iterator[H]:
    """The active handlers of one class, innermost first."""
    for handler in reversed(_STATE.stack):
        if isinstance(handler, kind):
            yield handler

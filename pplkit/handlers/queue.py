"""``queue``: run a model once per element of a queue of partial traces (breadth-first enumeration)."""

from __future__ import annotations

import functools
from typing import Any, Callable, Protocol

from ..runtime import Message, SiteKind
from ..trace import Trace
from .escape import NonlocalExit, escape
from .replay import replay
from .trace import trace


class TraceQueue(Protocol):
    """What ``queue`` needs of a queue: ``queue.Queue`` and ``queue.LifoQueue`` fit."""

    def put(self, item: Trace) -> None: ...
    def get(self) -> Trace: ...
    def empty(self) -> bool: ...


def queue(
    fn: Callable[..., Any] | None = None,
    queue: TraceQueue | None = None,
    max_tries: int | None = None,
    extend_fn: Callable[..., list[Trace]] | None = None,
    escape_fn: Callable[[Trace, Message], bool] | None = None,
    num_samples: int | None = None,
) -> Any:
    """Wrap ``fn`` so that each call finishes one partial trace taken from ``queue``.

    A call takes a partial trace, replays it, and runs on until the first discrete latent
    site the trace lacks; there it puts one extended trace per value of that site's
    support back on the queue and tries the next one. A call that reaches the end
    returns ``fn``'s value; trace it to read the completed run. Used as in Pyro's
    effect_handlers tutorial::

        q = queue_module.Queue()
        q.put(Trace())
        enum_model = poutine.queue(model, queue=q)
        while not q.empty():
            tr = trace(enum_model).get_trace()   # one complete assignment of the discrete sites

    Args:
        queue: holds partial traces; seed it with one empty ``Trace()``.
        max_tries: how many partial traces one call may take before giving up (default 10**6).
        extend_fn: ``(trace, msg, num_samples) -> list of traces``; default: one per value
            of ``msg.fn.enumerate_support()``.
        escape_fn: ``(trace, msg) -> bool``, where to stop; default: the first latent
            sample site with enumerable support not in ``trace``.
    """
    if queue is None:
        raise TypeError("queue needs queue= (e.g. queue.Queue() holding one empty Trace())")
    tries = 10**6 if max_tries is None else max_tries
    extend = enumerate_extend if extend_fn is None else extend_fn
    stop_at = discrete_escape if escape_fn is None else escape_fn

    def wrap(model: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(model)
        def run(*args: Any, **kwargs: Any) -> Any:
            for _ in range(tries):
                if queue.empty():
                    raise ValueError("queue: the queue is empty; put a Trace() on it before running the model")
                partial = queue.get()
                tracer = trace(escape(replay(model, trace=partial), escape_fn=functools.partial(stop_at, partial)))
                try:
                    return tracer(*args, **kwargs)
                except NonlocalExit as exit_:
                    exit_.reset_stack()
                    for extended in extend(tracer.trace.copy(), exit_.site, num_samples=num_samples):
                        queue.put(extended)
            raise ValueError(f"queue: no complete run after max_tries={tries} partial traces")

        return run

    return wrap if fn is None else wrap(fn)


def discrete_escape(trace: Trace, msg: Message) -> bool:
    """True at a latent sample site with enumerable support that ``trace`` has no value for."""
    return (
        msg.kind is SiteKind.SAMPLE
        and not msg.is_observed
        and msg.name not in trace
        and getattr(msg.fn, "has_enumerate_support", False)
    )


def enumerate_extend(trace: Trace, msg: Message, num_samples: int | None = None) -> list[Trace]:
    """One copy of ``trace`` per value in the support of ``msg.fn``, with the site set to that value."""
    extended = []
    for value in msg.fn.enumerate_support():
        site = msg.copy()
        site.value, site.done, site.stop, site.continuation = value, True, False, None
        new = trace.copy()
        new.add_site(site)
        extended.append(new)
    return extended

"""``trace``: record every site of a run into a :class:`~pplkit.trace.Trace`."""

from __future__ import annotations

from typing import Any, Callable

from ..runtime import Handler, Message, SiteKind
from ..trace import Trace
from .escape import NonlocalExit


class trace(Handler):
    """Record the sites of a run.

    Example::

        tr = trace(model).get_trace(data)
        tr.nodes["z"].value
        with trace() as t:
            model(data)
        t.trace.format_shapes()
    """

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(fn)
        self.trace = Trace()

    def __enter__(self) -> trace:
        self.trace = Trace()
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if isinstance(exc_value, NonlocalExit):  # an early exit on purpose (escape, queue), not a fault
            return
        if isinstance(exc_value, Exception) and not getattr(exc_value, "_pplkit_traced", False):
            # The model's own error, plus where in the model it happened.
            exc_value._pplkit_traced = True  # type: ignore[attr-defined]
            names = list(self.trace.nodes)
            where = f"after site '{names[-1]}'" if names else "before its first site"
            exc_value.add_note(f"pplkit: raised while tracing the model, {where}.\n" + self.trace.format_shapes())

    def postprocess(self, msg: Message) -> None:
        if msg.kind is not SiteKind.EFFECT:  # as in Pyro, a trace holds sample and param sites only
            self.trace.add_site(msg)

    def _reset(self) -> None:
        self.trace = Trace()

    def get_trace(self, *args: Any, **kwargs: Any) -> Trace:
        """Run the wrapped function and return its trace."""
        self(*args, **kwargs)
        return self.trace

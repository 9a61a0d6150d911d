"""Pyro's ``poutine.trace_messenger``: ``TraceMessenger(graph_type=None, param_only=None)``."""

from __future__ import annotations

from typing import Any

from ..handlers import trace
from ..runtime import Message, SiteKind
from ..trace import Trace

__all__ = ["TraceMessenger"]


class TraceMessenger(trace):
    """pplkit's ``trace`` built without a function, with Pyro's arguments.

    Args:
        graph_type: ``"flat"`` (Pyro's default) is the only kind; pplkit's traces
            keep dependencies in ``pplkit.inspect`` instead of a dense graph.
        param_only: record only the param sites.

    Example::

        with TraceMessenger() as tracer:
            model()
        tracer.trace.nodes          # also tracer.get_trace(), a copy
    """

    def __init__(self, graph_type: str | None = None, param_only: bool | None = None) -> None:
        if graph_type not in (None, "flat"):
            raise ValueError(
                f"TraceMessenger: graph_type={graph_type!r} is not supported; pplkit records flat traces "
                "(use pplkit.inspect for the dependency graph)"
            )
        super().__init__(None)
        self.param_only = bool(param_only)

    def postprocess(self, msg: Message) -> None:
        if not self.param_only or msg.kind is SiteKind.PARAM:
            super().postprocess(msg)

    def get_trace(self, *args: Any, **kwargs: Any) -> Trace:
        """Without a function to run: a copy of the last recorded trace, as in Pyro."""
        if self.fn is None and not args and not kwargs:
            return self.trace.copy()
        return super().get_trace(*args, **kwargs)

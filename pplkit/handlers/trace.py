"""``trace``: record every site of a run into a :class:`~pplkit.trace.Trace`."""

from __future__ import annotations

from typing import Any, Callable

from ..runtime import Handler, Message, SiteKind
from ..trace import Trace


class trace(Handler):
    """Record the sites of a run.

    Example::

        tr = trace(model).get_trace(data)
        tr.nodes["z"].value
        with trace() as t:
            model(data)
        t.trace.format_shapes()

    Args:
        graph_type: ``"flat"`` (no edges) or ``"dense"``: each sample site gets an edge
            from every earlier sample site it may depend on, as in Pyro.
        param_only: record only the param sites.
    """

    def __init__(
        self, fn: Callable[..., Any] | None = None, graph_type: str | None = None, param_only: bool | None = None
    ) -> None:
        super().__init__(fn)
        self.graph_type = graph_type or "flat"
        self.param_only = bool(param_only)
        self.trace = Trace(self.graph_type)

    def __enter__(self) -> trace:
        self.trace = Trace(self.graph_type)
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if self.graph_type == "dense" and exc_value is None:
            self.trace.add_dense_edges()
        if isinstance(exc_value, Exception) and not getattr(exc_value, "_pplkit_traced", False):
            # The model's own error, plus where in the model it happened.
            exc_value._pplkit_traced = True  # type: ignore[attr-defined]
            names = list(self.trace.nodes)
            where = f"after site '{names[-1]}'" if names else "before its first site"
            exc_value.add_note(f"pplkit: raised while tracing the model, {where}.\n" + self.trace.format_shapes())

    def postprocess(self, msg: Message) -> None:
        if self.param_only and msg.kind is not SiteKind.PARAM:
            return
        self.trace.add_site(msg)

    def get_trace(self, *args: Any, **kwargs: Any) -> Trace:
        """Run the wrapped function and return its trace."""
        self(*args, **kwargs)
        return self.trace

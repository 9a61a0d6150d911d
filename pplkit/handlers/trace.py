"""``trace``: record every site of a run into a :class:`~pplkit.trace.Trace`."""

from __future__ import annotations

from typing import Any, Callable

from .._compat import add_note
from ..params import current_param_store
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
        self._store = current_param_store()
        self._params_before = len(self._store)
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if isinstance(exc_value, NonlocalExit):  # an early exit on purpose (escape, queue), not a fault
            return
        if exc_value is not None:
            # A failed run must not leave the params it created: a stale one (say, made
            # before the user added a constraint) would break the corrected model.
            for name in self._store.keys()[self._params_before :]:
                self._store.pop(name)
        elif self.graph_type == "dense":
            self.trace.add_dense_edges()
        if isinstance(exc_value, Exception) and not getattr(exc_value, "_pplkit_traced", False):
            # The program's own error, plus where in it it happened. Inference tags the
            # error with the role ("model", "guide") of the function that raised it.
            exc_value._pplkit_traced = True  # type: ignore[attr-defined]
            exc_value._pplkit_partial_trace = self.trace  # type: ignore[attr-defined]
            role = getattr(exc_value, "_pplkit_role", None) or ("model" if self.fn is not None else "program")
            names = list(self.trace.nodes)
            where = f"after site '{names[-1]}'" if names else "before its first site"
            add_note(exc_value, f"pplkit: raised while tracing the {role}, {where}.\n" + self.trace.format_shapes())
            if isinstance(exc_value, ValueError) and str(exc_value).startswith("Expected parameter"):
                add_note(exc_value, _bad_argument_hint(names[-1] if names else None))

    def postprocess(self, msg: Message) -> None:
        if msg.kind is SiteKind.EFFECT:  # as in Pyro, a trace holds sample and param sites only
            return
        if self.param_only and msg.kind is not SiteKind.PARAM:
            return
        self.trace.add_site(msg)

    def _reset(self) -> None:
        self.trace = Trace(self.graph_type)

    def get_trace(self, *args: Any, **kwargs: Any) -> Trace:
        """Run the wrapped function and return its trace."""
        self(*args, **kwargs)
        return self.trace


def _bad_argument_hint(last_site: str | None) -> str:
    # torch's message names the distribution's argument, not the site being built.
    after = f" (the one after site '{last_site}')" if last_site else ""
    return (
        f"pplkit: torch refused the arguments of the distribution being built{after}. Its arguments come from "
        "the sites above: if a value came from a guide or a param, keep it in the argument's support, e.g. "
        "param(..., constraint=constraints.positive) for a scale, or a guide distribution with the model's support."
    )

"""``replay``: reuse the values of an earlier trace (a guide's, in SVI)."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ..runtime import Handler, Message, SiteKind
from ..trace import Trace


class replay(Handler):
    """Give each latent sample site the value it has in ``trace``; also plates' subsamples.

    Sites not in ``trace`` run as usual. ``params`` optionally fixes param values.

    Example::

        guide_tr = trace(guide).get_trace(data)
        model_tr = trace(replay(model, trace=guide_tr)).get_trace(data)
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        trace: Trace | None = None,
        params: dict[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__(fn)
        if trace is None and params is None:
            raise ValueError("replay needs a trace= to replay (or params=), e.g. replay(model, trace=guide_trace)")
        if trace is not None and not isinstance(trace, Trace):
            raise TypeError(_not_a_trace(trace))
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(
                f"replay: params= must be a dict of param values by name, e.g. {{'loc': torch.tensor(0.5)}}; "
                f"got {type(params).__name__}"
            )
        self.trace = trace
        self.params = params

    def process(self, msg: Message) -> None:
        if msg.kind is SiteKind.PARAM:
            if self.params is not None and msg.name in self.params:
                msg.value = self.params[msg.name]
                msg.done = True
            return
        if self.trace is None or msg.kind not in (SiteKind.SAMPLE, SiteKind.PLATE):
            return
        recorded = self.trace.nodes.get(msg.name)
        if recorded is None or msg.is_observed:
            return
        if recorded.kind is not msg.kind or recorded.is_observed:
            what = "observed" if recorded.is_observed else f"a {recorded.kind.value} site"
            raise RuntimeError(  # the type Pyro raises
                f"replay: site '{msg.name}' is a latent {msg.kind.value} site here but {what} in the replayed "
                "trace; a guide must sample each latent site of the model and observe nothing"
            )
        msg.value = recorded.value
        if msg.kind is SiteKind.SAMPLE:
            msg.infer = recorded.infer
        msg.done = True


def _not_a_trace(value: Any) -> str:
    """What replay(trace=...) was given instead of a Trace, and how to get the Trace."""
    from .trace import trace as trace_handler

    if isinstance(value, trace_handler):
        fix = "what it recorded: trace(guide).get_trace(*args), or tracer.trace after `with trace() as tracer:`"
    elif isinstance(value, Mapping):
        fix = "a Trace; to fix site values by name, use condition(model, data={...}) instead"
    elif callable(value):
        fix = "a Trace of it: replay(model, trace=trace(guide).get_trace(*args))"
    else:
        fix = "a Trace, e.g. trace(guide).get_trace(*args)"
    return f"replay: trace= must be a Trace, got {type(value).__name__}; pass {fix}"

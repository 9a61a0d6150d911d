"""``infer_discrete``: draw (or maximise) a model's enumerated sites from their exact posterior.

The model runs under ``enum``; each enumerated site in turn, outermost plates
first, gets its posterior given the data and the sites already chosen, from the same
plate-aware contraction ``TraceEnum_ELBO`` uses with that site's dim kept. The site
is then fixed to a draw (``temperature=1``) or to its most probable value
(``temperature=0``) and the next site's posterior is computed given it; this chain of
conditionals is an exact joint draw. Finally the model runs once more with every
chosen value in place, so its trace and return value show them.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from ..handlers import block, condition, enum, trace
from ..handlers.enum import ENUM_DIM
from ..runtime import Handler, Message, SiteKind
from ..trace import Trace
from .enum import EnumFactors, contract
from .util import call_user_fn

__all__ = ["infer_discrete"]

# On the function infer_discrete returns: given values of other sites, the same serving
# model with ``condition`` applied *inside* it. Its enumerated runs are blocked from the
# handlers around it (they are its own), so a ``condition`` outside would go unseen
# there and the discrete posterior would be computed from prior draws; Predictive
# conditions through this instead.
CONDITIONED_INSIDE = "_pplkit_conditioned_inside"


class _Fix(Handler):
    """Gives the named latent sites fixed values (kept latent, unlike ``condition``)."""

    def __init__(self, values: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.values = values

    def process(self, msg: Message) -> None:
        if msg.kind is SiteKind.SAMPLE and not msg.is_observed and msg.name in self.values:
            msg.value = self.values[msg.name]
            msg.done = True


def infer_discrete(
    fn: Callable[..., Any] | None = None, first_available_dim: int | None = None, temperature: int = 1
) -> Any:
    """A version of the model whose enumerated sites are drawn from their posterior.

    Args:
        fn: the model, with its discrete sites marked (``config_enumerate``) and its
            data observed; other latent sites are drawn once and held fixed.
        first_available_dim: the rightmost dim free of plates (``-1 - max_plate_nesting``).
        temperature: 1 draws from the posterior, 0 gives the most probable values (MAP).

    Example::

        serving = infer_discrete(config_enumerate(model), first_available_dim=-2, temperature=0)
        tr = trace(serving).get_trace(data)
        tr.nodes["assignment"].value   # the MAP cluster of each point
    """
    if fn is None:
        return functools.partial(infer_discrete, first_available_dim=first_available_dim, temperature=temperature)
    if temperature not in (0, 1):
        raise ValueError(f"infer_discrete: temperature must be 0 (MAP) or 1 (a posterior draw), got {temperature!r}")
    first = -1 if first_available_dim is None else first_available_dim

    @functools.wraps(fn)
    def discrete_posterior(*args: Any, **kwargs: Any) -> Any:
        fixed: dict[str, torch.Tensor] = {}
        first_trace = _enumerated_trace(fn, fixed, first, args, kwargs)
        # Other latent sites keep their first values, so that every run below sees the same ones.
        for msg in first_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE and not msg.is_observed and ENUM_DIM not in msg.infer:
                fixed[msg.name] = msg.value
        order = [m.name for m in first_trace.nodes.values() if ENUM_DIM in m.infer]
        order.sort(key=lambda name: len(first_trace.nodes[name].cond_indep_stack))
        tr = first_trace
        for name in order:
            if name not in tr.nodes or ENUM_DIM not in tr.nodes[name].infer:
                tr = _enumerated_trace(fn, fixed, first, args, kwargs)
            fixed[name] = _choose(tr, name, temperature)
            tr = _enumerated_trace(fn, fixed, first, args, kwargs)
        with _Fix(fixed):
            return call_user_fn(fn, "model", args, kwargs)

    def conditioned_inside(data: dict[str, torch.Tensor]) -> Any:
        return infer_discrete(condition(fn, data=data), first_available_dim, temperature)

    setattr(discrete_posterior, CONDITIONED_INSIDE, conditioned_inside)
    return discrete_posterior


def _enumerated_trace(
    fn: Callable[..., Any], fixed: dict[str, torch.Tensor], first: int, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Trace:
    # Blocked: these runs are the handler's own, not sites of the run the user traces.
    with torch.no_grad(), block(), trace() as tracer, enum(first_available_dim=first), _Fix(fixed):
        call_user_fn(fn, "model", args, kwargs)
    tracer.trace.compute_log_prob()
    return tracer.trace


def _choose(tr: Trace, name: str, temperature: int) -> torch.Tensor:
    """A value of site ``name``, per element of its plates, from its posterior given the rest of ``tr``."""
    msg = tr.nodes[name]
    dim = msg.infer[ENUM_DIM]
    pieces = [t for o, t in contract(EnumFactors.of(tr), keep=dim) if t.dim() >= -dim and t.shape[dim] > 1]
    logits = pieces[0]
    for piece in pieces[1:]:
        logits = logits + piece
    logits = logits.movedim(dim, -1)
    if temperature == 0:
        index = logits.argmax(-1)
    else:
        index = torch.distributions.Categorical(logits=logits).sample()
    # Drop the other enumeration dims (all size 1 now) and the plate dims left of the site's plates.
    plate_rank = -dim - 1
    index = index.reshape(index.shape[index.dim() - plate_rank :] if plate_rank else ())
    while index.dim() > _trailing_rank(msg) and index.shape[0] == 1:
        index = index.squeeze(0)
    support = msg.fn.enumerate_support(expand=False)
    size = support.shape[0]
    event = support.shape[1 + len(msg.fn.batch_shape) :]
    return support.reshape((size,) + tuple(event))[index]


def _trailing_rank(msg: Message) -> int:
    """How many batch dims the site's value needs: up to its leftmost plate dim."""
    dims = [-f.dim for f in msg.cond_indep_stack if f.dim is not None]
    return max(dims, default=0)

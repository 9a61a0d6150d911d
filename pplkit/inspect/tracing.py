"""Running a model once for drawing: values tagged with provenance, prior draws, a fallback.

Every site's value reaches the model tagged with the site's name (see
:mod:`~pplkit.inspect.provenance`). Latent values are drawn from the prior under the
``seed`` handler, which restores the global random state afterwards. A model that
only runs for some values (a rate that must be positive but has a Normal prior, say)
gets a second try with every latent site at the centre of its support: 0 for real, 1
for positive, the midpoint of an interval, the lower bound for counts.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .._compat import add_note
from ..handlers import seed as seed_handler
from ..handlers import trace as trace_handler
from ..infer.autoguide.initialization import init_to_feasible
from ..runtime import Handler, Message, SiteKind
from ..trace import Trace
from ..util import validation_disabled
from .provenance import tag

__all__ = ["run_once", "trace_for_drawing"]


class _TrackProvenance(Handler):
    """Tags each site's value with its name, so the model's ops carry the tags onward.

    With ``at_support_centre``, latent sample sites take the centre of their support
    instead of a random draw.
    """

    def __init__(self, at_support_centre: bool = False) -> None:
        super().__init__()
        self.at_support_centre = at_support_centre

    def process(self, msg: Message) -> None:
        if self.at_support_centre and msg.kind is SiteKind.SAMPLE and msg.value is None and not msg.done:
            msg.value = _support_centre(msg)

    def postprocess(self, msg: Message) -> None:
        if msg.kind in _TAGGED and isinstance(msg.value, torch.Tensor):
            msg.value = tag(msg.value, msg.name)


_TAGGED = (SiteKind.SAMPLE, SiteKind.PARAM, SiteKind.DETERMINISTIC)


def _support_centre(msg: Message) -> torch.Tensor:
    # Plates broadcast the distribution on the way in, so its shape is the site's.
    fn = msg.fn
    try:
        support = fn.support
        if support is None:
            raise NotImplementedError
        if support.is_discrete:  # init_to_feasible is for continuous sites: counts start at their lower bound
            return torch.zeros(fn.shape()) + getattr(support, "lower_bound", 0)
        return init_to_feasible(msg)
    except (NotImplementedError, RuntimeError, ValueError, TypeError):
        return fn.sample()


def run_once(
    model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], seed: int, at_support_centre: bool
) -> Trace:
    """Run ``model`` once under ``trace`` with every site's value tagged; return the trace."""
    with seed_handler(rng_seed=seed), torch.no_grad(), validation_disabled():
        with trace_handler() as tracer, _TrackProvenance(at_support_centre):
            model(*args, **kwargs)
    return tracer.trace


def trace_for_drawing(
    model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], seed: int, caller: str
) -> Trace:
    """The trace of one run: a prior draw, else the support centres; else the first error, with a note."""
    try:
        return run_once(model, args, kwargs, seed, at_support_centre=False)
    except Exception as error:  # the model's own error, raised below with a note
        first = error
    try:
        return run_once(model, args, kwargs, seed, at_support_centre=True)
    except Exception as second:
        same = type(second) is type(first) and str(second) == str(first)
        retry = (
            "the same way" if same else f"too, with {type(second).__name__}: {(str(second).splitlines() or [''])[0]}"
        )
    add_note(
        first,
        f"pplkit.{caller}: this happened while running the model to draw its graph, with its latent sites "
        f"drawn from the prior (seed={seed}). A second run with every latent site at the centre of its "
        f"support failed {retry}."
    )
    raise first

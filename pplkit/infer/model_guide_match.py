"""Checks that a guide describes the same random variables as its model, as Pyro's ELBOs do.

``run_guide_and_model`` already refuses a guide that misses a latent site or samples one
the model lacks. These checks compare the sites both have: the number of event dims and
the shape of each site. A guide with ``.to_event(2)`` against a model with
``.to_event(1)`` would otherwise train, to a meaningless loss, because the log densities
still sum to a number.

They run under validation (on by default) and once per model/guide structure, not at
every step: see :class:`StructureChecks`.
"""

from __future__ import annotations

import math
import warnings
from itertools import zip_longest
from typing import Any, Callable

from ..runtime import Message, SiteKind
from ..trace import Trace
from ..util import is_validation_enabled

__all__ = ["StructureChecks", "check_model_guide_match"]


def _shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _event_dim(msg: Message) -> int:
    return len(getattr(msg.fn, "event_shape", ()))


def _full_shape(msg: Message) -> tuple[int, ...]:
    fn = msg.fn
    return tuple(fn.batch_shape) + tuple(fn.event_shape)


def check_model_guide_match(model_trace: Trace, guide_trace: Trace, max_plate_nesting: float = math.inf) -> None:
    """Raise a ValueError naming the site where model and guide disagree on event dims or shape.

    Shapes may differ only by dims of size 1 (broadcasting) and, when
    ``max_plate_nesting`` is finite, left of the plate dims, as in Pyro. A plate the guide
    enters but the model does not gets a warning, as in Pyro.

    Example::

        check_model_guide_match(model_trace, guide_trace)
        # ValueError: Model and guide event_dims disagree at site 'x': ...
    """
    model_sites = model_trace.nodes
    for name, guide_site in guide_trace.nodes.items():
        if guide_site.kind is not SiteKind.SAMPLE:
            continue
        model_site = model_sites.get(name)
        if model_site is None or model_site.kind is not SiteKind.SAMPLE or model_site.is_observed:
            continue
        model_event, guide_event = _event_dim(model_site), _event_dim(guide_site)
        if model_event != guide_event:
            raise ValueError(
                f"Model and guide event_dims disagree at site '{name}': the model's distribution has "
                f"{model_event} event dim(s) (event shape {_shape_str(tuple(model_site.fn.event_shape))}), "
                f"the guide's has {guide_event} (event shape {_shape_str(tuple(guide_site.fn.event_shape))}). "
                f"Declare the same event dims in both, e.g. `.to_event({model_event})` on the guide's "
                "distribution when the model's site is the one you mean."
            )
        model_shape, guide_shape = _full_shape(model_site), _full_shape(guide_site)
        if model_shape == guide_shape:
            continue
        if math.isfinite(max_plate_nesting):
            # Dims left of the plates (a particle dim added outside, say) may broadcast freely.
            keep = int(max_plate_nesting) + model_event
            model_shape, guide_shape = model_shape[-keep:] if keep else (), guide_shape[-keep:] if keep else ()
        for model_size, guide_size in zip_longest(reversed(model_shape), reversed(guide_shape), fillvalue=1):
            if model_size != guide_size:
                raise ValueError(
                    f"Model and guide shapes disagree at site '{name}': the model's distribution has shape "
                    f"{_shape_str(model_shape)}, the guide's {_shape_str(guide_shape)} (batch dims, then event "
                    "dims). Give the guide's distribution the model's shape: put the guide's site in the same "
                    "plates, and size its params to match, e.g. with .expand(...) or .to_event(...)."
                )
    model_plates = {m.name for m in model_sites.values() if m.kind is SiteKind.PLATE}
    guide_only = [m.name for m in guide_trace.nodes.values() if m.kind is SiteKind.PLATE and m.name not in model_plates]
    if guide_only:
        warnings.warn(
            f"Found plate statements in guide but not model: {guide_only}. A plate that only the guide "
            "enters scales nothing in the model; enter the same plate in the model, or remove it from the guide.",
            UserWarning,
            stacklevel=2,
        )


class StructureChecks:
    """Runs :func:`check_model_guide_match` once per model/guide structure, under validation.

    The structure is the pair of functions and the names of the sites each ran, so a
    guide that changes the sites it samples (or a model with a data-dependent branch)
    is checked again; steps that repeat a structure already checked cost one set lookup.
    """

    _LIMIT = 256  # forget old structures beyond this many, so a long session cannot grow it

    def __init__(self) -> None:
        self._seen: set[tuple[Any, ...]] = set()

    def __call__(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        model_trace: Trace,
        guide_trace: Trace,
        max_plate_nesting: float = math.inf,
    ) -> None:
        if not is_validation_enabled():
            return
        key = (id(model), id(guide), tuple(model_trace.nodes), tuple(guide_trace.nodes))
        if key in self._seen:
            return
        check_model_guide_match(model_trace, guide_trace, max_plate_nesting)
        if len(self._seen) >= self._LIMIT:
            self._seen.clear()
        self._seen.add(key)

"""What a learner changed in the explorer, and the wrapped model that results.

The user's model is never edited: every change is a handler around it. Priors are
swapped by :class:`~widgets.views.handlers.replace_prior`, interventions are pplkit's
``do``, and observed sites set free are :class:`~pplkit.handlers.uncondition` with ``names=``. For
fitting, freed sites are also hidden with ``block``: the fit then marginalises them
(each is drawn from its own distribution and never scored), which is still a valid
ELBO for the sites that remain, and the guide needs no site for them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import torch

from pplkit.handlers import block, do, uncondition

from .handlers import replace_prior
from .priors import PriorChoice

__all__ = ["Toggles"]

Model = Callable[..., Any]


@dataclass(frozen=True)
class Toggles:
    """Prior changes, freed observations and interventions, as plain data.

    Attributes:
        priors: latent site -> its new prior (only sites whose prior changed).
        free: observed sites that are sampled instead of conditioned on their data.
        interventions: latent site -> the value ``do`` fixes it to.

    Example::

        toggles = Toggles(priors={"a": PriorChoice("Normal", {"loc": 9.0, "scale": 1.0})},
                          interventions={"bR": 0.0})
        wrapped = toggles.model(model)
        trace(wrapped).get_trace(*data).nodes["bR"].intervened   # True
    """

    priors: Mapping[str, PriorChoice] = field(default_factory=dict)
    free: frozenset[str] = frozenset()
    interventions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", frozenset(self.free))
        both = set(self.priors) & set(self.interventions)
        if both:
            # do() wins anyway; keeping both would make two different Toggles mean one model.
            object.__setattr__(self, "priors", {k: v for k, v in self.priors.items() if k not in both})

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.priors.items())), self.free, tuple(sorted(self.interventions.items()))))

    def with_prior(self, site: str, choice: PriorChoice | None) -> Toggles:
        priors = {k: v for k, v in self.priors.items() if k != site}
        if choice is not None:
            priors[site] = choice
        return replace(self, priors=priors)

    def with_free(self, site: str, free: bool) -> Toggles:
        return replace(self, free=self.free | {site} if free else self.free - {site})

    def with_intervention(self, site: str, value: float | None) -> Toggles:
        interventions = {k: v for k, v in self.interventions.items() if k != site}
        if value is not None:
            interventions[site] = float(value)
        return replace(self, interventions=interventions)

    def model(self, model: Model) -> Model:
        """The generative model with the changes: for prediction and for drawing the graph."""
        wrapped = model
        if self.priors:
            wrapped = replace_prior(wrapped, priors=dict(self.priors))
        if self.interventions:
            values = {k: torch.tensor(v, dtype=torch.get_default_dtype()) for k, v in self.interventions.items()}
            wrapped = do(wrapped, data=values)
        if self.free:
            wrapped = uncondition(wrapped, names=self.free)
        return _named_like(wrapped, model)

    def fit_model(self, model: Model) -> Model:
        """The model SVI fits: as :meth:`model`, with the freed sites hidden (marginalised)."""
        wrapped = self.model(model)
        if self.free:
            wrapped = _named_like(block(wrapped, hide=self.free), model)
        return wrapped

    def guide(self, guide: Model) -> Model:
        """A hand-written guide adapted to the changes: it no longer proposes sites fixed by ``do``."""
        if not self.interventions:
            return guide
        return _named_like(block(guide, hide=list(self.interventions)), guide)

    def describe(self) -> str:
        """One line per change, for the explorer's summary and for error messages."""
        lines = [f"{site} ~ {choice}" for site, choice in sorted(self.priors.items())]
        lines += [f"do({site} = {value:.3g})" for site, value in sorted(self.interventions.items())]
        lines += [f"{site}: free (not conditioned on its data)" for site in sorted(self.free)]
        return "\n".join(lines) or "the model as written"


def _named_like(wrapped: Any, original: Any) -> Model:
    """A plain function calling ``wrapped``, named as ``original`` (render_model titles and reprs read the name)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return wrapped(*args, **kwargs)

    return functools.update_wrapper(call, original, updated=())

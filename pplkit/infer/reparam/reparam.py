"""The interface a reparameteriser implements for the ``reparam`` handler."""

from __future__ import annotations

from typing import Any, TypedDict

from torch.distributions import Distribution


class ReparamMessage(TypedDict):
    """What a reparameteriser is given: the site's name, distribution and value (None if latent)."""

    name: str
    fn: Distribution
    value: Any
    is_observed: bool


class ReparamResult(TypedDict):
    """What it gives back: the site's new distribution and value."""

    fn: Distribution
    value: Any
    is_observed: bool


class Reparam:
    """Base class of reparameterisers, with Pyro's ``apply(msg) -> result`` interface.

    ``apply`` may draw auxiliary sample sites with ``pplkit.sample``; the site itself
    then usually becomes an observed ``Delta`` at the transformed value, scoring nothing.
    """

    def apply(self, msg: ReparamMessage) -> ReparamResult:
        raise NotImplementedError

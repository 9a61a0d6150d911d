"""The effect handler the explorer adds to pplkit's own: ``replace_prior``.

With pplkit's ``do`` and ``uncondition(names=...)`` it wraps the user's model, which is
never edited.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from torch.distributions import Distribution

from pplkit.runtime import Handler, Message, SiteKind

__all__ = ["replace_prior"]

PriorSpec = Distribution | Callable[[Distribution], Distribution]


class replace_prior(Handler):
    """Give the named latent sites a new prior.

    Args:
        priors: site name -> a distribution, or a function of the site's original
            distribution returning the new one (e.g. a :class:`~widgets.views.priors.PriorChoice`,
            which keeps the original's batch and event shape).

    Example::

        tr = trace(replace_prior(model, priors={"a": dist.Normal(9.0, 1.0)})).get_trace(*data)
        tr.nodes["a"].fn   # Normal(loc: 9.0, scale: 1.0)
    """

    def __init__(self, fn: Callable[..., Any] | None = None, priors: Mapping[str, PriorSpec] | None = None) -> None:
        super().__init__(fn)
        if not isinstance(priors, Mapping):
            raise TypeError(f"replace_prior needs priors= as a dict of site name -> distribution, got {priors!r}")
        self.priors = priors

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or msg.name not in self.priors:
            return
        spec = self.priors[msg.name]
        # Distributions are callable too (they draw a sample), so test for one first.
        new = spec if isinstance(spec, Distribution) else spec(msg.fn)
        old_shape = msg.fn.batch_shape + msg.fn.event_shape
        if new.batch_shape + new.event_shape != old_shape:
            raise ValueError(
                f"replace_prior: the new prior of site '{msg.name}' has batch shape {tuple(new.batch_shape)} and "
                f"event shape {tuple(new.event_shape)}, but the model's prior has {tuple(msg.fn.batch_shape)} and "
                f"{tuple(msg.fn.event_shape)}; use .expand(...) / .to_event(...) to match"
            )
        msg.fn = new

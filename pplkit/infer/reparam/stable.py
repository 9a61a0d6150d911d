"""``LatentStableReparam``: a latent ``Stable`` site as two auxiliary latents and a transform.

``Stable`` has no density, so a latent Stable site cannot be scored. Its
Chambers-Mallows-Stuck sampler is a differentiable map of two parameter-free draws,
``u ~ Uniform(-pi/2, pi/2)`` and ``e ~ Exponential(1)``: sample those as the sites
``{name}_uniform`` and ``{name}_exponential`` (which have densities) and set the
original site to ``loc + scale * standard_stable(stability, skew, u, e)``. The model's
joint over everything else is unchanged.
"""

from __future__ import annotations

import math

from ...distributions import Delta, Exponential, Uniform
from ...distributions.stable import Stable, standard_stable
from ...distributions.util import unwrap_independent
from .reparam import Reparam, ReparamMessage, ReparamResult

__all__ = ["LatentStableReparam"]


class LatentStableReparam(Reparam):
    """Reparameterise a latent ``Stable`` site (S0 coordinates) by its two auxiliary draws.

    Example::

        model = poutine.reparam(model, config={"x": LatentStableReparam()})

    For observed Stable sites Pyro has ``StableReparam``; pplkit does not.
    """

    def apply(self, msg: ReparamMessage) -> ReparamResult:
        from ...primitives import sample

        name = msg["name"]
        fn, event_dim = unwrap_independent(msg["fn"])
        if not isinstance(fn, Stable) or fn.coords != "S0":
            raise TypeError(
                f"LatentStableReparam at site '{name}': expected a Stable distribution in coords='S0', got "
                f"{type(fn).__name__}{'' if not isinstance(fn, Stable) else ' in coords=' + repr(fn.coords)}"
            )
        if msg["is_observed"]:
            raise NotImplementedError(
                f"LatentStableReparam at site '{name}': the site is observed; it reparameterises latent sites only "
                "(Pyro's StableReparam handles observed ones; pplkit has none)"
            )
        proto = fn.stability
        half_pi = proto.new_full(proto.shape, math.pi / 2)
        u = sample(f"{name}_uniform", Uniform(-half_pi, half_pi).to_event(event_dim))
        e = sample(f"{name}_exponential", Exponential(proto.new_ones(proto.shape)).to_event(event_dim))
        value = fn.loc + fn.scale * standard_stable(fn.stability, fn.skew, u, e, coords="S0")
        # The site keeps its name and value but scores nothing: the auxiliary sites carry the density.
        return {"fn": Delta(value, event_dim=event_dim).mask(False), "value": value, "is_observed": True}

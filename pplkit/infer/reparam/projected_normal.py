"""``ProjectedNormalReparam``: a ProjectedNormal latent as the direction of an auxiliary standard Normal."""

from __future__ import annotations

import torch

from ...distributions import Delta, Normal, ProjectedNormal
from ...distributions.projected_normal import safe_normalize
from ...distributions.util import unwrap_independent
from .reparam import Reparam, ReparamMessage, ReparamResult


class ProjectedNormalReparam(Reparam):
    """Sample ``{name}_normal ~ Normal(0, 1)`` in R^d and set the site to ``normalize(noise + concentration)``.

    The sphere has no unconstrained coordinates, so autoguides cannot fit a
    :class:`~pplkit.distributions.ProjectedNormal` site itself; after this reparam they fit
    the auxiliary Normal site, and the original site keeps its name and value but scores
    nothing (as Pyro's). Latent sites only.

    Example::

        model = poutine.reparam(model, config={"direction": ProjectedNormalReparam()})
    """

    def apply(self, msg: ReparamMessage) -> ReparamResult:
        from ...primitives import sample

        name, fn, value = msg["name"], msg["fn"], msg["value"]
        if msg["is_observed"]:
            raise NotImplementedError(
                f"ProjectedNormalReparam at site '{name}': the site is observed; it reparameterises latent "
                "sites only (an observed ProjectedNormal needs no reparam: its log_prob is exact)"
            )
        base, extra_event_dims = unwrap_independent(fn)
        if not isinstance(base, ProjectedNormal):
            raise TypeError(
                f"ProjectedNormalReparam at site '{name}': expected a ProjectedNormal, got {type(base).__name__}"
            )
        concentration = base.concentration
        # A value given from outside (an init, a replay) maps back to one noise that projects onto it.
        noise_value = None if value is None else value - concentration
        noise_fn = Normal(torch.zeros_like(concentration), 1.0).to_event(1)
        if extra_event_dims:
            noise_fn = noise_fn.to_event(extra_event_dims)  # type: ignore[attr-defined]
        noise = sample(f"{name}_normal", noise_fn, obs=noise_value, infer={"is_observed": False})
        if value is None:
            value = safe_normalize(noise + concentration)
        event_dim = 1 + extra_event_dims
        return {"fn": Delta(value, event_dim=event_dim).mask(False), "value": value, "is_observed": True}

"""``LocScaleReparam``: sample a loc-scale latent in (partially) decentred coordinates."""

from __future__ import annotations

from typing import Sequence

import torch
from torch.distributions import Distribution, constraints

from ...distributions import Delta
from ...distributions.util import unwrap_independent
from .reparam import Reparam, ReparamMessage, ReparamResult


class LocScaleReparam(Reparam):
    """Decentre a ``loc``/``scale`` latent: ``x = loc + scale**(1-c) * (x' - c*loc)``, ``x' ~ D(c*loc, scale**c)``.

    With ``centered=0`` the auxiliary site ``{name}_decentered`` is a standard draw,
    ``x = loc + scale * x'`` (the "non-centred" form that removes a funnel). ``1`` keeps
    the model as it was. ``None`` learns a centring per element, as the param
    ``{name}_centered`` in [0, 1]. The joint density of the model is unchanged, up to
    the Jacobian of the map; the posterior of ``x`` is the same.

    Args:
        centered: the centring in [0, 1], or None to learn it.
        shape_params: further parameters of the family to pass through unchanged,
            e.g. ``("df",)`` for StudentT.

    Example::

        model = reparam(model, config={"theta": LocScaleReparam(centered=0)})
    """

    def __init__(self, centered: float | torch.Tensor | None = None, shape_params: Sequence[str] = ()) -> None:
        if isinstance(centered, (int, float)) and not 0 <= centered <= 1:
            raise ValueError(f"LocScaleReparam: centered must lie in [0, 1] (or be None to learn it), got {centered}")
        self.centered = centered
        self.shape_params = tuple(shape_params)

    def apply(self, msg: ReparamMessage) -> ReparamResult:
        from ...primitives import param, sample

        name, fn = msg["name"], msg["fn"]
        base, event_dim = unwrap_independent(fn)
        if not (hasattr(base, "loc") and hasattr(base, "scale")):
            raise TypeError(
                f"LocScaleReparam at site '{name}': {type(base).__name__} has no loc and scale; "
                "use it with a loc-scale family such as Normal, Cauchy, Laplace or StudentT"
            )
        if msg["is_observed"]:
            raise ValueError(
                f"LocScaleReparam at site '{name}': the site is observed; reparameterise latent sites only"
            )
        centered = self.centered
        if centered is None:
            centered = param(
                f"{name}_centered",
                lambda: torch.full(base.batch_shape, 0.5),
                constraint=constraints.unit_interval,
                event_dim=event_dim,
            )
        loc, scale = base.loc, base.scale
        params = {key: getattr(base, key) for key in self.shape_params}
        decentered_fn: Distribution = type(base)(loc=loc * centered, scale=scale**centered, **params)  # type: ignore[call-arg]
        if event_dim:
            decentered_fn = decentered_fn.to_event(event_dim)  # type: ignore[attr-defined]
        decentered = sample(f"{name}_decentered", decentered_fn)
        value = loc + (decentered - centered * loc) * scale ** (1 - centered)
        # The original site keeps its name and value for the rest of the model and for
        # predictions, but scores nothing: its density is carried by the auxiliary site.
        new_fn = Delta(value, event_dim=event_dim).mask(False)
        return {"fn": new_fn, "value": value, "is_observed": True}



"""``AutoNormal``: an independent Normal for every latent site, in unconstrained space.

Pyro samples each site twice (an auxiliary ``a_unconstrained`` Normal, then a Delta at
its image); here the site is sampled once, from a Normal pushed onto the site's support
by ``biject_to(support)``. The guide's log density is the same (the Normal's, minus
the log-Jacobian of the bijection), with half the messages, and the per-site work that
does not change between steps (names, bijections, initial values) is done once.

Params, named as Pyro's: ``AutoNormal.locs.<site>`` and ``AutoNormal.scales.<site>``
(the scales positive), one element per element of the site, plates included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch.distributions import Distribution, Transform, constraints

from ... import distributions as dist
from ...primitives import param, sample
from .base import AutoGuide, LatentSite, check_init_scale, quantile_tensor, repeat_to_full_size
from .initialization import InitFn, init_to_feasible

__all__ = ["AutoNormal"]


class PushforwardNormal(dist.TransformedDistribution):
    """``Normal(loc, scale)`` in unconstrained space, mapped onto a support by a bijection.

    A lean TransformedDistribution: the event dims are known from the model, so
    construction skips torch's generic shape inference, and ``transform`` caches its
    last input so that scoring the value just sampled does not invert the bijection.

    Args:
        loc, scale: the Normal's parameters (unconstrained space).
        transform: ``biject_to(support)``, with ``cache_size=1``.
        base_event_dim: dims of ``loc`` that form one event (unconstrained).
        event_dim: event dims of the constrained value.
        reshapes: whether the bijection changes the event shape (e.g. onto a simplex).
    """

    def __init__(
        self,
        loc: torch.Tensor,
        scale: torch.Tensor,
        transform: Transform,
        base_event_dim: int,
        event_dim: int,
        reshapes: bool = False,
    ) -> None:
        base: Distribution = dist.Normal(loc, scale, validate_args=False)
        if base_event_dim:
            base = dist.Independent(base, base_event_dim, validate_args=False)
        self._init_from(base, transform, event_dim, reshapes)

    def _init_from(self, base: Distribution, transform: Transform, event_dim: int, reshapes: bool) -> None:
        self.base_dist = base
        self.transforms = [transform]
        self._event_dim = event_dim
        self._reshapes = reshapes
        shape = base.batch_shape + base.event_shape
        if reshapes:
            shape = transform.forward_shape(shape)
        cut = len(shape) - event_dim
        Distribution.__init__(self, shape[:cut], shape[cut:], validate_args=False)

    def expand(self, batch_shape: Any, _instance: Any = None) -> PushforwardNormal:
        # The bijection acts on event dims only, so batch dims are the base's batch dims.
        new = PushforwardNormal.__new__(PushforwardNormal)
        base = self.base_dist.expand(torch.Size(batch_shape))
        new._init_from(base, self.transforms[0], self._event_dim, self._reshapes)
        return new


@dataclass(frozen=True, eq=False)
class _NormalSite:
    """What AutoNormal keeps per site: param names, initial values, and its bijection."""

    site: LatentSite
    loc_name: str
    scale_name: str
    loc_init: torch.Tensor
    scale_init: torch.Tensor
    sample_transform: Transform | None  # cached bijection, or None for real support
    reshapes: bool  # the bijection changes the event shape (simplex, correlation matrices)


class AutoNormal(AutoGuide):
    """A mean-field Normal guide, with readable param names per site.

    Args:
        model: the model.
        init_loc_fn: where the locs start (default: ``init_to_feasible``, as Pyro).
        init_scale: the starting scale of every site, in unconstrained space.
        create_plates: see :class:`~pplkit.infer.autoguide.AutoGuide`.

    Example::

        guide = AutoNormal(model)
        svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
        svi.run(2000, data)
        guide.median()         # {"a": tensor(...), ...}
        guide.quantiles([0.05, 0.5, 0.95])
    """

    def __init__(
        self,
        model: Any,
        *,
        init_loc_fn: InitFn = init_to_feasible,
        init_scale: float = 0.1,
        create_plates: Any = None,
    ) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn, create_plates=create_plates)
        self.init_scale = check_init_scale(self, init_scale)
        self._plan: list[_NormalSite] = []

    def _setup_sites(self) -> None:
        plan = []
        for name, site in self.sites.items():
            loc = repeat_to_full_size(site.init_unconstrained, site, site.unconstrained_event_dim)
            plan.append(
                _NormalSite(
                    site=site,
                    loc_name=f"{self.prefix}.locs.{name}",
                    scale_name=f"{self.prefix}.scales.{name}",
                    loc_init=loc,
                    scale_init=torch.full_like(loc, self.init_scale),
                    sample_transform=None if site.is_real else site.transform.with_cache(1),
                    reshapes=site.init.shape != site.init_unconstrained.shape,
                )
            )
        self._plan = plan

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        plates = self._create_plates(args, kwargs)
        result = {}
        for entry in self._plan:
            with self._enter(plates, entry.site.frames):
                result[entry.site.name] = self._sample(entry)
        return result

    def _sample(self, entry: _NormalSite) -> torch.Tensor:
        event_dim = entry.site.unconstrained_event_dim
        loc = param(entry.loc_name, entry.loc_init, constraints.real, event_dim)
        scale = param(entry.scale_name, entry.scale_init, constraints.positive, event_dim)
        if entry.sample_transform is None:
            fn: Distribution = dist.Normal(loc, scale, validate_args=False)
            if event_dim:
                fn = dist.Independent(fn, event_dim, validate_args=False)
        else:
            fn = PushforwardNormal(
                loc, scale, entry.sample_transform, event_dim, entry.site.event_dim, entry.reshapes
            )
        return sample(entry.site.name, fn)

    def _loc_scale(self, entry: _NormalSite) -> tuple[torch.Tensor, torch.Tensor]:
        event_dim = entry.site.unconstrained_event_dim
        loc = self._stored(entry.loc_name, entry.loc_init, constraints.real, event_dim)
        scale = self._stored(entry.scale_name, entry.scale_init, constraints.positive, event_dim)
        return loc, scale

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The posterior median of each site: the image of its loc on the support."""
        self._require_setup(args, kwargs, "median")
        result = {}
        for entry in self._plan:
            loc, _ = self._loc_scale(entry)
            result[entry.site.name] = entry.site.transform(loc).detach().clone()
        return result

    @torch.no_grad()
    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """Posterior quantiles per site, shape ``(len(quantiles), *site shape)``.

        Example::

            guide.quantiles([0.05, 0.5, 0.95])["a"]   # tensor([8.9, 9.2, 9.4])
        """
        self._require_setup(args, kwargs, "quantiles")
        result = {}
        for entry in self._plan:
            loc, scale = self._loc_scale(entry)
            q = quantile_tensor(quantiles, loc)
            unconstrained = dist.Normal(loc, scale).icdf(q)
            result[entry.site.name] = entry.site.transform(unconstrained).detach()
        return result

"""``AutoDiscreteParallel``: a learned distribution for each discrete latent site, enumerated in parallel.

Each discrete site (Bernoulli, Categorical or OneHotCategorical) gets its own probs,
one set per element of its plates, and is sampled with ``infer={"enumerate":
"parallel"}``, so that :class:`~pplkit.infer.TraceEnum_ELBO` sums over its values
exactly instead of sampling them. Pair it with a continuous guide in an
:class:`AutoGuideList`, each blocked to its own sites.

Params, named as Pyro's: ``AutoDiscreteParallel.<site>_probs``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import constraints
from torch.distributions.transforms import identity_transform

from ... import distributions as dist
from ...primitives import param, sample
from ...runtime import SiteKind
from .base import AutoGuide, LatentSite

__all__ = ["AutoDiscreteParallel"]

_SUPPORTED = (dist.Bernoulli, dist.Categorical, dist.OneHotCategorical)


class AutoDiscreteParallel(AutoGuide):
    """A mean-field guide for the discrete latent sites of a model, enumerated in parallel.

    Args:
        model: the model, with its continuous sites hidden (``block(model, expose=[...])``).

    Example::

        guide = AutoGuideList(model)
        guide.append(AutoNormal(block(model, hide=["assignment"])))
        guide.append(AutoDiscreteParallel(block(model, expose=["assignment"])))
        svi = SVI(model, guide, Adam({"lr": 0.05}), TraceEnum_ELBO(max_plate_nesting=1))
    """

    def _setup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # Discrete sites have no bijection to unconstrained space: described here, from one prior run.
        with self._setup_lock:
            if self.prototype_trace is not None:
                return
            prototype = self._trace_model_once(args, kwargs)
            sites = {}
            for msg in prototype.nodes.values():
                if msg.kind is not SiteKind.SAMPLE or msg.is_observed:
                    continue
                sites[msg.name] = self._describe_discrete(msg)
            self.sites = sites
            self._plate_frames = {f.name: f for s in sites.values() for f in s.frames}
            self.prototype_trace = prototype

    def _describe_discrete(self, msg: Any) -> LatentSite:
        fn = msg.fn
        while isinstance(fn, dist.Independent):
            fn = fn.base_dist
        if not isinstance(fn, _SUPPORTED):
            raise ValueError(
                f"AutoDiscreteParallel: site '{msg.name}' has a {type(msg.fn).__name__} prior; it fits Bernoulli, "
                f"Categorical and OneHotCategorical sites. Hide the others from it, "
                f"AutoDiscreteParallel(block(model, expose=[...discrete sites...])), and give them their own guide"
            )
        for frame in msg.cond_indep_stack:
            if frame.dim is None:
                raise ValueError(
                    f"AutoDiscreteParallel: site '{msg.name}' is inside the sequential plate '{frame.name}'; "
                    f"parallel enumeration needs a vectorised plate: `with plate('{frame.name}', ...)`"
                )
        value = msg.value.detach()
        return LatentSite(
            name=msg.name,
            fn=msg.fn,
            support=msg.fn.support,
            transform=identity_transform,
            event_dim=len(msg.fn.event_shape),
            init=value,
            init_unconstrained=value,
            unconstrained_event_dim=len(msg.fn.event_shape),
            frames=tuple(msg.cond_indep_stack),
        )

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        plates = self._create_plates(args, kwargs)
        result = {}
        for name, site in self.sites.items():
            base = site.fn
            while isinstance(base, dist.Independent):
                base = base.base_dist
            batch_shape = base.batch_shape  # with the dims an Independent made part of the event
            reinterpreted = len(batch_shape) - len(site.fn.batch_shape)
            with self._enter(plates, site.frames):
                fn: Any
                if isinstance(base, dist.Bernoulli):
                    probs = param(
                        f"{self.prefix}.{name}_probs", torch.full(batch_shape, 0.5), constraints.unit_interval
                    )
                    fn = dist.Bernoulli(probs)
                else:
                    k = base.probs.shape[-1]  # type: ignore[attr-defined]
                    init = torch.full(batch_shape + (k,), 1.0 / k)
                    probs = param(f"{self.prefix}.{name}_probs", init, constraints.simplex, event_dim=1)
                    fn = (
                        dist.Categorical(probs) if isinstance(base, dist.Categorical) else dist.OneHotCategorical(probs)
                    )
                if reinterpreted:
                    fn = fn.to_event(reinterpreted)
                result[name] = sample(name, fn, infer={"enumerate": "parallel"})
        return result

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Pyro's guide has no median; this one neither (the mode of the probs is a different question)."""
        raise NotImplementedError("AutoDiscreteParallel has no median(); read its probs with pplkit.param(...)")

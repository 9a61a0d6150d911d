"""``AutoNormalMessenger`` and ``AutoHierarchicalNormalMessenger``: mean-field Normal guides as messengers.

At each latent site the posterior is a Normal in unconstrained space pushed onto the
prior's support, with params ``locs.<site>`` and ``scales.<site>``. The hierarchical
version adds the prior's own mean (mapped to unconstrained space) times a learned
weight to the loc, so the posterior follows the upstream draws:
``loc_total = loc + weight * transform.inv(prior.mean)``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.distributions import Distribution, constraints

from ... import distributions as dist
from .initialization import InitFn
from .messenger import AutoMessenger, site_transform

__all__ = ["AutoHierarchicalNormalMessenger", "AutoNormalMessenger"]


class AutoNormalMessenger(AutoMessenger):
    """A mean-field Normal posterior at every latent site (AutoNormal's family, as a messenger).

    Subclass it and override :meth:`get_posterior` for some sites, falling back to
    ``super().get_posterior(name, prior)`` for the others.

    Args:
        model: the model.
        init_loc_fn: per-site initial value (default: the prior mean, else a feasible point).
        init_scale: initial scale of each unconstrained latent.
        amortized_plates: names of plates whose elements share params.

    Example::

        guide = AutoNormalMessenger(model)
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    """

    _computing_median = False  # set while median() runs the model

    def get_posterior(self, name: str, prior: Distribution) -> Distribution | torch.Tensor:
        transform = site_transform(name, prior)
        loc, scale = self._loc_scale(name, prior)
        if self._computing_median:
            return transform(loc)
        return dist.TransformedDistribution(
            dist.Normal(loc, scale).to_event(transform.domain.event_dim), transform.with_cache()
        )

    def _loc_scale(self, name: str, prior: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
        params = self._site_params(name, ("locs", "scales"))
        if params is None:
            self._make_params(name, prior)
            params = self._site_params(name, ("locs", "scales"))
            assert params is not None
        loc, scale = params
        return loc, scale

    def _make_params(self, name: str, prior: Distribution) -> None:
        init_loc, event_dim = self._initial_unconstrained(name, prior, self.init_loc_fn)
        self._make_loc_scale(name, init_loc, event_dim)

    def _make_loc_scale(self, name: str, init_loc: torch.Tensor, event_dim: int) -> None:
        self._set_param("locs." + name, init_loc, constraints.real, event_dim)
        self._set_param("scales." + name, torch.full_like(init_loc, self._init_scale), constraints.positive, event_dim)

    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Every site's value with each latent at its posterior median (the loc pushed onto the support)."""
        self._computing_median = True
        try:
            return self(*args, **kwargs)
        finally:
            self._computing_median = False


class AutoHierarchicalNormalMessenger(AutoNormalMessenger):
    """A Normal posterior whose loc follows the prior's mean: ``loc + weight * transform.inv(prior.mean)``.

    Where the prior's mean depends on upstream sites, so does the posterior. The loc
    starts at ``init - init_weight * transform.inv(prior.mean)``, so the first draws are
    centred on the initial value. Sites whose prior has no mean need ``hierarchical_sites``
    to leave them out.

    Args:
        model, init_loc_fn, init_scale, amortized_plates: as :class:`AutoNormalMessenger`.
        init_weight: initial weight of the prior mean.
        hierarchical_sites: the sites that follow their prior's mean (all when None); the
            others are mean-field.

    Example::

        guide = AutoHierarchicalNormalMessenger(model, hierarchical_sites=["theta"])
    """

    weight_type = "element-wise"  # or "scalar": one weight per site

    def __init__(
        self,
        model: Callable[..., Any],
        *,
        init_loc_fn: InitFn | None = None,
        init_scale: float = 0.1,
        amortized_plates: tuple[str, ...] = (),
        init_weight: float = 1.0,
        hierarchical_sites: list[str] | None = None,
    ) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn, init_scale=init_scale, amortized_plates=amortized_plates)
        self._init_weight = init_weight
        self._hierarchical_sites = hierarchical_sites

    def _is_hierarchical(self, name: str) -> bool:
        return self._hierarchical_sites is None or name in self._hierarchical_sites

    def get_posterior(self, name: str, prior: Distribution) -> Distribution | torch.Tensor:
        if not self._is_hierarchical(name):
            return super().get_posterior(name, prior)
        transform = site_transform(name, prior)
        loc, scale = self._loc_scale(name, prior)
        weight = self._weight(name)
        loc = loc + transform.inv(prior.mean) * weight
        if self._computing_median:
            return transform(loc)
        return dist.TransformedDistribution(
            dist.Normal(loc, scale).to_event(transform.domain.event_dim), transform.with_cache()
        )

    def _make_params(self, name: str, prior: Distribution) -> None:
        if not self._is_hierarchical(name):
            super()._make_params(name, prior)
            return
        init_loc, event_dim = self._initial_unconstrained(name, prior, self.init_loc_fn)
        scalar = self.weight_type == "scalar"
        init_weight = torch.full(() if scalar else init_loc.shape, self._init_weight)
        with torch.no_grad():
            prior_mean = self._adjust_plates(site_transform(name, prior).inv(prior.mean), event_dim)
        # Start the posterior's mean at the initial value, whatever the prior's mean is now.
        self._make_loc_scale(name, init_loc - init_weight * prior_mean, event_dim)
        self._set_param("weights." + name, init_weight, constraints.positive, None if scalar else event_dim)

    def _weight(self, name: str) -> torch.Tensor:
        params = self._site_params(name, ("weights",))
        assert params is not None, "made with the site's loc and scale"
        return params[0]

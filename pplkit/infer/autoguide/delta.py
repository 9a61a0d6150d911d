"""``AutoDelta``: a point mass at a learnable value for every latent site (MAP estimation).

Params, named as Pyro's: ``AutoDelta.<site>``, constrained to the site's support.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ... import distributions as dist
from ...primitives import param, sample
from .base import AutoGuide, LatentSite, quantile_tensor, repeat_to_full_size
from .initialization import InitFn, init_to_median

__all__ = ["AutoDelta"]


class AutoDelta(AutoGuide):
    """A MAP guide: each latent site is a point mass at a param, fitted in constrained space.

    Args:
        model: the model.
        init_loc_fn: where the points start (default: ``init_to_median``, as Pyro).
        create_plates: see :class:`~pplkit.infer.autoguide.AutoGuide`.

    Example::

        guide = AutoDelta(model)
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
        svi.run(1000, data)
        guide.median()["a"]      # the MAP estimate of a
    """

    _needs_bijection = False  # its params live in the support (transform_to), as Pyro's AutoDelta

    def __init__(self, model: Any, init_loc_fn: InitFn = init_to_median, *, create_plates: Any = None) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn, create_plates=create_plates)
        self._inits: dict[str, torch.Tensor] = {}

    def _setup_sites(self) -> None:
        self._inits = {name: repeat_to_full_size(site.init, site, site.event_dim) for name, site in self.sites.items()}

    def _param_name(self, site: LatentSite) -> str:
        return f"{self.prefix}.{site.name}"

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        plates = self._create_plates(args, kwargs)
        result = {}
        for name, site in self.sites.items():
            with self._enter(plates, site.frames):
                value = param(self._param_name(site), self._inits[name], site.support, site.event_dim)
                result[name] = sample(name, dist.Delta(value, event_dim=site.event_dim))
        return result

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The point each site sits at."""
        self._require_setup(args, kwargs, "median")
        return {
            name: self._stored(self._param_name(site), self._inits[name], site.support, site.event_dim).detach().clone()
            for name, site in self.sites.items()
        }

    @torch.no_grad()
    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """Every quantile of a point mass is the point: shape ``(len(quantiles), *site shape)``."""
        medians = self.median(*args, **kwargs)
        result = {}
        for name, value in medians.items():
            q = quantile_tensor(quantiles, value)
            result[name] = value.expand(q.shape[:1] + value.shape).clone()
        return result

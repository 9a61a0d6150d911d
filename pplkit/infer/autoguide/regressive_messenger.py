"""``AutoRegressiveMessenger``: each posterior is a learned affine map of the prior, in unconstrained space.

The prior at a site is already conditioned on the posterior draws upstream, so an
affine map of it (``loc + scale * z`` of the prior's unconstrained draw ``z``) keeps
the model's dependency structure: the guide is autoregressive in the model's order.
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.transforms import AffineTransform

from ... import distributions as dist
from .messenger import AutoMessenger, site_transform

__all__ = ["AutoRegressiveMessenger"]


class AutoRegressiveMessenger(AutoMessenger):
    """A posterior per site that is ``transform(loc + scale * transform.inv(prior draw))``.

    Continuous latent sites only. It starts close to the initial value:
    ``init_scale * prior + (1 - init_scale) * init`` in unconstrained space.

    Args:
        model: the model.
        init_loc_fn: per-site initial value (default: the prior mean, else a feasible point).
        init_scale: initial scale of the affine map.
        amortized_plates: names of plates whose elements share params.

    Example::

        guide = AutoRegressiveMessenger(model)
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    """

    def get_posterior(self, name: str, prior: Distribution) -> Distribution | torch.Tensor:
        transform = site_transform(name, prior)
        params = self._site_params(name, ("locs", "scales"))
        if params is None:
            init, event_dim = self._initial_unconstrained(name, prior, self.init_loc_fn)
            init = init * (1 - self._init_scale)
            self._set_param("locs." + name, init, constraints.real, event_dim)
            self._set_param("scales." + name, torch.full_like(init, self._init_scale), constraints.positive, event_dim)
            params = self._site_params(name, ("locs", "scales"))
            assert params is not None
        loc, scale = params
        affine = AffineTransform(loc, scale, event_dim=transform.domain.event_dim, cache_size=1)
        return dist.TransformedDistribution(prior, [transform.inv.with_cache(), affine, transform.with_cache()])

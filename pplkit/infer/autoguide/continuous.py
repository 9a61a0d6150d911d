"""``AutoContinuous``: one joint distribution over all latent sites, packed into a vector.

Every latent site is mapped to unconstrained space and flattened; the pieces are
concatenated into one vector of length ``latent_dim``. A subclass chooses the
distribution of that vector (diagonal, full-rank or low-rank Gaussian, a point mass),
which is sampled as one auxiliary site; each model site then receives its slice,
mapped back to its support, as a point mass carrying the log-Jacobian of that map.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import torch
from torch.distributions import Distribution

from ... import distributions as dist
from ...distributions.util import sum_rightmost
from ...primitives import sample
from .base import AutoGuide, LatentSite, quantile_tensor
from .initialization import InitFn, init_to_median

__all__ = ["AutoContinuous"]


class AutoContinuous(AutoGuide):
    """Base class of the guides over one packed latent vector.

    Subclasses implement :meth:`get_posterior` (the distribution of the vector) and
    :meth:`_loc_scale` (its marginal locations and scales, for medians and quantiles).
    """

    _needs_latents = True

    def __init__(self, model: Any, init_loc_fn: InitFn = init_to_median, *, create_plates: Any = None) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn, create_plates=create_plates)
        self.latent_dim = 0
        self._loc_init = torch.zeros(0)  # the packed unconstrained initial values of all sites
        self._slices: dict[str, tuple[int, int]] = {}

    def _setup_sites(self) -> None:
        pos = 0
        for name, site in self.sites.items():
            if site.is_subsampled:
                frame = next(f for f in site.frames if f.size != f.full_size)
                raise ValueError(
                    f"{type(self).__name__} cannot fit site '{name}' in the subsampled plate '{frame.name}': its "
                    "joint latent vector needs every element at every step. Use AutoNormal or AutoDelta, whose "
                    "params are per element, for models with subsampling"
                )
            size = site.init_unconstrained.numel()
            self._slices[name] = (pos, pos + size)
            pos += size
        self.latent_dim = pos
        self._loc_init = torch.cat([site.init_unconstrained.reshape(-1) for site in self.sites.values()])

    @property
    def _latent_name(self) -> str:
        return f"_{self.prefix}_latent"

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        """The distribution of the packed unconstrained latent vector."""
        raise NotImplementedError

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Marginal location and scale of each element of the latent vector."""
        raise NotImplementedError

    def sample_latent(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Draw the packed latent vector, as an auxiliary site of the guide."""
        return sample(self._latent_name, self.get_posterior(*args, **kwargs), infer={"is_auxiliary": True})

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        latent = self.sample_latent(*args, **kwargs)
        plates = self._create_plates(args, kwargs)
        result = {}
        for site, unconstrained in self._unpack(latent):
            log_density: torch.Tensor | float
            if site.is_real:
                value, log_density = unconstrained, 0.0
            else:
                value = site.transform(unconstrained)
                log_jacobian = site.transform.log_abs_det_jacobian(unconstrained, value)
                log_density = -sum_rightmost(log_jacobian, log_jacobian.dim() - value.dim() + site.event_dim)
            point = dist.Delta(value, log_density=log_density, event_dim=site.event_dim)
            with self._enter(plates, site.frames):
                result[site.name] = sample(site.name, point)
        return result

    def _unpack_latent(self, latent: torch.Tensor) -> Iterator[tuple[LatentSite, torch.Tensor]]:
        """(site, its unconstrained value) for each latent site, cut from the packed vector (Pyro's name)."""
        return self._unpack(latent)

    def _unpack(self, latent: torch.Tensor) -> Iterator[tuple[LatentSite, torch.Tensor]]:
        batch_shape = latent.shape[:-1]
        for name, site in self.sites.items():
            start, stop = self._slices[name]
            shape = site.init_unconstrained.shape
            if batch_shape:
                # Dims left of the vector come from plates outside the guide (batches of samples).
                shape = torch.broadcast_shapes(shape, batch_shape + (1,) * site.unconstrained_event_dim)
            yield site, latent[..., start:stop].reshape(shape)

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The posterior median of each site: the image of its marginal location."""
        self._require_setup(args, kwargs, "median")
        if not self.sites:
            return {}
        loc, _ = self._loc_scale()
        return {site.name: site.transform(u).detach().clone() for site, u in self._unpack(loc.detach())}

    @torch.no_grad()
    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """Marginal posterior quantiles per site, shape ``(len(quantiles), *site shape)``."""
        self._require_setup(args, kwargs, "quantiles")
        if not self.sites:
            return {}
        loc, scale = self._loc_scale()
        q = quantile_tensor(quantiles, loc)
        latents = dist.Normal(loc, scale).icdf(q)
        result: dict[str, list[torch.Tensor]] = {}
        for latent in latents:
            for site, u in self._unpack(latent):
                result.setdefault(site.name, []).append(site.transform(u))
        return {name: torch.stack(values).detach() for name, values in result.items()}


def default_rank(latent_dim: int) -> int:
    """Pyro's default rank for low-rank guides: about the square root of the dimension."""
    return max(1, int(round(math.sqrt(latent_dim))))

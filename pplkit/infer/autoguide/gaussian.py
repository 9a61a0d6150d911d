"""``AutoGaussian``: a joint Gaussian guide whose precision has the model's sparsity.

As Pyro's ``AutoGaussian(model, backend="dense")``: every factor of the model (each
sample site, latent or observed) gets one learned Gaussian factor over the latents it
depends on directly (the site itself, when latent, and its upstream latents). The
factors, in information form, add up to one joint Gaussian over auxiliary variables
``z``, so the guide's precision is zero wherever two latents share no model factor: the
conditional independences of the posterior are kept, nothing more is assumed. Each
site's unconstrained value is ``loc + scale * z``, mapped to its support.

Params, named as Pyro's below the prefix: ``locs.x``, ``scales.x`` (per latent) and
``white_vecs.d``, ``prec_sqrts.d`` (per factor; a factor's precision is
``prec_sqrt @ prec_sqrt.T`` and its information vector ``prec_sqrt @ white_vec``).

Latents inside plates are not supported yet (Pyro's dense backend breaks plates into
blocks); such a model raises ``NotImplementedError`` naming the site. Observed sites may
sit in plates: their factor is over latents outside every plate, as in Pyro.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch.distributions import constraints

from ... import distributions as dist
from ...distributions.util import sum_rightmost
from ...inspect import get_model_relations
from ...inspect.graph import NodeRole
from ...primitives import param, sample
from ..util import tracing_for_structure
from .base import AutoGuide, check_init_scale, quantile_tensor
from .initialization import InitFn, init_to_feasible

__all__ = ["AutoGaussian"]

_BACKENDS = ("dense",)


class AutoGaussian(AutoGuide):
    """A Gaussian guide with the model's conditional independence structure (Pyro's dense backend).

    Args:
        model: the model.
        init_loc_fn: where the locations start (default ``init_to_feasible``, as in Pyro).
        init_scale: the starting scale of every unconstrained latent.
        backend: ``"dense"`` (the default and the only one here; Pyro's ``"funsor"``
            needs the funsor library, which pplkit does not use).

    Example::

        guide = AutoGaussian(model)
        svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
    """

    _needs_latents = True

    def __init__(
        self,
        model: Any,
        *,
        init_loc_fn: InitFn = init_to_feasible,
        init_scale: float = 0.1,
        backend: str | None = None,
    ) -> None:
        if backend == "funsor":
            raise NotImplementedError(
                "AutoGaussian(backend='funsor') needs the funsor library, which pplkit does not support; "
                "use the default backend='dense' (the same parametrization, computed densely)"
            )
        if backend is not None and backend not in _BACKENDS:
            raise ValueError(f"AutoGaussian: unknown backend {backend!r}; use 'dense'")
        super().__init__(model, init_loc_fn=init_loc_fn)
        self.init_scale = check_init_scale(self, init_scale)
        # Per factor: the latents it spans (in order) and its output size.
        self.dependencies: dict[str, list[str]] = {}
        self._factor_sizes: dict[str, int] = {}
        self._slices: dict[str, tuple[int, int]] = {}
        self.latent_dim = 0

    # -- structure ------------------------------------------------------------------------------

    def _setup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._model_inputs = (args, kwargs)  # the dependency trace runs the model with them
        try:
            super()._setup(args, kwargs)
        finally:
            del self._model_inputs

    def _setup_sites(self) -> None:
        for name, site in self.sites.items():
            if site.frames:
                raise NotImplementedError(
                    f"AutoGaussian: latent site '{name}' is inside the plate '{site.frames[0].name}'; pplkit's "
                    "AutoGaussian supports latents outside plates only. Use AutoMultivariateNormal for models "
                    "with plated latents"
                )
        pos = 0
        for name, site in self.sites.items():
            size = site.init_unconstrained.numel()
            self._slices[name] = (pos, pos + size)
            pos += size
        self.latent_dim = pos
        self._trace_dependencies()
        like = next(iter(self.sites.values())).init_unconstrained
        self._init_prec_sqrts = {}
        for d, upstream in self.dependencies.items():
            u_size = sum(self.sites[u].init_unconstrained.numel() for u in upstream)
            if d in self.sites:
                d_size = self.sites[d].init_unconstrained.numel()
            else:  # an observation: more columns than upstream dims would add nothing
                d_size = min(self._observed_numel[d], u_size)
            self._factor_sizes[d] = d_size
            # Small noise, as Pyro: a zero start would give a singular gradient.
            noise = (torch.rand(u_size, d_size, dtype=like.dtype, device=like.device) - 0.5) * self.init_scale
            if d in self.sites:  # the site's own block starts at the identity
                own = upstream.index(d)
                start = sum(self.sites[u].init_unconstrained.numel() for u in upstream[:own])
                noise[start : start + d_size].fill_diagonal_(1.0)
            self._init_prec_sqrts[d] = noise

    def _trace_dependencies(self) -> None:
        """Each factor's direct latent upstreams, read from the model's graph."""
        args, kwargs = self._model_inputs
        with tracing_for_structure():  # a structure-only run: outside the guide's own trace
            graph = get_model_relations(self.model, args, kwargs)
        nodes = graph.nodes

        def latent_parents(name: str, seen: set[str]) -> list[str]:
            found: list[str] = []
            for p in nodes[name].parents:
                if p in seen:
                    continue
                seen.add(p)
                if p in self.sites:
                    found.append(p)
                elif nodes[p].role is NodeRole.DETERMINISTIC:
                    found.extend(latent_parents(p, seen))
            return found

        self._observed_numel: dict[str, int] = {}
        for name, node in nodes.items():
            if name in self.sites:
                ups = set(latent_parents(name, {name})) | {name}
            elif node.role is NodeRole.OBSERVED:
                ups = set(latent_parents(name, {name}))
                if not ups:
                    continue  # depends on no latent: a constant for the guide
                self._observed_numel[name] = max(1, int(torch.Size(node.shape).numel()))
            else:
                continue
            self.dependencies[name] = [u for u in self.sites if u in ups]  # in the order of the packed vector

    # -- the joint Gaussian ---------------------------------------------------------------------

    def _info_form(self, read: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(information vector, precision) of the auxiliary ``z``, summed from the factors."""
        like = self._init_prec_sqrts[next(iter(self.dependencies))]
        info_vec = like.new_zeros(self.latent_dim)
        precision = like.new_zeros(self.latent_dim, self.latent_dim)
        for d, upstream in self.dependencies.items():
            white_vec = read(f"{self.prefix}.white_vecs.{d}", like.new_zeros(self._factor_sizes[d]), constraints.real)
            prec_sqrt = read(f"{self.prefix}.prec_sqrts.{d}", self._init_prec_sqrts[d], constraints.real)
            index = torch.cat([torch.arange(*self._slices[u]) for u in upstream])
            info_vec = info_vec.index_add(0, index, prec_sqrt @ white_vec)
            block = prec_sqrt @ prec_sqrt.T
            precision = precision.index_put((index[:, None], index[None, :]), block, accumulate=True)
        return info_vec, precision

    def _loc_scale_params(self, read: Any) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        locs, scales = {}, {}
        for name, site in self.sites.items():
            u = site.init_unconstrained
            locs[name] = read(f"{self.prefix}.locs.{name}", u, constraints.real)
            scales[name] = read(
                f"{self.prefix}.scales.{name}", torch.full_like(u, self.init_scale), constraints.positive
            )
        return locs, scales

    def get_posterior(self) -> dist.MultivariateNormal:
        """The joint Gaussian of the auxiliary vector ``z`` (before each site's loc and scale)."""
        info_vec, precision = self._info_form(param)
        return _from_info_form(info_vec, precision)

    def _unpack(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = flat.shape[:-1]
        return {
            name: flat[..., slice(*self._slices[name])].reshape(batch + site.init_unconstrained.shape)
            for name, site in self.sites.items()
        }

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        z = sample(f"_{self.prefix}_latent", self.get_posterior(), infer={"is_auxiliary": True})
        locs, scales = self._loc_scale_params(param)
        result = {}
        for name, aux in self._unpack(z).items():
            site = self.sites[name]
            unconstrained = locs[name] + scales[name] * aux
            value = site.transform(unconstrained)
            log_jacobian = site.transform.log_abs_det_jacobian(unconstrained, value)
            log_jacobian = sum_rightmost(log_jacobian, log_jacobian.dim() - value.dim() + site.event_dim)
            log_density = -log_jacobian - scales[name].log().sum()
            result[name] = sample(name, dist.Delta(value, log_density=log_density, event_dim=site.event_dim))
        return result

    # -- summaries ------------------------------------------------------------------------------

    def _moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and covariance of the packed unconstrained latent vector."""
        info_vec, precision = self._info_form(self._stored)
        mvn = _from_info_form(info_vec, precision)
        locs, scales = self._loc_scale_params(self._stored)
        loc = torch.cat([locs[n].reshape(-1) for n in self.sites])
        scale = torch.cat([scales[n].reshape(-1) for n in self.sites])
        mean = loc + scale * mvn.mean
        cov = scale[:, None] * mvn.covariance_matrix * scale[None, :]
        return mean.detach(), cov.detach()

    def covariance(self) -> torch.Tensor:
        """The posterior covariance of the packed unconstrained latent vector (sites in model order)."""
        return self._moments()[1]

    def precision(self) -> torch.Tensor:
        """The posterior precision of the packed unconstrained latent vector, computed without inverting.

        Exactly zero between two latents that share no factor of the model.
        """
        _, precision = self._info_form(self._stored)
        _, scales = self._loc_scale_params(self._stored)
        inv_scale = 1 / torch.cat([scales[n].reshape(-1) for n in self.sites])
        return (inv_scale[:, None] * precision * inv_scale[None, :]).detach()

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The posterior median of each site: the image of the Gaussian's mean."""
        self._require_setup(args, kwargs, "median")
        mean, _ = self._moments()
        return {name: self.sites[name].transform(u).detach().clone() for name, u in self._unpack(mean).items()}

    @torch.no_grad()
    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """Marginal posterior quantiles per site, shape ``(len(quantiles), *site shape)``."""
        self._require_setup(args, kwargs, "quantiles")
        mean, cov = self._moments()
        q = quantile_tensor(quantiles, mean)
        latents = dist.Normal(mean, cov.diagonal().sqrt()).icdf(q)
        return {name: self.sites[name].transform(u).detach() for name, u in self._unpack(latents).items()}


def _from_info_form(info_vec: torch.Tensor, precision: torch.Tensor) -> dist.MultivariateNormal:
    """The Normal with this information vector and precision: mean ``precision⁻¹ info_vec``."""
    chol = torch.linalg.cholesky(precision)
    mean = torch.cholesky_solve(info_vec[:, None], chol)[:, 0]
    return dist.MultivariateNormal(mean, precision_matrix=precision, validate_args=False)

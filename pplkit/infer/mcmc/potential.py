"""From a model to the potential energy that HMC and NUTS move on, and back.

HMC samples a flat vector ``z`` of unconstrained reals. :class:`Potential` traces the
model once to find its latent sites and their supports; it then maps slices of ``z``
to latent values through ``biject_to(site.fn.support)`` and returns

    U(z) = -(log p(latents, data) + log|det J(z)|)

(up to an additive constant, which HMC never needs) and its gradient. NUTS evaluates
this thousands of times, so an evaluation is one pass of the model under one small
handler (:class:`_ScoreAt`) that sets each latent value as its site comes by and
collects the log densities, with no trace built; ``scoring.py`` adds them up in as few
torch ops as it can, since at this scale the cost of a gradient is mostly its op count.
A model with discrete latents is run under ``enum`` instead and its discrete sites summed
out exactly (``enumerated.py``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch.distributions import biject_to
from torch.distributions.constraints import Constraint

from ...handlers import block, trace
from ...handlers.enum import ENUM_DIM
from ...runtime import Handler, Message, SiteKind
from ...trace import Trace
from ...util import default_validate_args, validation_disabled
from .enumerated import EnumeratedLogJoint, plan_enumeration
from .model_checks import check_log_prob_shapes, non_finite_sites, warn_data_outside_support
from .scoring import LogDensitySum
from .transforms import Constrain, compile_transform, constrain_exactly

__all__ = ["InitStrategy", "LatentSite", "Potential"]

# Pyro's init strategies (``init_to_median``, ...): a site in, its constrained initial value out.
InitStrategy = Callable[[Message], torch.Tensor]


@dataclass(frozen=True)
class LatentSite:
    """One latent site: its slice ``start:stop`` of the flat vector and its map to the support."""

    name: str
    index: int
    shape: torch.Size  # of the constrained value
    unconstrained_shape: torch.Size
    constrain: Constrain  # biject_to(support) of the first trace, compiled (see transforms.py)
    start: int
    stop: int
    # The support's bounds depend on other latent values (e.g. Uniform(0, theta)), so
    # the transform is rebuilt from the site's distribution at every evaluation.
    dynamic: bool = False


class _ScoreAt(Handler):
    """Give each latent site its value from ``chunks`` and collect the terms of the log joint.

    Messages stop here, so handlers outside an MCMC run never see its model calls. With
    ``find_dynamic`` set, it also records the sites whose support depends on other latents.
    With ``enumerated`` set, the model runs under ``enum``: its discrete sites arrive with
    all their values, and the log joint sums them out.
    """

    def __init__(
        self,
        sites: dict[str, LatentSite],
        chunks: tuple[torch.Tensor, ...],
        find_dynamic: bool = False,
        enumerated: bool = False,
    ):
        super().__init__()
        self.sites = sites
        self.chunks = chunks
        self.log_joint: LogDensitySum | EnumeratedLogJoint = (
            EnumeratedLogJoint() if enumerated else LogDensitySum(drop_constants=True)
        )
        self.values: dict[str, torch.Tensor] = {}
        self.dynamic: set[str] | None = set() if find_dynamic else None

    def process(self, msg: Message) -> None:
        msg.stop = True
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or ENUM_DIM in msg.infer:
            return
        site = self.sites.get(msg.name)
        if site is None:
            raise ValueError(
                f"latent site '{msg.name}' was not in the model's first run; HMC and NUTS need the same "
                "latent sites in every run of the model (none created under random control flow)"
            )
        x = self.chunks[site.index]
        if site.dynamic:
            value, log_det = constrain_exactly(biject_to(msg.fn.support), x)
        else:
            value, log_det = site.constrain(x)
        if self.dynamic is not None and _moves_with_latents(msg.fn.support):
            self.dynamic.add(msg.name)
        if log_det is not None:
            self.log_joint.terms.append(log_det.sum() if log_det.dim() else log_det)
        self.values[msg.name] = value
        msg.value = value
        msg.done = True

    def postprocess(self, msg: Message) -> None:
        if isinstance(self.log_joint, EnumeratedLogJoint):
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                self.log_joint.add_site(msg)
        elif msg.kind is SiteKind.SAMPLE:
            latent_with_fixed_support = not msg.is_observed and not self.sites[msg.name].dynamic
            self.log_joint.add(msg.fn, msg.value, msg.scale, msg.mask, latent_with_fixed_support)
        elif msg.kind is SiteKind.FACTOR:
            self.log_joint.add(msg.fn, msg.value, msg.scale, msg.mask)


class _Initialize(Handler):
    """Choose each latent site's starting value while the model runs, and record it unconstrained.

    Values are chosen site by site, so a later site's support may depend on an earlier
    site's starting value. Without a strategy, each unconstrained value is uniform in
    (-2, 2), as in Stan and Pyro.
    """

    def __init__(self, strategy: InitStrategy | None) -> None:
        super().__init__()
        self.strategy = strategy
        self.unconstrained: dict[str, torch.Tensor] = {}

    def process(self, msg: Message) -> None:
        msg.stop = True

    def postprocess(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or msg.fn.support.is_discrete:
            return  # a discrete latent is summed out, not sampled: it needs no starting value
        transform = biject_to(msg.fn.support)
        prior_draw = msg.value
        if self.strategy is None:
            shape = transform.inverse_shape(prior_draw.shape)
            x = torch.rand(shape, dtype=prior_draw.dtype, device=prior_draw.device) * 4.0 - 2.0
            value = transform(x)
        else:
            value = torch.as_tensor(self.strategy(msg), dtype=prior_draw.dtype, device=prior_draw.device)
            if value.shape != prior_draw.shape:
                raise ValueError(
                    f"the init strategy gave site '{msg.name}' a value of shape {tuple(value.shape)}, "
                    f"but the site's values have shape {tuple(prior_draw.shape)}: return a value of that shape "
                    "(e.g. site['fn'].mean for init_to_mean)"
                )
            x = transform.inv(value)
        msg.value = value
        self.unconstrained[msg.name] = x


class Potential:
    """The potential energy of a model's posterior, over a flat unconstrained vector.

    Args:
        model: the model; observed sites must carry their data (``obs=`` or ``condition``).
        model_args, model_kwargs: what to call the model with.
        max_plate_nesting: how many plate dims the model uses, for the enumeration dims of
            its discrete latent sites, which are summed out (counted when not given).

    Example::

        potential = Potential(model, (data,))
        z = torch.zeros(potential.dim)
        energy, grad = potential.energy_and_grad(z)
        potential.constrain(z)  # {"loc": tensor(...), "scale": tensor(...)}
    """

    def __init__(
        self,
        model: Callable[..., Any],
        model_args: tuple = (),
        model_kwargs: dict | None = None,
        max_plate_nesting: int | None = None,
    ) -> None:
        self.model = model
        self.model_args = tuple(model_args)
        self.model_kwargs = dict(model_kwargs or {})
        with torch.no_grad(), block():  # hidden from handlers outside, like every later run
            self.prototype: Trace = trace(model).get_trace(*self.model_args, **self.model_kwargs)
        warn_data_outside_support(self.prototype)  # first: scoring such data would raise torch's unnamed error
        check_log_prob_shapes(self.prototype)
        self.enumeration = plan_enumeration(self.prototype, max_plate_nesting)
        self._scored_model = model if self.enumeration is None else self.enumeration.wrap(model)
        summed_out = () if self.enumeration is None else self.enumeration.site_names
        sites = _find_latent_sites(self.prototype, getattr(model, "__name__", "the model"), summed_out)
        self.sites: dict[str, LatentSite] = {s.name: s for s in sites}
        self.dim = sites[-1].stop
        self._sizes = [s.stop - s.start for s in sites]
        self._all_scalar = all(s.unconstrained_shape == () for s in sites)
        first_value = self.prototype.nodes[sites[0].name].value
        self.dtype = first_value.dtype
        self.device = first_value.device
        self._mark_dynamic_supports()

    def _mark_dynamic_supports(self) -> None:
        z = self.unconstrained_values_of(self.prototype).requires_grad_()
        with torch.enable_grad():
            score = self._run(z, find_dynamic=True)
        assert score.dynamic is not None
        for name in score.dynamic:
            self.sites[name] = dataclasses.replace(self.sites[name], dynamic=True)
        self.has_dynamic_supports = bool(score.dynamic)

    def _chunks(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self._all_scalar:
            return z.unbind(-1)
        return tuple(
            chunk.reshape(site.unconstrained_shape)
            for chunk, site in zip(z.split(self._sizes, dim=-1), self.sites.values())
        )

    def _run(self, z: torch.Tensor, find_dynamic: bool = False) -> _ScoreAt:
        score = _ScoreAt(self.sites, self._chunks(z), find_dynamic, self.enumeration is not None)
        with score:
            self._scored_model(*self.model_args, **self.model_kwargs)
        return score

    def energy(self, z: torch.Tensor) -> torch.Tensor:
        """U(z) as a scalar tensor, differentiable in ``z``, up to an additive constant."""
        return -self._run(z).log_joint.sum()

    def energy_and_grad(self, z: torch.Tensor) -> tuple[float, torch.Tensor]:
        """U(z) as a float (up to an additive constant), and its gradient in ``z``.

        Where a distribution that torch builds inside another (``Beta``'s ``Dirichlet``,
        ``StudentT``'s ``Chi2``, ...) refuses its arguments although validation is off,
        the point is outside the posterior's support: the energy is infinite there, which
        the samplers treat as a divergence, as Pyro's unvalidated run does.
        """
        z = z.detach().requires_grad_()
        try:
            log_joint = self._run(z).log_joint.sum()
        except ValueError as error:
            if default_validate_args() or not is_torch_validation_error(error):
                raise
            return math.inf, torch.zeros_like(z)
        # Differentiating the log joint with an output gradient of -1 gives dU/dz without a negation op.
        (grad,) = torch.autograd.grad(log_joint, z, grad_outputs=_minus_one(log_joint))
        return -log_joint.item(), grad

    def constrain(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The latent values, by site name, for a flat unconstrained vector or a batch ``(..., dim)``."""
        with torch.no_grad():
            if not self.has_dynamic_supports:
                unconstrained = self.unflatten(z)
                return {name: site.constrain(unconstrained[name])[0] for name, site in self.sites.items()}
            # The supports move with other latents: map each point by running the model.
            flat = z.reshape(-1, self.dim)
            runs = [self._run(point).values for point in flat]
            return {
                name: torch.stack([r[name] for r in runs]).reshape(z.shape[:-1] + site.shape)
                for name, site in self.sites.items()
            }

    def unconstrained_values_of(self, tr: Trace) -> torch.Tensor:
        """The flat unconstrained vector of the latent values recorded in a trace of the model."""
        parts = []
        for site in self.sites.values():
            msg = tr.nodes[site.name]
            parts.append(biject_to(msg.fn.support).inv(msg.value).reshape(-1))
        return torch.cat(parts).detach()

    def flatten(self, unconstrained: dict[str, torch.Tensor]) -> torch.Tensor:
        """One flat vector from unconstrained values by site name (Pyro's ``initial_params``)."""
        missing = [name for name in self.sites if name not in unconstrained]
        if missing:
            unknown = [name for name in unconstrained if name not in self.sites]
            raise ValueError(
                f"initial_params has no value for the latent sites {missing}"
                + (f", and {unknown} are no latent sites of the model" if unknown else "")
                + f"; give one unconstrained value for each of {list(self.sites)}"
            )
        parts = []
        for site in self.sites.values():
            value = torch.as_tensor(unconstrained[site.name], dtype=self.dtype, device=self.device)
            if value.numel() != site.stop - site.start:
                raise ValueError(
                    f"initial_params['{site.name}'] has shape {tuple(value.shape)}; the site's unconstrained "
                    f"value has shape {tuple(site.unconstrained_shape)}: give it a tensor of that shape"
                )
            parts.append(value.reshape(-1))
        return torch.cat(parts)

    def unflatten(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unconstrained values by site name, from a flat vector or a batch ``(..., dim)``."""
        batch = z.shape[:-1]
        return {s.name: z[..., s.start : s.stop].reshape(batch + s.unconstrained_shape) for s in self.sites.values()}

    def initial_point(self, init_strategy: InitStrategy | None = None, max_tries: int = 100) -> torch.Tensor:
        """A starting vector whose potential energy and gradient are finite.

        Args:
            init_strategy: a function of a site returning its constrained starting value
                (e.g. ``init_to_median`` from ``pplkit.infer.autoguide``); by default each
                unconstrained coordinate is uniform in (-2, 2).
            max_tries: how many draws to try before giving up.
        """
        for _ in range(max_tries):
            init = _Initialize(init_strategy)
            with torch.no_grad(), init:
                self.model(*self.model_args, **self.model_kwargs)
            z = self.flatten(init.unconstrained)
            if self.is_finite_at(z):
                return z
        culprits = self.non_finite_sites_at(z)
        raise ValueError(
            f"could not find a starting point with a finite log density in {max_tries} tries"
            + (f" (at the last one, {culprits})" if culprits else "")
            + ". Check that the data lie in the support of their distributions, or pass initial_params= or "
            "another init_strategy"
        )

    def non_finite_sites_at(self, z: torch.Tensor) -> str:
        """The sites whose log density is not finite at ``z``, in words, for an error message."""
        return non_finite_sites(self.model, self.model_args, self.model_kwargs, self.constrain(z))

    def is_finite_at(self, z: torch.Tensor) -> bool:
        """True when the potential energy and its gradient are finite at ``z``."""
        with validation_disabled():
            energy, grad = self.energy_and_grad(z)
        return math.isfinite(energy) and bool(torch.isfinite(grad).all())


# How torch.distributions words its argument and support checks (Distribution.__init__
# and _validate_sample); nothing else in a model's run raises a ValueError worded so.
_TORCH_VALIDATION_PREFIXES = ("Expected parameter ", "Expected value argument ", "The value argument must be within")


def is_torch_validation_error(error: ValueError) -> bool:
    """True when ``error`` is torch.distributions refusing a parameter or a value outside its support."""
    return str(error).startswith(_TORCH_VALIDATION_PREFIXES)


_MINUS_ONES: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}


def _minus_one(like: torch.Tensor) -> torch.Tensor:
    """A cached scalar -1 of ``like``'s dtype and device (autograd never writes to it)."""
    key = (like.dtype, like.device)
    if key not in _MINUS_ONES:
        _MINUS_ONES[key] = torch.tensor(-1.0, dtype=like.dtype, device=like.device)
    return _MINUS_ONES[key]


def _moves_with_latents(support: Constraint) -> bool:
    """True when a bound of ``support`` is computed from latent values (it carries their gradient)."""
    pending = [support]
    while pending:
        constraint = pending.pop()
        for value in vars(constraint).values():
            if isinstance(value, torch.Tensor) and value.requires_grad:
                return True
            if isinstance(value, Constraint):
                pending.append(value)
    return False


def _find_latent_sites(tr: Trace, model_name: str, summed_out: tuple[str, ...] = ()) -> list[LatentSite]:
    sites: list[LatentSite] = []
    start = 0
    for msg in tr.nodes.values():
        if msg.kind is SiteKind.PLATE:
            continue
        for frame in msg.cond_indep_stack:
            if frame.size != frame.full_size:
                raise ValueError(
                    f"site '{msg.name}' is in plate '{frame.name}', subsampled to {frame.size} of "
                    f"{frame.full_size}; MCMC needs the exact log density, so use the full data "
                    "(drop subsample_size=)"
                )
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or msg.name in summed_out:
            continue
        support = msg.fn.support
        transform = biject_to(support)
        shape = msg.value.shape
        unconstrained_shape = torch.Size(transform.inverse_shape(shape))
        size = unconstrained_shape.numel()
        sites.append(
            LatentSite(
                name=msg.name,
                index=len(sites),
                shape=shape,
                unconstrained_shape=unconstrained_shape,
                constrain=compile_transform(transform),
                start=start,
                stop=start + size,
            )
        )
        start += size
    if not sites:
        if summed_out:
            raise ValueError(
                f"{model_name} has only discrete latent sites ({', '.join(summed_out)}), which MCMC sums out, so "
                "there is nothing left for HMC or NUTS to sample; their exact posterior comes from "
                "infer_discrete(config_enumerate(model), first_available_dim=...) without MCMC"
            )
        raise ValueError(
            f"{model_name} has no latent sample sites, so there is nothing for MCMC to sample: every sample "
            "site is observed. Remove obs= (or the condition) from the sites whose posterior you want"
        )
    return sites

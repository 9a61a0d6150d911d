"""``AutoMessenger``: the base of the effect-based autoguides (Pyro's ``autoguide.effect``).

An ``AutoMessenger`` is both a :class:`~pplkit.poutine.guide.GuideMessenger` (a handler
that runs the model and replaces each latent draw by a posterior draw) and a
:class:`~pplkit.nn.PyroModule` whose params are created lazily, per site, the first
time the site is met: under ``locs.<site>`` and ``scales.<site>`` (and ``weights.<site>``),
as in Pyro.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any, Callable

import torch
from torch.distributions import Distribution, Transform, biject_to

from ...nn.module import PyroModule, PyroParam
from ...poutine.guide import GuideMessenger
from ...poutine.runtime import get_plates
from ...runtime import Message, SiteKind
from .base import check_init_scale
from .initialization import InitFn, discrete_site_error, init_to_feasible, init_to_mean

__all__ = ["AutoMessenger"]


class AutoMessenger(GuideMessenger, PyroModule):
    """Base class of the effect-based autoguides.

    Args:
        model: the model.
        amortized_plates: names of plates over which the guide's params are shared (one
            value for all elements), e.g. a subsampled data plate.
        init_loc_fn: per-site initial value, for the subclasses that start from one
            (default: the prior mean, else a feasible point).
        init_scale: initial scale, for the subclasses that have one.
    """

    def __init__(
        self,
        model: Callable[..., Any],
        *,
        amortized_plates: tuple[str, ...] = (),
        init_loc_fn: InitFn | None = None,
        init_scale: float = 0.1,
    ) -> None:
        PyroModule.__init__(self)
        GuideMessenger.__init__(self, model)
        self.amortized_plates = tuple(amortized_plates)
        self.init_loc_fn = init_loc_fn or default_init_loc_fn()
        self._init_scale = check_init_scale(self, init_scale)
        self._outer_plates: tuple[str, ...] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        # Params are made on first use: plates already active around the call are taken
        # as particle plates, so that no param gets a particle dim.
        self._outer_plates = tuple(f.name for f in get_plates())
        try:
            with self._pyro_context:  # so that its PyroParams are param sites SVI trains
                return GuideMessenger.__call__(self, *args, **kwargs)
        finally:
            self._outer_plates = ()

    forward = __call__

    def call(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, ...]:
        """The values of :meth:`__call__` as a tuple sorted by site name (for ``torch.jit.trace_module``)."""
        result = self(*args, **kwargs)
        return tuple(v for _, v in sorted(result.items()))

    def _site_params(self, name: str, groups: tuple[str, ...]) -> tuple[torch.Tensor, ...] | None:
        """This site's params in ``groups`` ("locs", "scales", ...), or None before they are made."""
        try:
            return tuple(attrgetter(name)(getattr(self, group)) for group in groups)
        except AttributeError:
            return None

    def _set_param(self, path: str, init: torch.Tensor, constraint: Any, event_dim: int | None) -> None:
        """``self.<path> = PyroParam(...)``, making the PyroModules along a dotted path (Pyro's deep_setattr)."""
        *parents, leaf = path.split(".")
        owner: PyroModule = self
        for part in parents:
            child = owner._modules.get(part)
            if child is None:
                child = PyroModule()
                setattr(owner, part, child)
            owner = child  # type: ignore[assignment]
        setattr(owner, leaf, PyroParam(init, constraint, event_dim))

    def _initial_unconstrained(self, name: str, prior: Distribution, init_loc_fn: InitFn) -> tuple[torch.Tensor, int]:
        """The unconstrained initial value of a site's loc, shaped for params, and its event dims."""
        transform = site_transform(name, prior)
        event_dim = transform.domain.event_dim
        with torch.no_grad():
            constrained = init_loc_fn(Message(SiteKind.SAMPLE, name, fn=prior)).detach()
            return self._adjust_plates(transform.inv(constrained), event_dim), event_dim

    @torch.no_grad()
    def _adjust_plates(self, value: torch.Tensor, event_dim: int) -> torch.Tensor:
        """An initial value for a param: averaged over shared plates, full size over subsampled ones."""
        for frame in get_plates():
            if frame.dim is None:
                continue
            dim = frame.dim - event_dim
            if frame.name in self._outer_plates or frame.name in self.amortized_plates:
                if -value.dim() <= dim:
                    value = value.mean(dim, keepdim=True)
            elif frame.size != frame.full_size and -value.dim() <= dim:
                value = periodic_repeat(value, frame.full_size, dim).contiguous()
        while value.dim() > event_dim and value.shape[0] == 1:
            value = value.squeeze(0)
        return value


def site_transform(name: str, prior: Distribution) -> Transform:
    """``biject_to(prior.support)``, or the error that names the site and the way out (discrete, sphere)."""
    try:
        return biject_to(prior.support)
    except NotImplementedError:
        if getattr(prior.support, "is_discrete", False):
            raise discrete_site_error(name, prior, "AutoMessenger") from None
        if "sphere" in repr(prior.support).lower():
            raise ValueError(
                f"site '{name}' lives on the sphere ({type(prior).__name__}), which has no unconstrained "
                "coordinates for a messenger guide to fit. Reparameterise it: "
                f"poutine.reparam(model, config={{'{name}': ProjectedNormalReparam()}}) (from pplkit.infer.reparam)"
            ) from None
        raise


def periodic_repeat(value: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """``value`` repeated along ``dim`` until it is ``size`` long (the values cycle)."""
    period = value.size(dim)
    repeats = [1] * value.dim()
    repeats[dim] = math.ceil(size / period)
    return value.repeat(*repeats).narrow(dim, 0, size)


def default_init_loc_fn() -> InitFn:
    """Pyro's default for these guides: the prior mean, or a feasible point where it has none."""
    return init_to_mean(fallback=init_to_feasible)

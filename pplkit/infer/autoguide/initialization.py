"""Where an autoguide starts: functions that pick an initial value for each latent site.

Each takes the site (a :class:`~pplkit.runtime.Message` whose ``fn`` is already
broadcast to its plates) and returns a constrained value of the site's shape. Called
with no site, each returns itself with its options bound, as in Pyro::

    AutoDelta(model, init_loc_fn=init_to_median(num_samples=50))
    AutoNormal(model, init_loc_fn=init_to_value(values={"a": torch.tensor(9.0)}))
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import torch
from torch.distributions import Independent, transform_to

from ...distributions import MaskedDistribution
from ...runtime import Handler, Message, SiteKind

__all__ = [
    "InitMessenger",
    "init_to_feasible",
    "init_to_mean",
    "init_to_median",
    "init_to_sample",
    "init_to_uniform",
    "init_to_value",
]

InitFn = Callable[[Message], torch.Tensor]


def init_to_feasible(site: Message | None = None) -> Any:
    """A point of the support that ignores the distribution's parameters: the image of 0
    in unconstrained space (1 for positive sites, the middle of an interval, ...)."""
    if site is None:
        return init_to_feasible
    value = site.fn.sample().detach()
    t = transform_to(site.fn.support)
    return t(torch.zeros_like(t.inv(value)))


def init_to_sample(site: Message | None = None) -> Any:
    """A random draw from the prior."""
    if site is None:
        return init_to_sample
    return site.fn.sample().detach()


def init_to_median(
    site: Message | None = None, num_samples: int = 15, *, fallback: InitFn | None = init_to_feasible
) -> Any:
    """The median of ``num_samples`` prior draws; ``fallback`` for multivariate sites or failures."""
    if site is None:
        return functools.partial(init_to_median, num_samples=num_samples, fallback=fallback)
    if not _is_multivariate(site.fn):
        try:
            samples = site.fn.sample((num_samples,))
            value = samples.median(dim=0).values
            if not bool(torch.isnan(value).any()) and _in_support(site.fn, value):
                return value
        except (RuntimeError, ValueError, NotImplementedError):
            pass
    return _fall_back(site, fallback, "init_to_median")


def init_to_mean(site: Message | None = None, *, fallback: InitFn | None = init_to_median) -> Any:
    """The prior mean; ``fallback`` where it is undefined (e.g. Cauchy)."""
    if site is None:
        return functools.partial(init_to_mean, fallback=fallback)
    try:
        value = site.fn.mean.detach()
        if not bool(torch.isnan(value).any()) and _in_support(site.fn, value):
            return value.expand(site.fn.shape()).clone()
    except (NotImplementedError, ValueError, RuntimeError):
        pass
    return _fall_back(site, fallback, "init_to_mean")


def init_to_uniform(site: Message | None = None, radius: float = 2.0) -> Any:
    """Uniform in ``(-radius, radius)`` in unconstrained space, mapped to the support."""
    if site is None:
        return functools.partial(init_to_uniform, radius=radius)
    value = site.fn.sample().detach()
    t = transform_to(site.fn.support)
    u = t.inv(value)
    return t(torch.rand_like(u) * (2 * radius) - radius)


def init_to_value(
    site: Message | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    fallback: InitFn | None = init_to_uniform,
) -> Any:
    """The value given for the site in ``values``; ``fallback`` for the other sites."""
    if site is None:
        return functools.partial(init_to_value, values=dict(values or {}), fallback=fallback)
    values = values or {}
    if site.name in values:
        return torch.as_tensor(values[site.name], dtype=torch.get_default_dtype())
    return _fall_back(site, fallback, "init_to_value")


def _fall_back(site: Message, fallback: InitFn | None, who: str) -> torch.Tensor:
    if fallback is None:
        raise ValueError(f"{who}: no initial value for site '{site.name}' and fallback=None")
    return fallback(site)


def _is_multivariate(fn: Any) -> bool:
    while isinstance(fn, (Independent, MaskedDistribution)):
        fn = fn.base_dist
    return any(size > 1 for size in fn.event_shape)


def _in_support(fn: Any, value: torch.Tensor) -> bool:
    try:
        return bool(fn.support.check(value).all())
    except (NotImplementedError, RuntimeError):
        return True


class InitMessenger(Handler):
    """Give every latent sample site its value from ``init_fn`` instead of a prior draw.

    Autoguides trace the model under it once, to read off each site's shape and
    starting point.

    Example::

        with trace() as tr, InitMessenger(init_to_median):
            model(data)
    """

    def __init__(self, init_fn: InitFn, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(fn)
        self.init_fn = init_fn

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or msg.value is not None:
            return
        if msg.fn.support.is_discrete:
            raise discrete_site_error(msg.name, msg.fn)
        with torch.no_grad():
            value = self.init_fn(msg)
        msg.value = _checked(msg, value, self.init_fn)


def discrete_site_error(name: str, fn: Any, guide_name: str = "AutoNormal") -> ValueError:
    """The error for a discrete latent site met by a continuous guide, with the ways out (as Pyro's)."""
    return ValueError(
        f"site '{name}' has a {type(fn).__name__} prior, whose support {fn.support} is not continuous. "
        "Autoguides fit continuous latent variables: enumerate the site (see "
        "https://pyro.ai/examples/enumeration.html) and hide it from the autoguide, "
        f"{guide_name}(poutine.block(model, hide=['{name}'])), or write a guide for it by hand "
        "(e.g. a Bernoulli with a learnable probability)"
    )


def _checked(msg: Message, value: Any, init_fn: InitFn) -> torch.Tensor:
    name = getattr(init_fn, "__name__", None) or getattr(getattr(init_fn, "func", None), "__name__", repr(init_fn))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} returned {type(value).__name__} for site '{msg.name}'; it must return a tensor")
    shape = msg.fn.shape()
    if value.shape != shape:
        try:
            value = value.expand(shape).clone()
        except RuntimeError:
            raise ValueError(
                f"{name} gave site '{msg.name}' an initial value of shape {tuple(value.shape)}, but the site has "
                f"shape {tuple(shape)} (batch {tuple(msg.fn.batch_shape)}, event {tuple(msg.fn.event_shape)})"
            ) from None
    if not _in_support(msg.fn, value):
        shown = value.tolist() if value.numel() <= 6 else f"a tensor of shape {tuple(value.shape)}"
        raise ValueError(
            f"{name} gave site '{msg.name}' the initial value {shown}, outside the support {msg.fn.support} "
            f"of its {type(msg.fn).__name__} prior; give a value inside the support"
        )
    return value.detach()

"""The statements a model is written in: ``sample``, ``param``, ``deterministic``, ``factor``.

Each builds a :class:`~pplkit.runtime.Message` and sends it through the active
handlers; with no handler active they simply draw, read or return a value.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.constraints import Constraint

from .distributions import Delta, Unit
from .distributions.wrap import as_pplkit_distribution
from .params import current_param_store
from .runtime import Message, SiteKind, apply_stack, get_handler_stack

__all__ = ["deterministic", "factor", "param", "sample"]


def _check_name(name: Any, statement: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{statement}: the site name must be a string, got {name!r}")


def not_a_distribution(name: str, fn: Any) -> str:
    """The error for ``sample(name, fn)`` when ``fn`` is not a distribution."""
    hint = (
        f" To fix the value, use deterministic('{name}', value) or condition(model, {{'{name}': value}})."
        if isinstance(fn, (int, float, torch.Tensor))
        else ""
    )
    return (
        f"sample('{name}', fn): fn must be a distribution such as dist.Normal(0., 1.), got {type(fn).__name__}.{hint}"
    )


def sample(
    name: str,
    fn: Distribution,
    *args: Any,
    obs: torch.Tensor | float | None = None,
    obs_mask: torch.Tensor | None = None,
    infer: dict[str, Any] | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """Draw a random variable named ``name`` from ``fn``, or observe ``obs``.

    Args:
        name: the site's name, unique within one run of the model.
        fn: a distribution, e.g. ``dist.Normal(0., 1.)``.
        obs: observed data; the site then scores the data instead of sampling.
        obs_mask: a bool tensor, one entry per event of ``fn`` (its batch shape): where
            True the event is observed from ``obs``, where False it is imputed. As in
            Pyro this makes three sites: ``<name>_observed`` (scored where the mask is
            True), ``<name>_unobserved`` (a latent site, masked to the missing events,
            which a guide must sample) and ``<name>``, a deterministic site joining the two.
        infer: options for inference algorithms.

    Example::

        z = sample("z", dist.Normal(0.0, 1.0))
        sample("x", dist.Normal(z, 1.0), obs=torch.tensor(0.5))
        with plate("data", 3):
            sample("y", dist.Normal(z, 1.0), obs=torch.tensor([1.0, 0.0, 2.0]),
                   obs_mask=torch.tensor([True, False, True]))
    """
    _check_name(name, "sample")
    if obs_mask is not None:
        return _masked_observe(name, fn, obs, obs_mask, args, kwargs, infer)
    # Under handlers, a handler may stand in for the distribution (Pyro's effect_handlers
    # tutorial samples from lazy values), so the check waits for the default sampling step.
    if not isinstance(fn, Distribution):
        if not get_handler_stack():
            raise TypeError(not_a_distribution(name, fn))
    else:
        fn = as_pplkit_distribution(fn)
    if obs is not None:
        obs = _as_obs_tensor(obs, fn)
    if not get_handler_stack():
        if obs is not None:
            # As in Pyro: with no inference running, nothing can use the observation.
            warnings.warn(
                f"trying to observe a value outside of inference at {name}: with no handler active, "
                "sample(..., obs=...) just returns obs. Run the model under SVI, MCMC, Predictive or "
                "poutine.trace to score the data.",
                RuntimeWarning,
                stacklevel=2,
            )
            return obs
        return fn.rsample() if fn.has_rsample else fn.sample()
    infer = dict(infer) if infer else {}
    # As Pyro: infer={"is_observed": False} gives a latent site a value (a reparam's
    # auxiliary site, carrying the value it was given from outside back to its noise).
    is_observed = infer.pop("is_observed", obs is not None)
    msg = Message(
        kind=SiteKind.SAMPLE,
        name=name,
        fn=fn,
        value=obs,
        is_observed=is_observed,
        args=args,
        kwargs=kwargs,
        infer=infer,
    )
    return apply_stack(msg).value


def _as_obs_tensor(obs: Any, fn: Distribution) -> torch.Tensor:
    """``obs`` as a tensor the distribution can score.

    Integer and bool data (0/1 labels, counts, often int64 from pandas or numpy) become
    floats: torch's Bernoulli cannot score an int64 tensor, and every other family
    scores integer-valued floats the same. Categorical keeps its integers, which index.
    """
    if not isinstance(obs, torch.Tensor):
        obs = torch.as_tensor(obs, dtype=torch.get_default_dtype() if isinstance(obs, float) else None)
    if not (obs.is_floating_point() or obs.is_complex()) and not isinstance(fn, torch.distributions.Categorical):
        obs = obs.to(torch.get_default_dtype())
    return obs


def _masked_observe(
    name: str,
    fn: Distribution,
    obs: torch.Tensor | float | None,
    obs_mask: torch.Tensor,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    infer: dict[str, Any] | None,
) -> torch.Tensor:
    """``sample(..., obs_mask=)``: the observed events, the imputed ones, and the two joined."""
    from .handlers.scale import mask  # handlers import the runtime, not this module; keep it that way

    if not (isinstance(obs_mask, torch.Tensor) and obs_mask.dtype == torch.bool):
        raise TypeError(f"sample('{name}'): obs_mask must be a bool tensor, got {obs_mask!r}")
    with mask(mask=obs_mask):
        observed = sample(f"{name}_observed", fn, *args, obs=obs, infer=infer, **kwargs)
    with mask(mask=~obs_mask):
        unobserved = sample(f"{name}_unobserved", fn, *args, infer=infer, **kwargs)
    event_dim = len(fn.event_shape)
    try:
        value = torch.where(obs_mask.reshape(obs_mask.shape + (1,) * event_dim), observed, unobserved)
    except RuntimeError as error:
        shape = torch.broadcast_shapes(observed.shape, unobserved.shape)
        batch_shape = tuple(shape[: len(shape) - event_dim])
        raise ValueError(
            f"sample('{name}'): Invalid obs_mask shape {tuple(obs_mask.shape)}; it needs one entry per event, "
            f"a shape that broadcasts to the batch shape {batch_shape} (the event shape "
            f"{tuple(fn.event_shape)} is not part of it). For a multivariate site mask whole events, e.g. "
            "obs_mask=mask.all(-1)."
        ) from error
    return deterministic(name, value, event_dim=event_dim)


def param(
    name: str,
    init: torch.Tensor | float | Callable[[], torch.Tensor] | None = None,
    constraint: Constraint | None = None,
    event_dim: int | None = None,
) -> torch.Tensor:
    """A learnable parameter, created from ``init`` the first time and kept in the param store.

    Args:
        name: the param's name in the store.
        init: its initial (constrained) value, or a function returning it. Used only
            when the param does not exist yet; ``param(name)`` reads an existing param back.
        constraint: where the value must lie, e.g. ``constraints.positive``; ``real``
            when not given. Once the param exists its stored constraint is used.
        event_dim: how many rightmost dims are one event; lets a subsampled plate
            hand out only the rows of the current subsample.

    Example::

        sigma = param("sigma", torch.tensor(1.0), constraint=constraints.positive)
    """
    _check_name(name, "param")
    if not get_handler_stack():
        return current_param_store().get_param(name, init, constraint, event_dim)
    msg = Message(kind=SiteKind.PARAM, name=name, args=(init, constraint, event_dim))
    msg.kwargs["constraint"] = constraints.real if constraint is None else constraint
    return apply_stack(msg).value


def deterministic(name: str, value: torch.Tensor, event_dim: int | None = None) -> torch.Tensor:
    """Record ``value``, a function of other sites, under ``name`` so it shows in traces and predictions.

    Example::

        mean = deterministic("mean", a + b * x)
    """
    _check_name(name, "deterministic")
    value = torch.as_tensor(value)
    if not get_handler_stack():
        return value
    event_dim = value.dim() if event_dim is None else event_dim
    msg = Message(
        kind=SiteKind.DETERMINISTIC,
        name=name,
        fn=Delta(value, event_dim=event_dim),
        value=value,
        is_observed=True,
    )
    return apply_stack(msg).value


def factor(name: str, log_factor: torch.Tensor | float, *, has_rsample: bool | None = None) -> None:
    """Add ``log_factor`` to the model's log density, under the name ``name``.

    Args:
        has_rsample: needed in a guide only, as in Pyro: whether ``log_factor`` comes from
            reparameterised sampling (True: its gradient is used as it is) or not (False:
            it gets a score-function term).

    Example::

        factor("soft_constraint", -((x - 1.0) ** 2))
    """
    _check_name(name, "factor")
    log_factor = torch.as_tensor(log_factor)
    if not get_handler_stack():
        return
    unit = Unit(log_factor, has_rsample=has_rsample)
    msg = Message(
        kind=SiteKind.FACTOR,
        name=name,
        fn=unit,
        value=unit.sample(),
        is_observed=True,
    )
    apply_stack(msg)

"""The statements a model is written in: ``sample``, ``param``, ``deterministic``, ``factor``.

Each builds a :class:`~pplkit.runtime.Message` and sends it through the active
handlers; with no handler active they simply draw, read or return a value.
"""

from __future__ import annotations

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
    infer: dict[str, Any] | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """Draw a random variable named ``name`` from ``fn``, or observe ``obs``.

    Args:
        name: the site's name, unique within one run of the model.
        fn: a distribution, e.g. ``dist.Normal(0., 1.)``.
        obs: observed data; the site then scores the data instead of sampling.
        infer: options for inference algorithms.

    Example::

        z = sample("z", dist.Normal(0.0, 1.0))
        sample("x", dist.Normal(z, 1.0), obs=torch.tensor(0.5))
    """
    _check_name(name, "sample")
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
            return obs
        return fn.rsample() if fn.has_rsample else fn.sample()
    msg = Message(
        kind=SiteKind.SAMPLE,
        name=name,
        fn=fn,
        value=obs,
        is_observed=obs is not None,
        args=args,
        kwargs=kwargs,
        infer=dict(infer) if infer else {},
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


def factor(name: str, log_factor: torch.Tensor | float) -> None:
    """Add ``log_factor`` to the model's log density, under the name ``name``.

    Example::

        factor("soft_constraint", -((x - 1.0) ** 2))
    """
    _check_name(name, "factor")
    log_factor = torch.as_tensor(log_factor)
    if not get_handler_stack():
        return
    unit = Unit(log_factor)
    msg = Message(
        kind=SiteKind.FACTOR,
        name=name,
        fn=unit,
        value=unit.sample(),
        is_observed=True,
    )
    apply_stack(msg)

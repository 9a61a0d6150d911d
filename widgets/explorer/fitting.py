"""One fit of the explorer: SVI with the chosen guide on the wrapped model, then posterior samples.

Kept free of widgets so that it can be read (and tested) as plain inference code:
each fit gets a fresh param store, so fits never share or clobber params, and the
user's own store is never touched.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import (
    AutoDelta,
    AutoGuide,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
    AutoNormal,
)
from pplkit.infer.mcmc import MCMC, NUTS
from pplkit.optim import Adam
from pplkit.params import ParamStore, use_param_store

from ..training.convergence import Convergence, assess
from ..views.draws import Samples, sample_predictive
from ..views.toggles import Toggles

__all__ = ["AUTOGUIDES", "BUDGET_FACTOR", "FitRequest", "FitResult", "Cancelled", "fit", "make_guide",
           "reference_samples"]

# A fit that has not levelled off after the requested steps keeps going, up to this many
# times the request, before it is shown as "not converged": a learner asked for an answer.
BUDGET_FACTOR = 4

AUTOGUIDES: dict[str, Any] = {
    "AutoDelta": AutoDelta,
    "AutoNormal": AutoNormal,
    "AutoMultivariateNormal": AutoMultivariateNormal,
    "AutoLowRankMultivariateNormal": AutoLowRankMultivariateNormal,
}


class Cancelled(Exception):
    """Raised inside a fit (from a hook) when a newer change made it pointless."""


@dataclass(frozen=True)
class FitRequest:
    """Everything one fit depends on; two equal requests give fits of the same model and guide."""

    toggles: Toggles
    guide: str
    num_steps: int
    lr: float
    reference: bool = False


@dataclass
class FitResult:
    """What a finished fit leaves behind."""

    request: FitRequest
    guide: Any
    store: ParamStore
    losses: list[float]
    posterior: Samples
    reference: Samples | None = None
    convergence: Convergence | None = None  # the verdict on ``losses``; never None after fit()

    @property
    def converged(self) -> bool:
        return self.convergence is not None and self.convergence.converged


def is_autoguide_factory(spec: Any) -> bool:
    """An autoguide class (or a ``functools.partial`` of one), as opposed to a hand-written guide."""
    target = spec.func if isinstance(spec, functools.partial) else spec
    return isinstance(target, type) and issubclass(target, AutoGuide)


def make_guide(spec: Any, fit_model: Callable[..., Any], toggles: Toggles) -> Any:
    """A guide for ``fit_model``: autoguides are built on it; hand-written guides are adapted to the toggles."""
    if is_autoguide_factory(spec):
        return spec(fit_model)
    if callable(spec):
        return toggles.guide(spec)
    raise TypeError(f"a guide must be an autoguide class (e.g. AutoNormal) or a guide function, got {spec!r}")


def fit(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    request: FitRequest,
    guides: Mapping[str, Any],
    *,
    on_step: Callable[[Any], Any] | None = None,
    on_extend: Callable[[int], Any] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    num_samples: int = 500,
    vectorize: bool = True,
) -> FitResult | None:
    """Fit ``request``; returns None when cancelled part-way.

    The fit takes ``request.num_steps`` steps, then asks :func:`~widgets.training.convergence.assess`
    whether the loss has levelled off; if not, it continues half as many steps again at a
    time, up to ``BUDGET_FACTOR`` times the request. The verdict is in ``result.convergence``.
    ``on_step`` receives each SVI step record (the ELBO chart is one); ``on_extend``
    the new total number of steps whenever the fit decides to continue.
    """
    toggles = request.toggles
    fit_model = toggles.fit_model(model)
    store = ParamStore()
    with use_param_store(store):
        guide = make_guide(guides[request.guide], fit_model, toggles)
        svi = SVI(fit_model, guide, Adam({"lr": request.lr}), Trace_ELBO(), param_store=store)

        def callback(record: Any) -> bool | None:
            if on_step is not None:
                on_step(record)
            return False if cancelled() else None

        losses = svi.run(request.num_steps, *args, callback=callback, **kwargs)
        verdict = assess(losses)
        budget = BUDGET_FACTOR * request.num_steps
        more = max(request.num_steps // 2, 1)
        while not verdict.converged and not cancelled() and len(losses) < budget:
            if on_extend is not None:
                on_extend(min(len(losses) + more, budget))
            losses += svi.run(min(more, budget - len(losses)), *args, callback=callback, **kwargs)
            verdict = assess(losses)
        if cancelled():
            return None
        posterior, _ = sample_predictive(toggles.model(model), args, kwargs, num_samples, guide=guide,
                                         vectorize=vectorize)
    return FitResult(request, guide, store, losses, posterior, convergence=verdict)


def reference_samples(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    toggles: Toggles,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    num_samples: int = 300,
    warmup_steps: int = 200,
    vectorize: bool = True,
) -> Samples | None:
    """NUTS samples of the wrapped model's posterior, pushed through the model (None if cancelled)."""

    def stop_if_cancelled(*_: Any) -> None:
        if cancelled():
            raise Cancelled

    mcmc = MCMC(NUTS(toggles.fit_model(model)), num_samples=num_samples, warmup_steps=warmup_steps,
                hook_fn=stop_if_cancelled, disable_progbar=True)
    with use_param_store(ParamStore()):
        try:
            mcmc.run(*args, **kwargs)
        except Cancelled:
            return None
        samples, _ = sample_predictive(toggles.model(model), args, kwargs, num_samples,
                                       posterior_samples=mcmc.get_samples(), vectorize=vectorize)
    return samples

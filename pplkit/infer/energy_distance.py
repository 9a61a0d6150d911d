"""``EnergyDistance``: fit a guide by comparing posterior predictive draws with the data.

A likelihood-free loss, as Pyro's ``pyro.infer.EnergyDistance``. With ``Z, Z'`` drawn
from the guide and ``X, X'`` from the model's likelihood given them,

    loss = E ||X - x||^beta  -  1/2 E ||X - X'||^beta  -  prior_scale * E log p(Z)

It needs only samples of the likelihood (no density), so the guide and the observed
sites' distributions must be reparameterisable; the latent sites' log densities are
used only when ``prior_scale > 0``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..handlers import replay, trace, uncondition
from ..plate import plate
from ..runtime import SiteKind
from ..trace import Trace
from ..util import validation_enabled
from .traces import run_guide_and_model
from .util import call_user_fn, guess_max_plate_nesting, tracing_for_structure

__all__ = ["EnergyDistance"]


class EnergyDistance:
    """Posterior predictive energy distance, with optional regularisation by the prior.

    Args:
        beta: the exponent, in (0, 2); small values suit heavy-tailed data.
        prior_scale: weight of ``-E log p(Z)``; 0 (the default) leaves the model's
            latent log densities uncomputed.
        num_particles: guide draws per estimate, at least 2 (pairs of them estimate
            the second term).
        max_plate_nesting: how many plate dims the model uses; guessed when not given.

    Like Pyro's, it is a callable loss for ``SVI``, and :meth:`loss` raises
    ``NotImplementedError``.

    Example::

        svi = SVI(model, guide, Adam({"lr": 0.01}), EnergyDistance(num_particles=8))
    """

    def __init__(
        self,
        beta: float = 1.0,
        prior_scale: float = 0.0,
        num_particles: int = 2,
        max_plate_nesting: float = float("inf"),
    ) -> None:
        if not (isinstance(beta, (int, float)) and 0 < beta < 2):
            raise ValueError(f"EnergyDistance: beta must be in the open interval (0, 2), got {beta!r}")
        if not (isinstance(prior_scale, (int, float)) and prior_scale >= 0):
            raise ValueError(f"EnergyDistance: prior_scale must be >= 0, got {prior_scale!r}")
        if not (isinstance(num_particles, int) and num_particles >= 2):
            raise ValueError(f"EnergyDistance: num_particles must be an int >= 2, got {num_particles!r}")
        self.beta = beta
        self.prior_scale = prior_scale
        self.num_particles = num_particles
        self.vectorize_particles = True
        self.max_plate_nesting = max_plate_nesting

    def __call__(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any, **kwargs: Any) -> torch.Tensor:
        """The loss, differentiable in the guide's params (and the model's, with ``prior_scale > 0``)."""
        model_trace = self._model_trace(model, guide, args, kwargs)
        observed = [
            m for m in model_trace.nodes.values() if m.kind is SiteKind.SAMPLE and m.infer.get("was_observed")
        ]
        if not observed:
            raise ValueError("EnergyDistance: found no observations; the model needs sample(..., obs=data) sites")
        n = self.num_particles
        first, second = torch.tril_indices(n, n, -1)  # every unordered pair of particles
        error: torch.Tensor | float = 0.0
        spread: torch.Tensor | float = 0.0
        for msg in observed:
            if not msg.fn.has_rsample:
                raise ValueError(
                    f"EnergyDistance: observed site '{msg.name}' has a distribution without rsample "
                    f"({type(msg.fn).__name__}); the loss needs reparameterised likelihoods"
                )
            data = torch.as_tensor(msg.infer["obs"])
            event_dim = len(msg.fn.event_shape)
            batch_shape = data.shape[: data.dim() - event_dim]
            weight = _per_row(msg.scale, msg.mask, batch_shape)
            data = data.reshape(batch_shape.numel(), -1)
            draws = msg.value.reshape(n, batch_shape.numel(), -1)
            error = error + _weighted_squares(draws - data, weight)
            spread = spread + _weighted_squares(draws[first] - draws[second], weight)
        assert isinstance(error, torch.Tensor) and isinstance(spread, torch.Tensor)
        energy = self._pow(error).mean() - 0.5 * self._pow(spread).mean()
        if self.prior_scale > 0:
            latent = [m for m in model_trace.nodes.values() if m.kind is SiteKind.SAMPLE and not m.is_observed]
            model_trace.compute_log_prob(lambda name, msg: msg in latent)
            log_prior = sum((m.log_prob.sum() for m in latent if m.log_prob is not None), torch.zeros(()))
            energy = energy - self.prior_scale * log_prior
        return energy

    def loss(self, *args: Any, **kwargs: Any) -> float:
        """Not implemented, as in Pyro: the energy distance is given only as a surrogate loss."""
        raise NotImplementedError("EnergyDistance implements only the surrogate loss: call it, or use it in SVI")

    def _pow(self, squared: torch.Tensor) -> torch.Tensor:
        return squared.sqrt() if self.beta == 1 else squared.pow(self.beta / 2)

    def _model_trace(
        self, model: Callable[..., Any], guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Trace:
        if self.max_plate_nesting == float("inf"):
            # Guessing runs model and guide once; no log densities, which may be undefined here.
            with validation_enabled(False), tracing_for_structure():
                model_trace, guide_trace, _ = run_guide_and_model(model, guide, args, kwargs)
            self.max_plate_nesting = guess_max_plate_nesting(model_trace, guide_trace)
        particles = plate("num_particles_vectorized", self.num_particles, dim=-(int(self.max_plate_nesting) + 1))
        with trace() as guide_tracer, particles:
            call_user_fn(guide, "guide", args, kwargs)
        guide_trace = guide_tracer.trace
        for msg in guide_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE and not msg.fn.has_rsample:
                raise ValueError(
                    f"EnergyDistance: guide site '{msg.name}' is not reparameterisable ({type(msg.fn).__name__}); "
                    "the loss needs a fully reparameterised guide"
                )
        particles = plate("num_particles_vectorized", self.num_particles, dim=-(int(self.max_plate_nesting) + 1))
        with trace() as model_tracer, uncondition(), replay(trace=guide_trace), particles:
            call_user_fn(model, "model", args, kwargs)
        return model_tracer.trace


def _per_row(scale: Any, mask: Any, batch_shape: torch.Size) -> torch.Tensor | None:
    """The site's scale times its mask, one number per data row (None when neither varies)."""
    weight = torch.as_tensor(scale if scale is not None else 1.0, dtype=torch.get_default_dtype())
    if mask is not None and mask is not True:
        weight = weight * torch.as_tensor(mask)
    if weight.dim() == 0 and float(weight) == 1.0:
        return None
    return weight.expand(batch_shape).reshape(-1)


def _weighted_squares(diff: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Per particle: the squared norm of each row's difference, weighted per row, summed over rows."""
    squares = (diff * diff).sum(-1)
    if weight is not None:
        squares = squares * weight
    return squares.sum(-1)

"""``TraceTailAdaptive_ELBO``: gradients of the tail-adaptive f-divergence (Wang, Liu & Liu, 2018).

With particles ``z_i ~ q`` and weights ``w_i = p(x, z_i) / q(z_i)``, the gradient is
that of ``-sum_i gamma_i log w_i / sum_i gamma_i`` where ``gamma_i`` is the number of
particles with a weight at least ``w_i``, to the power ``tail_adaptive_beta`` (-1 by
default): the heavier the tail of the weights, the more the large-weight particles
count. As in Pyro, only gradients are given (``loss`` raises), the guide must be
fully reparameterised, and particles must be vectorised.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch

from ..runtime import SiteKind
from ..trace import Trace, compute_site_log_prob
from .elbo import ParticleTerms, Trace_ELBO

__all__ = ["TraceTailAdaptive_ELBO"]


class TraceTailAdaptive_ELBO(Trace_ELBO):
    """The tail-adaptive f-divergence, for SVI with vectorised particles.

    Example::

        elbo = TraceTailAdaptive_ELBO(num_particles=16, vectorize_particles=True)
        svi = SVI(model, guide, Adam({"lr": 0.01}), elbo)   # step() returns the surrogate's value
    """

    def loss(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
        """Not implemented, as in Pyro: only the gradient of this divergence is estimated."""
        raise NotImplementedError(
            "TraceTailAdaptive_ELBO estimates only gradients, so it has no loss; monitor training with "
            "Trace_ELBO().loss(model, guide, ...)"
        )

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        if not self.vectorize_particles:
            raise NotImplementedError(
                "TraceTailAdaptive_ELBO needs vectorize_particles=True (and num_particles > 1), as in Pyro"
            )
        n = self.num_particles
        if n == 1:
            warnings.warn(
                "TraceTailAdaptive_ELBO with num_particles=1 is Trace_ELBO; use more particles for the "
                "adaptive divergence",
                stacklevel=2,
            )
        log_p = torch.zeros(n)
        log_q = torch.zeros(n)
        for msg in model_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                compute_site_log_prob(msg, "model")
                log_p = log_p + _per_particle(msg.log_prob, n)
        for msg in guide_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE:
                if not msg.fn.has_rsample:
                    raise NotImplementedError(
                        f"TraceTailAdaptive_ELBO: guide site '{msg.name}' is not reparameterisable "
                        f"({type(msg.fn).__name__}); this estimator needs a fully reparameterised guide"
                    )
                compute_site_log_prob(msg, "guide")
                log_q = log_q + _per_particle(msg.log_prob, n)
        log_w = log_p - log_q
        # gamma_i = #{j : w_j >= w_i} ** beta: the empirical tail count of each particle's weight.
        tail_count = (log_w.detach().unsqueeze(0) >= log_w.detach().unsqueeze(1)).sum(1).to(log_w.dtype)
        gamma = tail_count.pow(self.tail_adaptive_beta)
        weighted = (gamma * log_w).sum() / gamma.sum()
        # The base class averages over the n particles of a vectorised trace; the surrogate has
        # no split into likelihood and KL, so it is reported whole as the first.
        return ParticleTerms(n * weighted, 0.0, n * weighted, torch.zeros(()))


def _per_particle(log_prob: torch.Tensor | None, n: int) -> torch.Tensor:
    assert log_prob is not None
    if log_prob.dim() == 0:
        return log_prob.expand(n) / n  # a site outside the particles' plate: its share per particle
    return log_prob.reshape(n, -1).sum(-1)

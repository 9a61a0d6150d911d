"""``TraceTMC_ELBO``: Tensor Monte Carlo, an estimate of log p(x) from K samples per site.

Sites marked ``infer={"enumerate": "parallel", "num_samples": K}`` (or all at once
with ``config_enumerate(default="parallel", num_samples=K)``) draw K samples, each
along an enumeration dim of its own; from the guide when the guide has the site, else
from the model's prior. Every combination of those samples is then an importance
sample, and the estimate is

    log  (1 / prod K)  sum over the combinations of  p(x, z) / q(z)

summed out dim by dim, plate by plate, with the contraction ``TraceEnum_ELBO`` uses
(:func:`~pplkit.infer.enum.contract`): inside a plate each element draws its own K
samples. Sites enumerated over their support (no ``num_samples``) are summed exactly,
as in ``TraceEnum_ELBO``. The estimate is unbiased for p(x) in exp-space, so its log
is a lower bound on log p(x) that tightens as K grows (Aitchison, 2018).

Gradients: reparameterised samples carry theirs; a site sampled without
reparameterisation adds ``log q - stop_gradient(log q)`` inside the sum (DiCE), which
has value zero and gives the score-function gradient of each term it weighs, as in Pyro.
"""

from __future__ import annotations

import math

import torch

from ..handlers.enum import ENUM_DIM
from ..runtime import Message, SiteKind
from ..trace import Trace, compute_site_log_prob
from .elbo import ParticleTerms
from .enum import EnumFactors, Ordinal, contract, ordinal_of
from .traceenum_elbo import TraceEnum_ELBO

__all__ = ["TraceTMC_ELBO"]


class TraceTMC_ELBO(TraceEnum_ELBO):
    """The Tensor Monte Carlo estimate of log p(x); its loss is its negative.

    Args:
        max_plate_nesting: how many plate dims the model uses; sample dims start left
            of them. Guessed (by running model and guide once) when not given.
        num_particles: independent estimates averaged.

    Example::

        guide = config_enumerate(guide, default="parallel", num_samples=16)
        svi = SVI(model, guide, Adam({"lr": 0.05}), TraceTMC_ELBO(max_plate_nesting=1))

    As in Pyro, a site outside a plate must not depend on a site inside it.
    """

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        # Sample dims live left of every plate: the shape check skips those.
        nesting = max(
            (-f.dim for t in (model_trace, guide_trace) for m in t.nodes.values() for f in m.cond_indep_stack
             if f.dim is not None),
            default=0,
        )
        factors: list[tuple[Ordinal, torch.Tensor]] = []
        enum_dims: dict[int, Ordinal] = {}
        enum_sites: dict[int, str] = {}
        for msg in guide_trace.nodes.values():
            if msg.kind is not SiteKind.SAMPLE or msg.is_observed:
                continue
            compute_site_log_prob(msg, "guide", max_plate_nesting=nesting)
            _note_dim(msg, enum_dims, enum_sites)
            if ENUM_DIM in msg.infer and msg.infer.get("num_samples") is None:
                continue  # summed over its support: -log q and its DiCE factor +log q cancel
            assert msg.log_prob is not None
            factors.append((ordinal_of(msg), _dice(msg) - msg.log_prob))
        for msg in model_trace.nodes.values():
            if msg.kind is not SiteKind.SAMPLE and msg.kind is not SiteKind.FACTOR:
                continue
            compute_site_log_prob(msg, "model", max_plate_nesting=nesting)
            assert msg.log_prob is not None
            term = msg.log_prob
            if msg.kind is SiteKind.SAMPLE and not msg.is_observed and msg.name not in guide_trace.nodes:
                _note_dim(msg, enum_dims, enum_sites)
                if msg.infer.get("num_samples") is not None:
                    # Drawn from the prior: p / q = 1, and the draw's own gradient terms.
                    term = term - term + _dice(msg)
            factors.append((ordinal_of(msg), term))
        plates = {
            f.name: (f.dim, f.size)
            for t in (model_trace, guide_trace)
            for m in t.nodes.values()
            for f in m.cond_indep_stack
            if f.dim is not None
        }
        pieces = contract(EnumFactors(factors, enum_dims, enum_sites, plates))
        estimate = torch.stack([t.sum() for _, t in pieces]).sum() if pieces else torch.zeros(())
        # The estimate is not a sum of a likelihood and a KL; report it whole.
        return ParticleTerms(estimate, 0.0, estimate, torch.zeros(()))


def _note_dim(msg: Message, enum_dims: dict[int, Ordinal], enum_sites: dict[int, str]) -> None:
    dim = msg.infer.get(ENUM_DIM)
    if dim is None:
        return
    if dim in enum_sites and enum_sites[dim] != msg.name:
        raise NotImplementedError(
            f"sites '{enum_sites[dim]}' and '{msg.name}' share enumeration dim {dim} (a markov chain); pplkit's "
            "TraceTMC_ELBO sums out one variable per dim. Use markov(keep=True) or plain loops"
        )
    enum_dims[dim] = ordinal_of(msg)
    enum_sites[dim] = msg.name


def _dice(msg: Message) -> torch.Tensor:
    """``-log K`` for a site drawn K times, plus ``log q - stop_gradient(log q)`` if it was not reparameterised."""
    assert msg.log_prob is not None and msg.unscaled_log_prob is not None
    factor = torch.zeros_like(msg.log_prob)
    num_samples = msg.infer.get("num_samples")
    if num_samples is not None and ENUM_DIM in msg.infer:
        factor = factor - math.log(num_samples)
    if not msg.fn.has_rsample:
        log_q = msg.unscaled_log_prob
        factor = factor + (log_q - log_q.detach())
    return factor

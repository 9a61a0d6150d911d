"""The ELBO with the KL divergence of each latent site computed exactly where torch can.

``ELBO = E_q[log p(x | z)] - KL(q(z) || p(z))``. When the guide is mean-field (each
latent site's guide distribution depends on no other latent site in a way the model
does not), the KL splits into one term per site, and torch's ``kl_divergence`` gives
many of them in closed form: Normal against Normal, say. Those terms then have no
Monte-Carlo noise. Sites without a registered KL fall back to ``log q(z) - log p(z)``
at the sampled value, exactly as in :class:`~pplkit.infer.Trace_ELBO`.
"""

from __future__ import annotations

import torch
from torch.distributions import kl_divergence

from ..distributions.util import scale_and_mask
from ..runtime import SiteKind
from ..trace import Trace, compute_site_log_prob
from .elbo import ParticleTerms, Trace_ELBO, _sum, _total

__all__ = ["TraceMeanField_ELBO"]

# (guide family, model family) pairs torch has no KL for; remembered so that the
# lookup fails only once per pair rather than at every step.
_NO_KL: set[tuple[type, type]] = set()


class TraceMeanField_ELBO(Trace_ELBO):
    """Trace_ELBO with analytic KL divergences for mean-field guides.

    Every latent site of the guide must be reparameterisable (use Trace_ELBO for
    guides with discrete sites). Its expectation equals Trace_ELBO's; its variance
    is lower.

    Example::

        svi = SVI(model, AutoNormal(model), Adam({"lr": 0.01}), TraceMeanField_ELBO())
    """

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        observed: list[torch.Tensor] = []
        kl_terms: list[torch.Tensor] = []
        guide_sites = guide_trace.nodes
        for msg in model_trace.nodes.values():
            if msg.kind is not SiteKind.SAMPLE and msg.kind is not SiteKind.FACTOR:
                continue
            if msg.kind is SiteKind.FACTOR or msg.is_observed:
                compute_site_log_prob(msg, "model")
                observed.append(_sum(msg))
                continue
            guide_msg = guide_sites[msg.name]
            if not guide_msg.fn.has_rsample:
                raise NotImplementedError(
                    f"TraceMeanField_ELBO needs every latent site of the guide to be reparameterisable, but guide "
                    f"site '{msg.name}' is {type(guide_msg.fn).__name__}; use Trace_ELBO for this guide"
                )
            kl = _analytic_kl(guide_msg.fn, msg.fn)
            if kl is None:
                compute_site_log_prob(msg, "model")
                compute_site_log_prob(guide_msg, "guide")
                kl_terms.append(_sum(guide_msg) - _sum(msg))
            else:
                kl_terms.append(scale_and_mask(kl, guide_msg.scale, guide_msg.mask).sum())
        for msg in guide_sites.values():
            # Auxiliary sites (an autoguide's joint latent vector) add their entropy.
            if msg.kind is SiteKind.SAMPLE and msg.name not in model_trace.nodes:
                if not msg.fn.has_rsample:
                    raise NotImplementedError(
                        f"TraceMeanField_ELBO: auxiliary guide site '{msg.name}' is not reparameterisable; "
                        "use Trace_ELBO"
                    )
                compute_site_log_prob(msg, "guide")
                kl_terms.append(_sum(msg))
        log_likelihood = _total(observed)
        kl_total = _total(kl_terms)
        return ParticleTerms(log_likelihood - kl_total, 0.0, log_likelihood, kl_total)


def _analytic_kl(q: torch.distributions.Distribution, p: torch.distributions.Distribution) -> torch.Tensor | None:
    pair = (type(q), type(p))
    if pair in _NO_KL:
        return None
    try:
        kl = kl_divergence(q, p)
    except NotImplementedError:
        _NO_KL.add(pair)
        return None
    return kl

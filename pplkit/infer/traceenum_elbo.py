"""``TraceEnum_ELBO``: the ELBO with discrete latents summed out exactly instead of sampled.

Sites marked for enumeration (``config_enumerate``) get all their values at once,
each in a dim left of the plates (``max_plate_nesting`` says how many plate dims to
leave free). Then:

* **model-side** enumeration (a site the guide does not sample): its dim is summed
  out of the model's log joint with logsumexp, respecting plates (:func:`contract`),
  so the ELBO holds ``log sum_z p(x, z, ...)``, exactly;
* **guide-side** enumeration: each cost term is averaged over the guide's enumerated
  values, weighted by their guide probabilities: an exact expectation, whose gradient
  reaches the guide's params through the weights.

Sites that are not enumerated are sampled as in ``Trace_ELBO``; a guide site that is
neither enumerated nor reparameterisable gets a score-function term.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from typing import Any, Callable

import torch

from ..handlers import enum, replay, trace
from ..handlers.enum import ENUM_DIM
from ..plate import plate
from ..runtime import Message, SiteKind
from ..trace import Trace, compute_site_log_prob
from ..util import is_validation_enabled
from .elbo import ELBO, ParticleTerms
from .enum import EnumFactors, Ordinal, contract, ordinal_of
from .traces import _check_guide, _check_pairing
from .util import call_user_fn

__all__ = ["TraceEnum_ELBO"]


class TraceEnum_ELBO(ELBO):
    """An ELBO that sums out enumerated discrete sites exactly.

    Args:
        max_plate_nesting: how many plate dims the model uses; enumeration dims start
            left of them. Guessed (by running model and guide once) when not given.
        num_particles: samples of the guide's non-enumerated sites averaged per estimate.

    Example::

        elbo = TraceEnum_ELBO(max_plate_nesting=1)
        svi = SVI(config_enumerate(model), guide, Adam({"lr": 0.05}), elbo)
    """

    def _traces(
        self, model: Callable[..., Any], guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        nesting = self._plate_nesting(model, guide, args, kwargs)
        # Vectorised particles are one more plate, left of the model's; enumeration starts left of it.
        vectorized = self.vectorize_particles and self.num_particles > 1
        first = -(nesting + 2) if vectorized else -(nesting + 1)

        def particles() -> Any:
            if not vectorized:
                return nullcontext()
            return plate("num_particles_vectorized", self.num_particles, dim=-(nesting + 1))

        for _ in range(1 if vectorized else self.num_particles):
            with trace() as guide_tracer, enum(first_available_dim=first), particles():
                call_user_fn(guide, "guide", args, kwargs)
            guide_trace = guide_tracer.trace
            _check_guide(guide_trace)
            used = [m.infer[ENUM_DIM] for m in guide_trace.nodes.values() if ENUM_DIM in m.infer]
            model_first = min(used, default=first + 1) - 1
            with (
                trace() as model_tracer,
                enum(first_available_dim=model_first),
                replay(trace=guide_trace),
                particles(),
            ):
                call_user_fn(model, "model", args, kwargs)
            model_trace = model_tracer.trace
            # A site the model enumerates itself needs no guide site: leave it out of the pairing check.
            paired = model_trace.copy()
            for name, msg in model_trace.nodes.items():
                if ENUM_DIM in msg.infer and name not in guide_trace.nodes:
                    del paired.nodes[name]
            _check_pairing(paired, guide_trace)
            # Event dims, shapes and guide-only plates, as the other ELBOs check them (before the warning below).
            self._check_structure(model, guide, paired, guide_trace, nesting)
            if self.strict_enumeration_warning and is_validation_enabled():
                _warn_if_nothing_enumerated(model_trace, guide_trace, type(self).__name__)
            yield model_trace, guide_trace

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        # Enumerated values live in dims left of every plate: the shape check skips those.
        nesting = max(
            (-f.dim for t in (model_trace, guide_trace) for m in t.nodes.values() for f in m.cond_indep_stack
             if f.dim is not None),
            default=0,
        )
        for msg in model_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                compute_site_log_prob(msg, "model", max_plate_nesting=nesting)
        guide_sites = [m for m in guide_trace.nodes.values() if m.kind is SiteKind.SAMPLE]
        sampled_discrete: list[Message] = []
        for msg in guide_sites:
            compute_site_log_prob(msg, "guide", max_plate_nesting=nesting)
            if ENUM_DIM not in msg.infer and not msg.fn.has_rsample:
                sampled_discrete.append(msg)
        guide_enum = {m.infer[ENUM_DIM]: ordinal_of(m) for m in guide_sites if ENUM_DIM in m.infer}
        # The guide's enumerated values arrive in the model by replay: only the model's own are summed out there.
        model_factors = EnumFactors.of(model_trace)
        model_factors = EnumFactors(
            model_factors.factors,
            {d: o for d, o in model_factors.enum_dims.items() if d not in guide_enum},
            model_factors.enum_sites,
            model_factors.plates,
        )
        weights = [(ordinal_of(m), _masked(m)) for m in guide_sites if ENUM_DIM in m.infer]
        model_total = _total(
            [_expectation(o, t, weights, guide_enum) for o, t in contract(model_factors, guarded=guide_enum)]
        )
        guide_total = _total([_expectation(ordinal_of(m), m.log_prob, weights, guide_enum) for m in guide_sites])
        elbo = model_total - guide_total
        return ParticleTerms(elbo, _score_term(sampled_discrete, elbo), model_total, guide_total)


def _score_term(sites: list[Message], elbo: torch.Tensor) -> torch.Tensor | float:
    """Zero-valued; its gradient is ``elbo * grad log q(z)`` summed over the sampled, non-reparameterised sites.

    Given such a site's value, the rest of the particle is exact (enumerated sums), so
    the whole particle's ELBO is an unbiased cost for it: plain REINFORCE, without the
    plate-wise Rao-Blackwellisation of ``Trace_ELBO`` (simple, with more variance).
    """
    if not sites:
        return 0.0
    log_q = _total([_masked(m).sum() for m in sites])
    return elbo.detach() * (log_q - log_q.detach())


def _warn_if_nothing_enumerated(model_trace: Trace, guide_trace: Trace, estimator: str) -> None:
    # As Pyro does (strict_enumeration_warning=True, the default): without enumerated
    # sites this estimator is a slower Trace_ELBO, which is most likely an oversight.
    for tr in (guide_trace, model_trace):
        for msg in tr.nodes.values():
            if msg.kind is SiteKind.SAMPLE and msg.infer.get("enumerate"):
                return
    warnings.warn(
        f"{estimator} found no sample sites configured for enumeration. To enumerate a site, decorate the "
        "model or guide with @config_enumerate or give the site infer={'enumerate': 'parallel'}; if you do not "
        "want to enumerate, use Trace_ELBO (or pass strict_enumeration_warning=False)",
        UserWarning,
        stacklevel=2,
    )


def _masked(msg: Message) -> torch.Tensor:
    assert msg.unscaled_log_prob is not None
    return msg.unscaled_log_prob


def _expectation(
    ordinal: Ordinal,
    term: torch.Tensor | None,
    weights: list[tuple[Ordinal, torch.Tensor]],
    guide_enum: dict[int, Ordinal],
) -> torch.Tensor:
    """The sum of ``term`` over its elements, averaged over the guide's enumerated values it depends on."""
    assert term is not None
    present = [d for d in guide_enum if term.dim() >= -d and term.shape[d] > 1]
    if not present:
        return term.sum()
    relevant = [w for o, w in weights if o <= ordinal]
    log_weight = relevant[0]
    for w in relevant[1:]:
        log_weight = log_weight + w
    others = [d for d in guide_enum if d not in present and log_weight.dim() >= -d and log_weight.shape[d] > 1]
    if others:
        log_weight = log_weight.logsumexp(others, keepdim=True)
    return (log_weight.exp() * term).sum()


def _total(tensors: list[torch.Tensor]) -> torch.Tensor:
    if not tensors:
        return torch.zeros(())
    return torch.stack([t.reshape(()) for t in tensors]).sum()

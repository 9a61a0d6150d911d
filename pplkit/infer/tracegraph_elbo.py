"""``TraceGraph_ELBO``: the ELBO whose score-function terms use the dependency structure.

For a guide site ``z`` that cannot be reparameterised, the ELBO gradient has the term
``E[cost(z) * grad log q(z)]``. Any part of the cost that does not depend on ``z``
has expectation zero there but adds variance, so this estimator keeps only the
*downstream* cost of ``z``, as Pyro's does:

* in the guide: ``z`` and the sites sampled after it (everything later may depend on it),
* in the model: those sites, and every model-only site (the observations) sampled
  after any of them,

minus the sites that a sequential plate makes independent of ``z`` (another
iteration of ``for i in plate(...)``), and, per element of a vectorised plate of ``z``,
only the terms of that element. A baseline may be subtracted from the cost; with
``infer={"baseline": {...}}`` on the guide site:

* ``use_decaying_avg_baseline``, ``baseline_beta`` (default 0.90): a running average
  of the cost, kept by this ELBO per site;
* ``baseline_value``: a tensor (e.g. a param) used as the baseline and trained
  towards the cost by a squared-error term;
* ``nn_baseline`` with ``nn_baseline_input``: a torch module computing the baseline
  from the input, trained the same way (register it with ``pplkit.module`` in the
  guide so that SVI steps its parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..distributions.util import scale_and_mask
from ..runtime import Message, PlateFrame, SiteKind
from ..trace import Trace, compute_site_log_prob
from .elbo import ELBO, ParticleTerms

__all__ = ["TraceGraph_ELBO"]

_BASELINE_KEYS = {"use_decaying_avg_baseline", "baseline_beta", "baseline_value", "nn_baseline", "nn_baseline_input"}


@dataclass(frozen=True)
class _Term:
    """One site's contribution to a cost: its (signed, detached) log density and where it ran."""

    name: str
    position: int  # in its own trace's execution order
    frames: tuple[PlateFrame, ...]
    value: torch.Tensor


class TraceGraph_ELBO(ELBO):
    """The ELBO with Rao-Blackwellised score-function terms and optional baselines.

    Reparameterised sites are differentiated through their samples, as in
    ``Trace_ELBO``; the two estimators have the same expectation, and this one has
    lower variance when some sites are not reparameterisable.

    Example::

        pyro.sample("f", NonreparameterizedBeta(a, b),
                    infer={"baseline": {"use_decaying_avg_baseline": True, "baseline_beta": 0.95}})
        svi = SVI(model, guide, Adam({"lr": 0.001}), TraceGraph_ELBO())
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._average_costs: dict[str, torch.Tensor] = {}  # the decaying-average baselines, by site

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        observed: list[torch.Tensor] = []
        latent: list[torch.Tensor] = []
        model_terms: list[_Term] = []
        for position, msg in enumerate(model_trace.nodes.values()):
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                compute_site_log_prob(msg, "model")
                assert msg.log_prob is not None
                is_latent = msg.kind is SiteKind.SAMPLE and not msg.is_observed
                (latent if is_latent else observed).append(msg.log_prob.sum())
                model_terms.append(_Term(msg.name, position, msg.cond_indep_stack, msg.log_prob.detach()))
        guide_terms: list[_Term] = []
        log_q: list[torch.Tensor] = []
        not_reparameterised: list[tuple[int, Message]] = []
        for position, msg in enumerate(guide_trace.nodes.values()):
            if msg.kind is not SiteKind.SAMPLE:
                continue
            compute_site_log_prob(msg, "guide")
            assert msg.log_prob is not None
            guide_terms.append(_Term(msg.name, position, msg.cond_indep_stack, -msg.log_prob.detach()))
            if msg.fn.has_rsample:
                log_q.append(msg.log_prob.sum())
            else:
                log_q.append(msg.log_prob.sum().detach())  # its gradient comes from the score term
                not_reparameterised.append((position, msg))
        log_likelihood = _total(observed)
        kl = _total(log_q) - _total(latent)
        score: torch.Tensor | float = 0.0
        if not_reparameterised:
            for position, site in not_reparameterised:
                cost = _downstream_cost(site, position, guide_terms, model_terms)
                score = score + self._score_term(site, cost)
        return ParticleTerms(log_likelihood - kl, score, log_likelihood, kl)

    def _score_term(self, site: Message, cost: torch.Tensor) -> torch.Tensor:
        """Zero-valued: its gradient is ``(cost - baseline) * grad log q``, plus the baseline's own training."""
        baseline, baseline_loss = self._baseline(site, cost)
        assert site.unscaled_log_prob is not None
        # Masked like the site, but not scaled: the cost already carries the subsampling scale.
        log_q = scale_and_mask(site.unscaled_log_prob, 1.0, site.mask)
        centred = cost - baseline.detach() if isinstance(baseline, torch.Tensor) else cost - baseline
        term = (centred * (log_q - log_q.detach())).sum()
        if baseline_loss is not None:
            # The ELBO's value stays the ELBO's; the gradient trains the baseline towards the cost
            # (the surrogate is negated, so this term lowers the squared error).
            term = term - (baseline_loss - baseline_loss.detach())
        return term

    def _baseline(self, site: Message, cost: torch.Tensor) -> tuple[torch.Tensor | float, torch.Tensor | None]:
        options = site.infer.get("baseline")
        if not options:
            return 0.0, None
        if not isinstance(options, dict):
            raise TypeError(f"guide site '{site.name}': infer['baseline'] must be a dict, got {type(options).__name__}")
        unknown = set(options) - _BASELINE_KEYS
        if unknown:
            raise ValueError(
                f"guide site '{site.name}': unknown baseline option(s) {sorted(unknown)}; "
                f"the options are {sorted(_BASELINE_KEYS)}"
            )
        if "nn_baseline" in options and "baseline_value" in options:
            raise ValueError(
                f"guide site '{site.name}': give either nn_baseline or baseline_value as its baseline, not both"
            )
        baseline: torch.Tensor | float = 0.0
        learned: torch.Tensor | None = None
        if "nn_baseline" in options:
            if "nn_baseline_input" not in options:
                raise ValueError(f"guide site '{site.name}': nn_baseline needs nn_baseline_input, the module's input")
            learned = options["nn_baseline"](options["nn_baseline_input"])
        elif "baseline_value" in options:
            learned = torch.as_tensor(options["baseline_value"])
        if learned is not None:
            baseline = learned
        if options.get("use_decaying_avg_baseline", False):
            beta = float(options.get("baseline_beta", 0.90))
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"guide site '{site.name}': baseline_beta must be in [0, 1), got {beta}")
            previous = self._average_costs.get(site.name)
            if previous is None or previous.shape != cost.shape:
                previous = torch.zeros_like(cost)
            self._average_costs[site.name] = beta * previous + (1.0 - beta) * cost.detach()
            baseline = baseline + previous
        loss = (cost - learned).pow(2).sum() if learned is not None else None
        return baseline, loss


def _downstream_cost(
    site: Message,
    position: int,
    guide_terms: list[_Term],
    model_terms: list[_Term],
) -> torch.Tensor:
    """``log p - log q`` of the sites downstream of ``site``, summed to the shape of its own plates."""
    frames = site.cond_indep_stack
    downstream = {t.name for t in guide_terms if t.position >= position and not _independent(t.frames, frames)}
    guide_names = {t.name for t in guide_terms}
    # Where the downstream guide sites ran in the model: a model-only site (an observation)
    # run after any of them, and not independent of it, may depend on it.
    starts = [(t.position, t.frames) for t in model_terms if t.name in downstream]
    keep = {f.name for f in frames if f.dim is not None}
    cost: torch.Tensor | float = 0.0
    for term in guide_terms:
        if term.name in downstream:
            cost = cost + _sum_to_plates(term.value, term.frames, keep)
    for term in model_terms:
        if term.name in downstream or (
            term.name not in guide_names
            and any(start < term.position and not _independent(term.frames, f) for start, f in starts)
        ):
            cost = cost + _sum_to_plates(term.value, term.frames, keep)
    return torch.as_tensor(cost)


def _independent(a: tuple[PlateFrame, ...], b: tuple[PlateFrame, ...]) -> bool:
    """True when two sites sit in different iterations of one sequential plate."""
    counters = {f.name: f.counter for f in a if f.dim is None}
    return any(f.dim is None and f.name in counters and counters[f.name] != f.counter for f in b)


def _sum_to_plates(value: torch.Tensor, frames: tuple[PlateFrame, ...], keep: set[str]) -> torch.Tensor:
    """Sum every dim of ``value`` except the dims of the vectorised plates named in ``keep``."""
    kept = {f.dim for f in frames if f.dim is not None and f.name in keep}
    dims = [d for d in range(-value.dim(), 0) if d not in kept]
    if not dims:
        return value
    return value.sum(dims, keepdim=True) if kept else value.sum()


def _total(tensors: list[torch.Tensor]) -> torch.Tensor:
    if not tensors:
        return torch.zeros(())
    return tensors[0] if len(tensors) == 1 else torch.stack(tensors).sum()

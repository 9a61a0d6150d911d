"""The evidence lower bound, ELBO = E_q[log p(x, z) - log q(z)], and its gradient.

``Trace_ELBO`` estimates it from samples of the guide: trace the guide, replay the
model on those samples, and subtract the guide's log density from the model's. For a
reparameterised site (Normal, ...) autograd differentiates through the sample. For a
site that cannot be reparameterised (Bernoulli, Categorical, ...) it adds the
score-function (REINFORCE) term, ``cost * grad log q(z)``, so that the gradient stays
unbiased; the cost of a site inside a plate keeps only the terms of its own plate
element (and of sites outside the plate), which lowers the variance.

The loss that SVI minimises is ``-ELBO``. Split for teaching, it is
``KL - log_likelihood``: ``log_likelihood`` sums the observed sites (and factors),
``kl`` is the guide's log density minus the model's log density of the latent sites.
"""

from __future__ import annotations

import math
import warnings
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from ..distributions.util import scale_and_mask
from ..plate import plate
from ..runtime import Message, SiteKind
from ..trace import Trace, compute_site_log_prob
from .model_guide_match import StructureChecks
from .traces import run_guide_and_model
from .util import guess_max_plate_nesting, tracing_for_structure

__all__ = ["ELBO", "NonFiniteLossError", "Trace_ELBO"]


class NonFiniteLossError(RuntimeError):
    """The loss was NaN or infinite; the message names the sites whose log density was not finite."""


@dataclass(frozen=True, slots=True)
class ParticleTerms:
    """One sample's contribution: the ELBO, its gradient surrogate, and its two parts."""

    elbo: torch.Tensor  # its gradient is the pathwise part
    score: torch.Tensor | float  # zero-valued; its gradient is the score-function part
    log_likelihood: torch.Tensor
    kl: torch.Tensor


@dataclass(frozen=True, slots=True)
class ELBOResult:
    """What one evaluation of the loss gives: its value and, when asked, its two terms."""

    loss: float
    terms: dict[str, float] | None = None


class ELBO:
    """Base class of the ELBO estimators: particles, vectorisation and error reporting.

    Args:
        num_particles: samples of the guide averaged per estimate.
        max_plate_nesting: how many plate dims the model uses; guessed when needed
            (for ``vectorize_particles``) by running model and guide once.
        vectorize_particles: draw all particles at once under an extra plate instead
            of a Python loop (needs every batch dim of the model to be in a plate).
        retain_graph: passed to ``backward``.
        strict_enumeration_warning, ignore_jit_warnings, jit_options, tail_adaptive_beta:
            accepted as Pyro's ELBOs accept them, so that Pyro code constructs unchanged;
            they concern enumeration, JIT compilation and ``TraceTailAdaptive_ELBO``, which
            these estimators do not use, and are kept as attributes.
        max_iarange_nesting: Pyro's old name for ``max_plate_nesting``.
    """

    def __init__(
        self,
        num_particles: int = 1,
        max_plate_nesting: float = float("inf"),
        max_iarange_nesting: float | None = None,
        vectorize_particles: bool = False,
        strict_enumeration_warning: bool = True,
        ignore_jit_warnings: bool = False,
        jit_options: dict[str, Any] | None = None,
        retain_graph: bool | None = None,
        tail_adaptive_beta: float = -1.0,
    ) -> None:
        if not isinstance(num_particles, int) or num_particles < 1:
            raise ValueError(f"num_particles must be a positive int, got {num_particles!r}")
        if max_iarange_nesting is not None:
            warnings.warn("max_iarange_nesting is deprecated; use max_plate_nesting", FutureWarning, stacklevel=2)
            max_plate_nesting = max_iarange_nesting
        self.num_particles = num_particles
        self.max_plate_nesting = max_plate_nesting
        self.vectorize_particles = vectorize_particles
        self.retain_graph = retain_graph
        self.strict_enumeration_warning = strict_enumeration_warning
        self.ignore_jit_warnings = ignore_jit_warnings
        self.jit_options = jit_options
        self.tail_adaptive_beta = tail_adaptive_beta
        self._check_structure = StructureChecks()

    # -- Pyro's public methods ----------------------------------------------------------------

    def loss(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
        """An estimate of ``-ELBO`` (no gradients)."""
        with torch.no_grad():
            return self.compute(model, guide, args, kwargs).loss

    def differentiable_loss(
        self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        """``-ELBO`` as a tensor whose gradient is the unbiased ELBO gradient estimate."""
        surrogate, _, _ = self._surrogate(model, guide, args, kwargs, want_terms=False)
        return surrogate

    def loss_and_grads(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
        """Estimate ``-ELBO`` and accumulate its gradient into the params' ``.grad``."""
        return self.compute(model, guide, args, kwargs, grads=True).loss

    # -- the one entry point SVI uses ---------------------------------------------------------

    def compute(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        grads: bool = False,
        terms: bool = False,
    ) -> ELBOResult:
        """Estimate the loss; with ``grads`` run backward, with ``terms`` also report its two parts.

        Raises :class:`NonFiniteLossError` before any gradient is computed when the
        loss is NaN or infinite, so an optimizer step cannot follow.
        """
        surrogate, parts, traces = self._surrogate(model, guide, args, kwargs, want_terms=terms)
        value = surrogate.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(_nonfinite_message(value, traces))
        if grads and surrogate.requires_grad:
            surrogate.backward(retain_graph=self.retain_graph)
        if parts is None:
            return ELBOResult(value)
        log_likelihood, kl = parts
        return ELBOResult(value, {"log_likelihood": log_likelihood.item(), "kl": kl.item()})

    # -- particles ----------------------------------------------------------------------------

    def _surrogate(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        want_terms: bool,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None, list[tuple[Trace, Trace]]]:
        elbos: list[torch.Tensor] = []
        log_likelihoods: list[torch.Tensor] = []
        kls: list[torch.Tensor] = []
        traces = []
        for model_trace, guide_trace in self._traces(model, guide, args, kwargs):
            traces.append((model_trace, guide_trace))
            particle = self._particle(model_trace, guide_trace)
            elbos.append(particle.elbo if isinstance(particle.score, float) else particle.elbo + particle.score)
            if want_terms:
                log_likelihoods.append(particle.log_likelihood.detach())
                kls.append(particle.kl.detach())
        # A vectorised trace holds the sum over all particles; a looped one, one particle.
        per_trace = self.num_particles if self.vectorize_particles else 1

        def average(values: list[torch.Tensor]) -> torch.Tensor:
            mean = values[0] if len(values) == 1 else torch.stack(values).mean()
            return mean / per_trace if per_trace > 1 else mean

        # One sample is the usual case: its surrogate is just -elbo, one tensor op.
        surrogate = -average(elbos)
        parts = (average(log_likelihoods), average(kls)) if want_terms else None
        return surrogate, parts, traces

    def _traces(
        self, model: Callable[..., Any], guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Iterator[tuple[Trace, Trace]]:
        if not self.vectorize_particles or self.num_particles == 1:
            for _ in range(self.num_particles):
                model_trace, guide_trace, _ = run_guide_and_model(model, guide, args, kwargs)
                self._check_structure(model, guide, model_trace, guide_trace, self.max_plate_nesting)
                _warn_if_enumerated(guide_trace, type(self).__name__)
                yield model_trace, guide_trace
            return
        dim = -(self._plate_nesting(model, guide, args, kwargs) + 1)
        num = self.num_particles

        def particles() -> AbstractContextManager[Any]:
            return plate("num_particles_vectorized", num, dim=dim)

        model_trace, guide_trace, _ = run_guide_and_model(model, guide, args, kwargs, within=particles)
        self._check_structure(model, guide, model_trace, guide_trace, self.max_plate_nesting)
        _warn_if_enumerated(guide_trace, type(self).__name__)
        yield model_trace, guide_trace

    def _plate_nesting(
        self, model: Callable[..., Any], guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int:
        if self.max_plate_nesting == float("inf"):
            with tracing_for_structure():
                model_trace, guide_trace, _ = run_guide_and_model(model, guide, args, kwargs)
            self.max_plate_nesting = guess_max_plate_nesting(model_trace, guide_trace)
        return int(self.max_plate_nesting)

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        raise NotImplementedError


class Trace_ELBO(ELBO):
    """The ELBO estimated from samples of the guide, with score-function terms where needed.

    Example::

        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
        elbo = Trace_ELBO(num_particles=10, vectorize_particles=True)
    """

    def _particle(self, model_trace: Trace, guide_trace: Trace) -> ParticleTerms:
        observed: list[torch.Tensor] = []
        latent: list[torch.Tensor] = []
        for msg in model_trace.nodes.values():
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                compute_site_log_prob(msg, "model")
                (latent if msg.kind is SiteKind.SAMPLE and not msg.is_observed else observed).append(_sum(msg))
        guide_terms: list[torch.Tensor] = []
        not_reparameterised: list[Message] = []
        for msg in guide_trace.nodes.values():
            # A guide's factor is part of log q (Pyro's meaning), with the has_rsample it declares.
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                compute_site_log_prob(msg, "guide")
                if msg.fn.has_rsample:
                    guide_terms.append(_sum(msg))
                else:
                    # Its log q has no pathwise gradient worth keeping (the expected score
                    # is zero); the score-function term below carries its gradient.
                    guide_terms.append(_sum(msg).detach())
                    not_reparameterised.append(msg)
        log_likelihood = _total(observed)
        kl = _total(guide_terms) - _total(latent)
        score = score_function_term(model_trace, guide_trace, not_reparameterised) if not_reparameterised else 0.0
        return ParticleTerms(log_likelihood - kl, score, log_likelihood, kl)


def _warn_if_enumerated(guide_trace: Trace, estimator: str) -> None:
    # As Pyro does: these estimators sample every site, so a request to enumerate is ignored.
    marked = [n for n, m in guide_trace.nodes.items() if m.kind is SiteKind.SAMPLE and m.infer.get("enumerate")]
    if marked:
        warnings.warn(
            f"Found sample sites configured for enumeration: {', '.join(marked)}. {estimator} samples them "
            "instead; to enumerate sites, use TraceEnum_ELBO",
            UserWarning,
            stacklevel=4,
        )


def score_function_term(model_trace: Trace, guide_trace: Trace, sites: list[Message]) -> torch.Tensor:
    """Zero-valued; its gradient is ``sum_z cost(z) * grad log q(z)`` over the given guide sites.

    The cost of a site is ``log p - log q`` of every site, detached, with the dims of
    the site's own plates kept: each element of a plate then sees only its own terms
    and the terms outside the plate (partial Rao-Blackwellisation, as in Pyro).
    """
    pieces: list[tuple[tuple[Any, ...], torch.Tensor]] = []
    for msg in model_trace.nodes.values():
        if msg.log_prob is not None:
            pieces.append((msg.cond_indep_stack, msg.log_prob.detach()))
    for msg in guide_trace.nodes.values():
        if msg.kind in (SiteKind.SAMPLE, SiteKind.FACTOR) and msg.log_prob is not None:
            pieces.append((msg.cond_indep_stack, -msg.log_prob.detach()))
    total: torch.Tensor | float = 0.0
    for site in sites:
        own_plates = {f.name for f in site.cond_indep_stack if f.dim is not None}
        cost: torch.Tensor | float = 0.0
        for frames, value in pieces:
            cost = cost + _sum_outside(value, frames, own_plates)
        assert site.unscaled_log_prob is not None
        # Masked like the site, but not scaled: the cost already carries the subsampling scale.
        log_q = scale_and_mask(site.unscaled_log_prob, 1.0, site.mask)
        total = total + (cost * (log_q - log_q.detach())).sum()
    return torch.as_tensor(total)


def _sum_outside(value: torch.Tensor, frames: tuple[Any, ...], keep: set[str]) -> torch.Tensor:
    """Sum every dim of ``value`` except the dims of the plates named in ``keep``."""
    kept = {f.dim for f in frames if f.dim is not None and f.name in keep}
    dims = [d for d in range(-value.dim(), 0) if d not in kept]
    if not dims:
        return value
    return value.sum(dims, keepdim=True) if kept else value.sum()


def _sum(msg: Message) -> torch.Tensor:
    log_prob = msg.log_prob
    assert log_prob is not None
    return log_prob if log_prob.dim() == 0 else log_prob.sum()


def _total(tensors: list[torch.Tensor]) -> torch.Tensor:
    if not tensors:
        return torch.zeros(())
    if len(tensors) == 1:
        return tensors[0]
    return torch.stack(tensors).sum()  # stack promotes mixed dtypes (float64 data, float32 priors)


def _nonfinite_message(value: float, traces: list[tuple[Trace, Trace]]) -> str:
    bad: list[str] = []
    for model_trace, guide_trace in traces:
        for role, tr in (("model", model_trace), ("guide", guide_trace)):
            _fill_log_probs(tr)
            for name in tr.nonfinite_sites():
                entry = f"{role} site '{name}'{_value_hint(tr.nodes[name])}"
                if entry not in bad:
                    bad.append(entry)
    where = "; ".join(bad) if bad else "no single site (the sum overflowed, or a KL term was not finite)"
    return (
        f"the ELBO loss is {value}: the log density was not finite at {where}. The parameters keep their "
        "last finite values. Common causes: a value outside its distribution's support (e.g. a negative scale), "
        "a learning rate too large, or data that the model gives zero probability."
    )


def _fill_log_probs(tr: Trace) -> None:
    # Analytic-KL sites skip their log densities; compute them now to find the culprit.
    # A value outside its support cannot be scored: the sites scored before it still name
    # the culprit, and the user sees the NonFiniteLossError rather than this ValueError.
    with torch.no_grad(), suppress(ValueError):
        tr.compute_log_prob()


def _value_hint(msg: Message) -> str:
    value = msg.value
    if isinstance(value, torch.Tensor) and value.numel() <= 4:
        return f" (value {value.detach().tolist()}, {type(msg.fn).__name__})"
    return f" ({type(msg.fn).__name__})"

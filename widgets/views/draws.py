"""Samples the views draw: prior, posterior (from a guide) and reference (from NUTS).

:class:`Draws` is what a plot function receives: the model's arguments, its observed
data, and samples of every site under the prior and, once a fit is done, under the
posterior. Sampling is vectorised under one extra plate when the model allows it
(one run of the model for all samples), and falls back to a loop otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch

from pplkit.handlers import trace, uncondition
from pplkit.infer.predictive import Predictive
from pplkit.runtime import SiteKind
from pplkit.trace import Trace

__all__ = ["Draws", "observed_data", "sample_predictive"]

Samples = dict[str, torch.Tensor]


@dataclass
class Draws:
    """Everything a predictive plot needs.

    Attributes:
        args, kwargs: the model's arguments (the data).
        data: observed site -> its data, as in the model as written.
        prior: site -> prior predictive samples (draws along dim 0).
        posterior: site -> posterior predictive samples, or None before the first fit.
        reference: site -> samples under the NUTS posterior, or None.
    """

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    data: dict[str, torch.Tensor]
    prior: Samples
    posterior: Samples | None = None
    reference: Samples | None = None
    free: frozenset[str] = field(default_factory=frozenset)

    def predictions(self, site: str) -> Iterator[tuple[str, torch.Tensor]]:
        """``(role, samples)`` for "prior", then "posterior" and "reference" when known."""
        for role, samples in (("prior", self.prior), ("posterior", self.posterior), ("reference", self.reference)):
            if samples is not None and site in samples:
                yield role, samples[site]


def observed_data(model_trace: Trace) -> dict[str, torch.Tensor]:
    """The data of each observed sample site (not ``do``-fixed ones) of one run of the model."""
    return {
        name: msg.value.detach()
        for name, msg in model_trace.nodes.items()
        if msg.kind is SiteKind.SAMPLE and msg.is_observed and not msg.intervened
    }


def sample_predictive(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    num_samples: int,
    guide: Callable[..., Any] | None = None,
    posterior_samples: Samples | None = None,
    vectorize: bool = True,
) -> tuple[Samples, bool]:
    """Predictive samples of every site of ``model``; returns them and whether vectorising worked.

    Observed sites are sampled too (a model run with its data would only return the
    data there): with no guide this is the prior predictive, with one the posterior
    predictive. Models that do not put all their batch dims in plates cannot run
    under an extra sample plate; they are sampled in a loop (at most 200 samples then).
    """
    model = uncondition(model)
    if vectorize:
        try:
            return _in_chunks(model, args, kwargs, num_samples, guide, posterior_samples), True
        except (RuntimeError, ValueError, IndexError):
            pass
    if posterior_samples is not None:
        posterior_samples = {k: v[:200] for k, v in posterior_samples.items()}
    predictive = Predictive(model, guide=guide, posterior_samples=posterior_samples,
                            num_samples=min(num_samples, 200), return_sites=None, parallel=False)
    return _detached(predictive(*args, **kwargs)), False


# Below this many elements per tensor torch uses one thread per op; above it, an op on a
# busy machine (or beside a training thread) can take milliseconds instead of microseconds.
_SMALL = 32_000


def _in_chunks(model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], num_samples: int,
               guide: Callable[..., Any] | None, posterior_samples: Samples | None) -> Samples:
    """Vectorised predictive samples, drawn in chunks small enough to stay single-threaded."""
    with torch.no_grad():
        biggest = max((m.value.numel() for m in trace_once(model, args, kwargs).nodes.values()
                       if isinstance(m.value, torch.Tensor)), default=1)
    chunk = max(_SMALL // max(biggest, 1), 1)
    parts: list[Samples] = []
    for start in range(0, num_samples, chunk):
        size = min(chunk, num_samples - start)
        given = None if posterior_samples is None else {k: v[start:start + size] for k, v in posterior_samples.items()}
        predictive = Predictive(model, guide=guide, posterior_samples=given, num_samples=size,
                                return_sites=None, parallel=True)
        parts.append(_detached(predictive(*args, **kwargs)))
    return {name: torch.cat([p[name] for p in parts]) for name in parts[0]} if len(parts) > 1 else parts[0]


def _detached(samples: Samples) -> Samples:
    return {k: v.detach() for k, v in samples.items() if isinstance(v, torch.Tensor)}


def trace_once(model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Trace:
    """One run of the model under ``trace``, without gradients."""
    with torch.no_grad():
        return trace(model).get_trace(*args, **kwargs)

"""Importance-weighted predictions, and Metropolis-Hastings resampling of them, as in Pyro.

A guide q(z) fitted to a model p(x_obs, z) is only an approximation of the posterior.
:class:`WeighedPredictive` draws predictions as :class:`~pplkit.infer.Predictive`
does and gives each draw its importance weight ``log p(x_obs, z) - log q(z)``, so that
weighted summaries (``pplkit.ops.stats.weighed_quantile``) correct for the guide's error.
:class:`MHResampler` turns such weighted draws into unweighted ones, one
Metropolis-Hastings step per call, with q as the proposal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..handlers import condition, trace
from .predictive import Predictive, _predict
from .util import call_user_fn

__all__ = ["MHResampler", "WeighedPredictive", "WeighedPredictiveResults"]


@dataclass
class WeighedPredictiveResults:
    """Predictive samples with one log weight per draw (``log_weights[i]`` belongs to draw ``i``)."""

    samples: dict[str, torch.Tensor] | tuple[torch.Tensor, ...]
    log_weights: torch.Tensor
    guide_log_prob: torch.Tensor
    model_log_prob: torch.Tensor

    def clone(self) -> WeighedPredictiveResults:
        samples = self.samples
        copied = (
            {k: v.clone() for k, v in samples.items()}
            if isinstance(samples, dict)
            else tuple(v.clone() for v in samples)
        )
        return WeighedPredictiveResults(
            copied, self.log_weights.clone(), self.guide_log_prob.clone(), self.model_log_prob.clone()
        )


def _log_joint(
    fn: Callable[..., Any], role: str, draw: dict[str, torch.Tensor], args: Any, kwargs: Any
) -> torch.Tensor:
    with trace() as tracer, condition(data=draw):
        call_user_fn(fn, role, args, kwargs)
    return tracer.trace.log_prob_sum().detach()


class WeighedPredictive(Predictive):
    """Predictive draws from a guide, each with its importance weight against ``model_guide``.

    Call it as a :class:`Predictive`, with one extra keyword argument: ``model_guide``,
    the model the guide was fitted to (the model conditioned on the data; by default
    ``model``). The weight of draw ``z`` is ``log model_guide(z) - log guide(z)``.

    Example::

        predictive = WeighedPredictive(model, guide=guide, num_samples=1000, return_sites=["obs"])
        result = predictive(x, model_guide=conditioned_model)
        weighed_quantile(result.samples["obs"], [0.05, 0.95], result.log_weights)
    """

    def forward(self, *args: Any, **kwargs: Any) -> WeighedPredictiveResults:  # type: ignore[override]
        model_guide = kwargs.pop("model_guide", self.model)
        if self.guide is None:
            raise ValueError("WeighedPredictive needs a guide: the weights compare the model with it")
        with torch.no_grad():
            n = self.num_samples
            latent = _predict(self.guide, "guide", {}, n, None, self.parallel, args, kwargs)
            # One draw at a time: the weights need each draw's whole log density, whatever its plates.
            guide_lp, model_lp = torch.empty(n), torch.empty(n)
            for i in range(n):
                draw = {name: value[i] for name, value in latent.items()}
                guide_lp[i] = _log_joint(self.guide, "guide", draw, args, kwargs)
                model_lp[i] = _log_joint(model_guide, "model", draw, args, kwargs)
            return_sites = self.return_sites or None
            samples = _predict(self.model, "model", latent, n, return_sites, self.parallel, args, kwargs)
        return WeighedPredictiveResults(samples, model_lp - guide_lp, guide_lp, model_lp)

    def call(self, *args: Any, **kwargs: Any) -> WeighedPredictiveResults:  # type: ignore[override]
        """As calling it, with the samples as a tuple sorted by site name (Pyro's ``call``)."""
        result = self(*args, **kwargs)
        assert isinstance(result.samples, dict)
        result.samples = tuple(v for _, v in sorted(result.samples.items()))
        return result


class MHResampler:
    """Unweighted draws from weighted ones: one Metropolis-Hastings step per call.

    Each call asks ``sampler`` (a :class:`WeighedPredictive`) for fresh draws and, for each
    index, accepts the new draw with probability ``min(1, w_new / w_old)``. Over calls the
    kept draws approach the distribution the weights point to.

    Args:
        sampler: a callable returning :class:`WeighedPredictiveResults`.
        source_samples_slice / stored_samples_slice: which proposals and which kept
            states to remember (``slice(0)``, the default, keeps none).

    Example::

        resampler = MHResampler(WeighedPredictive(model, guide=guide, num_samples=1000))
        for _ in range(10):
            result = resampler(x, model_guide=conditioned_model)
    """

    def __init__(
        self,
        sampler: Callable[..., WeighedPredictiveResults],
        source_samples_slice: slice = slice(0),
        stored_samples_slice: slice = slice(0),
    ) -> None:
        self.sampler = sampler
        self.samples: WeighedPredictiveResults | None = None
        self.transition_count = torch.tensor(0)
        self.source_samples_slice = source_samples_slice
        self.stored_samples_slice = stored_samples_slice
        self.source_samples: list[WeighedPredictiveResults] = []
        self.stored_samples: list[WeighedPredictiveResults] = []

    def __call__(self, *args: Any, **kwargs: Any) -> WeighedPredictiveResults:
        with torch.no_grad():
            proposal = self.sampler(*args, **kwargs)
            self.source_samples = (self.source_samples + [proposal])[self.source_samples_slice]
            if self.samples is None:
                self.samples = proposal.clone()
                self.transition_count = torch.zeros(proposal.log_weights.shape, dtype=torch.long)
            else:
                accept_prob = (proposal.log_weights - self.samples.log_weights).clamp(max=0.0).exp()
                accepted = torch.rand(accept_prob.shape) <= accept_prob
                self.transition_count[accepted] += 1
                for f in dataclasses.fields(self.samples):
                    kept, new = getattr(self.samples, f.name), getattr(proposal, f.name)
                    for key in kept if isinstance(kept, dict) else ():
                        kept[key][accepted] = new[key][accepted]
                    if isinstance(kept, torch.Tensor):
                        kept[accepted] = new[accepted]
                    elif isinstance(kept, tuple):
                        for k, n in zip(kept, new):
                            k[accepted] = n[accepted]
        self.stored_samples = (self.stored_samples + [self.samples.clone()])[self.stored_samples_slice]
        return self.samples

    forward = __call__

    def get_min_sample_transition_count(self) -> torch.Tensor:
        """The fewest accepted moves of any draw."""
        return self.transition_count.min()

    def get_total_transition_count(self) -> torch.Tensor:
        """The accepted moves of all draws together."""
        return self.transition_count.sum()

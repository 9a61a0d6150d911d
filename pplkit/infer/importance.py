"""Importance sampling, and the marginal likelihood (evidence) it estimates.

Draw the latent sites from a proposal q (a guide, or the prior), run the model on those
values, and weight each draw by ``w = p(latents, data) / q(latents)``. The mean weight
estimates the evidence ``p(data)``; the weighted draws approximate the posterior.

Example::

    importance = Importance(model, guide=None, num_samples=5000).run(data)
    importance.get_log_normalizer()  # log p(data)
    EmpiricalMarginal(importance, "loc").mean
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch
from torch.distributions import constraints

from ..distributions import TorchDistributionMixin
from ..handlers import block, trace
from ..runtime import SiteKind
from .traces import run_guide_and_model
from .util import call_user_fn

__all__ = ["EmpiricalMarginal", "Importance"]


def _is_latent(msg: Any) -> bool:
    return msg.kind is SiteKind.SAMPLE and not msg.is_observed


class Importance:
    """Importance sampling with a guide as the proposal, or the model's prior without one.

    Args:
        model: the model, with its observed sites.
        guide: a program sampling every latent site of the model; ``None`` proposes from the prior,
            so the weights are the likelihood of the data.
        num_samples: the number of weighted draws (Pyro's default of 10, with a warning, if not given).

    After :meth:`run`: ``log_weights`` (a tensor of shape ``(num_samples,)``) and
    ``samples`` (site name -> tensor with a leading ``num_samples`` dim: the latent
    sites and, as ``"_RETURN"``, the model's return value when it is a tensor).
    Unlike Pyro, the traces themselves are not kept, to save memory.

    Example::

        importance = Importance(model, num_samples=2000).run(x)
        importance.get_log_normalizer(), importance.get_ESS()
    """

    def __init__(
        self, model: Callable[..., Any], guide: Callable[..., Any] | None = None, num_samples: int | None = None
    ):
        if not callable(model):
            raise TypeError(f"Importance: model must be callable, got {type(model).__name__}")
        if guide is not None and not callable(guide):
            raise TypeError(f"Importance: guide must be callable or None, got {type(guide).__name__}")
        if num_samples is None:
            num_samples = 10
            warnings.warn("Importance: num_samples not given, using 10 (as Pyro does)", stacklevel=2)
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"Importance: num_samples must be a positive int, got {num_samples!r}")
        self.model = model
        self.guide = guide
        self.num_samples = num_samples
        self.log_weights = torch.empty(0)
        self.samples: dict[str, torch.Tensor] = {}

    def run(self, *args: Any, **kwargs: Any) -> Importance:
        """Draw ``num_samples`` weighted samples, calling model (and guide) with ``*args, **kwargs``."""
        log_weights: list[torch.Tensor] = []
        values: dict[str, list[torch.Tensor]] = {}
        with torch.no_grad(), block():  # as in Pyro, handlers outside see none of these runs
            for _ in range(self.num_samples):
                log_weight, draw = self._one_draw(args, kwargs)
                log_weights.append(log_weight)
                for name, value in draw.items():
                    values.setdefault(name, []).append(value)
        self.log_weights = torch.stack(log_weights)
        self.samples = {name: torch.stack(vs) for name, vs in values.items() if len(vs) == self.num_samples}
        return self

    def _one_draw(self, args: tuple, kwargs: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.guide is None:
            with trace() as model_tr:
                returned = call_user_fn(self.model, "model", args, kwargs)
            tr = model_tr.trace
            # The latent sites' prior densities cancel against the proposal's.
            log_weight = tr.log_prob_sum(lambda name, msg: not _is_latent(msg))
        else:
            tr, guide_tr, returned = run_guide_and_model(self.model, self.guide, args, kwargs)
            log_weight = tr.log_prob_sum() - guide_tr.log_prob_sum()
        draw = {name: msg.value for name, msg in tr.nodes.items() if _is_latent(msg)}
        if isinstance(returned, torch.Tensor):
            draw["_RETURN"] = returned
        return log_weight, draw

    def _require_run(self) -> torch.Tensor:
        if self.log_weights.numel() == 0:
            raise RuntimeError("no weights yet: call importance.run(*model_args) first")
        return self.log_weights

    def get_log_normalizer(self) -> torch.Tensor:
        """The log of the mean weight: an estimate of the log evidence log p(data)."""
        log_w = self._require_run()
        return torch.logsumexp(log_w, 0) - math.log(log_w.numel())

    def get_normalized_weights(self, log_scale: bool = False) -> torch.Tensor:
        """The weights divided by their sum (their logs with ``log_scale=True``)."""
        log_w = self._require_run()
        normalized = log_w - torch.logsumexp(log_w, 0)
        return normalized if log_scale else normalized.exp()

    def get_ESS(self) -> torch.Tensor:  # noqa: N802 (Pyro's name)
        """Kish's effective sample size, 1 / sum(normalized weight^2): num_samples when all weights are equal."""
        return torch.exp(-torch.logsumexp(2 * self.get_normalized_weights(log_scale=True), 0))

    def get_samples(self, num_samples: int | None = None) -> dict[str, torch.Tensor]:
        """Draws from the weighted samples, resampled in proportion to the weights (with replacement).

        Args:
            num_samples: how many (default: ``self.num_samples``).
        """
        weights = self.get_normalized_weights()
        index = torch.multinomial(weights, num_samples or self.num_samples, replacement=True)
        return {name: value[index] for name, value in self.samples.items()}


class EmpiricalMarginal(TorchDistributionMixin, torch.distributions.Distribution):
    """The weighted empirical distribution of one site's values in an :class:`Importance` run.

    Args:
        trace_posterior: a run :class:`Importance` object.
        sites: the site's name (default ``"_RETURN"``, the model's return value, as in Pyro).

    Example::

        loc = EmpiricalMarginal(importance, "loc")
        loc.mean, loc.variance, loc.sample((100,))
    """

    arg_constraints: dict[str, Any] = {}
    has_enumerate_support = True

    def __init__(self, trace_posterior: Importance, sites: str | None = None, validate_args: bool | None = None):
        site = "_RETURN" if sites is None else sites
        if not isinstance(site, str):
            raise TypeError("EmpiricalMarginal: give one site name as a string")
        if site not in trace_posterior.samples:
            raise ValueError(f"no samples of site '{site}'; sampled sites: {sorted(trace_posterior.samples)}")
        self.values = trace_posterior.samples[site]
        self.log_weights = trace_posterior.get_normalized_weights(log_scale=True)
        self._categorical = torch.distributions.Categorical(logits=self.log_weights)
        super().__init__(torch.Size(), self.values.shape[1:], validate_args=False)

    @constraints.dependent_property
    def support(self) -> Any:
        return constraints.real

    def _weights(self) -> torch.Tensor:
        return self.log_weights.exp().reshape((-1,) + (1,) * (self.values.dim() - 1)).to(self.values.dtype)

    @property
    def mean(self) -> torch.Tensor:
        return (self._weights() * self.values).sum(0)

    @property
    def variance(self) -> torch.Tensor:
        return (self._weights() * (self.values - self.mean) ** 2).sum(0)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = torch.Size()) -> torch.Tensor:
        return self.values[self._categorical.sample(torch.Size(sample_shape))]

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """The log of the total weight of the stored values equal to ``value``."""
        event_dim = len(self.event_shape)
        same = self.values == value.unsqueeze(-event_dim - 1)
        if event_dim:
            same = same.flatten(-event_dim).all(-1)
        return torch.logsumexp(self.log_weights.masked_fill(~same, -math.inf), dim=-1)

    def enumerate_support(self, expand: bool = True) -> torch.Tensor:
        return self.values

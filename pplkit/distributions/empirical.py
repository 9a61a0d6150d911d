"""``Empirical``: the distribution of a weighted collection of samples."""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Categorical, Distribution, constraints

from .mixin import TorchDistributionMixin

__all__ = ["Empirical"]


class Empirical(TorchDistributionMixin, Distribution):
    """A distribution over the given samples, each with probability proportional to ``exp(log_weights)``.

    Args:
        samples: shape ``batch_shape + (num_samples,) + event_shape``.
        log_weights: shape ``batch_shape + (num_samples,)``; unnormalised.

    Example::

        d = Empirical(torch.tensor([0.0, 1.0, 1.0]), torch.zeros(3))
        d.mean                              # tensor(0.6667)
        d.log_prob(torch.tensor(1.0)).exp() # tensor(0.6667)
    """

    arg_constraints: dict[str, Any] = {}
    support = constraints.real
    has_enumerate_support = True

    def __init__(self, samples: torch.Tensor, log_weights: torch.Tensor, validate_args: Any = None) -> None:
        samples = torch.as_tensor(samples)
        log_weights = torch.as_tensor(log_weights, dtype=torch.get_default_dtype())
        agg = log_weights.dim() - 1
        if agg < 0 or samples.shape[: agg + 1] != log_weights.shape:
            raise ValueError(
                f"Empirical: log_weights must have shape batch_shape + (num_samples,), the leading dims of samples; "
                f"got samples {tuple(samples.shape)} and log_weights {tuple(log_weights.shape)}"
            )
        self._samples = samples
        self._log_weights = log_weights
        self._aggregation_dim = agg
        super().__init__(log_weights.shape[:-1], samples.shape[agg + 1 :], validate_args=False)

    @property
    def sample_size(self) -> int:
        """How many samples the distribution holds."""
        return self._log_weights.shape[-1]

    @property
    def log_weights(self) -> torch.Tensor:
        return self._log_weights

    def get_samples_and_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._samples, self._log_weights

    def _weights(self) -> torch.Tensor:
        """Normalised weights, shaped to broadcast against the samples."""
        weights = (self._log_weights - self._log_weights.logsumexp(-1, keepdim=True)).exp()
        return weights.reshape(weights.shape + (1,) * len(self.event_shape))

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = torch.Size()) -> torch.Tensor:
        with torch.no_grad():
            index = Categorical(logits=self._log_weights).sample(torch.Size(sample_shape))
        # Move the drawn index of each batch element into the samples' aggregation dim.
        n_sample = len(sample_shape)
        samples = self._samples.expand(torch.Size(sample_shape) + self._samples.shape)
        index = index.reshape(index.shape + (1,) + (1,) * len(self.event_shape))
        index = index.expand(index.shape[: n_sample + self._aggregation_dim] + (1,) + tuple(self.event_shape))
        return samples.gather(n_sample + self._aggregation_dim, index).squeeze(n_sample + self._aggregation_dim)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """The log of the total weight of the samples equal to ``value``."""
        value = torch.as_tensor(value, dtype=self._samples.dtype)
        event_dims = len(self.event_shape)
        matches = self._samples == value.unsqueeze(value.dim() - event_dims)
        if event_dims:
            matches = matches.flatten(-event_dims).all(-1)
        log_weights = self._log_weights - self._log_weights.logsumexp(-1, keepdim=True)
        return log_weights.masked_fill(~matches, -float("inf")).logsumexp(-1)

    @property
    def mean(self) -> torch.Tensor:
        if not self._samples.is_floating_point():
            raise ValueError("Empirical.mean needs floating-point samples")
        return (self._weights() * self._samples).sum(self._aggregation_dim)

    @property
    def variance(self) -> torch.Tensor:
        if not self._samples.is_floating_point():
            raise ValueError("Empirical.variance needs floating-point samples")
        deviation = self._samples - self.mean.unsqueeze(self._aggregation_dim)
        return (self._weights() * deviation.pow(2)).sum(self._aggregation_dim)

    def enumerate_support(self, expand: bool = True) -> torch.Tensor:
        """The samples themselves, the aggregation dim moved to the left."""
        return self._samples.movedim(self._aggregation_dim, 0)

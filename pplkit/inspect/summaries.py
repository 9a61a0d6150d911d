"""Posterior summaries (mean and sd per site) to annotate a drawn model with.

Example::

    summaries = summarize_posterior(guide, (is_cont_africa, ruggedness, log_gdp))
    str(summaries["bR"])        # '-0.19 ± 0.042'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from ..handlers import seed as seed_handler
from ..handlers import trace as trace_handler
from ..runtime import SiteKind

__all__ = ["SiteSummary", "summarize_posterior"]

Posterior = Callable[..., Any] | Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class SiteSummary:
    """The posterior mean and standard deviation of one site, elementwise."""

    mean: torch.Tensor
    sd: torch.Tensor

    def __str__(self) -> str:
        if self.mean.numel() == 1:
            return f"{self.mean.item():.3g} ± {self.sd.item():.2g}"
        return f"{self.mean.numel()} values, means {self.mean.min().item():.3g} .. {self.mean.max().item():.3g}"


def summarize_posterior(
    posterior: Posterior,
    model_args: tuple[Any, ...] = (),
    model_kwargs: dict[str, Any] | None = None,
    *,
    num_samples: int = 100,
    seed: int = 0,
) -> dict[str, SiteSummary]:
    """Mean and sd of each site, from a guide or from posterior samples.

    Args:
        posterior: a guide (run ``num_samples`` times with the given arguments; its
            latent and deterministic sites are summarised), or a dict of samples with
            the draws along dim 0, as ``Predictive`` returns them.
        model_args, model_kwargs: the arguments to call the guide with.
        num_samples: how many times to run a guide.
        seed: the seed for a guide's draws (the global random state is restored).

    Example::

        summarize_posterior({"z": torch.randn(500)})["z"]    # mean ~ 0, sd ~ 1
    """
    if isinstance(posterior, Mapping):
        samples = dict(posterior)
    elif callable(posterior):
        samples = _draw_from_guide(posterior, model_args, model_kwargs or {}, num_samples, seed)
    else:
        raise TypeError(
            f"posterior must be a guide or a dict of samples (site name -> tensor with the draws along dim 0), "
            f"got {type(posterior).__name__}"
        )
    summaries = {}
    for name, draws in samples.items():
        if not isinstance(draws, torch.Tensor) or draws.dim() == 0 or len(draws) < 2:
            shape = tuple(draws.shape) if isinstance(draws, torch.Tensor) else type(draws).__name__
            raise ValueError(
                f"posterior samples for site '{name}': need a tensor with at least 2 draws along dim 0, got {shape}"
            )
        draws = draws.detach().to(torch.get_default_dtype())
        summaries[name] = SiteSummary(draws.mean(0), draws.std(0))
    return summaries


def _draw_from_guide(
    guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], num_samples: int, seed: int
) -> dict[str, torch.Tensor]:
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2 to estimate a standard deviation, got {num_samples}")
    draws: dict[str, list[torch.Tensor]] = {}
    with seed_handler(rng_seed=seed), torch.no_grad():
        for _ in range(num_samples):
            with trace_handler() as tracer:
                guide(*args, **kwargs)
            for name, msg in tracer.trace.nodes.items():
                latent = msg.kind is SiteKind.SAMPLE and not msg.is_observed
                if latent or msg.kind is SiteKind.DETERMINISTIC:
                    draws.setdefault(name, []).append(msg.value)
    stacked = {}
    for name, values in draws.items():
        # A site whose shape changes between runs (a subsampled plate, say) has no
        # elementwise summary; it is left unannotated.
        if len(values) == num_samples and all(v.shape == values[0].shape for v in values):
            stacked[name] = torch.stack(values)
    return stacked

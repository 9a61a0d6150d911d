"""Convergence diagnostics for MCMC samples: effective sample size, split r_hat, summaries.

Samples are tensors shaped ``(num_chains, num_samples, *site_shape)``. The formulas
are Stan's (Gelman et al., BDA3, ch. 11.4-11.5), the same as ``pyro.ops.stats``:

* ``r_hat`` compares the variance between chains with the variance within them; near
  1 when the chains agree. Split r_hat also splits each chain in two halves, so that a
  chain still drifting at the end of warmup shows up too.
* the effective sample size is ``chains * samples / tau``, where ``tau = 1 + 2 sum rho_k``
  sums the autocorrelations estimated across chains, cut off by Geyer's initial
  monotone sequence.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

__all__ = [
    "autocovariance",
    "effective_sample_size",
    "format_summary",
    "gelman_rubin",
    "hpdi",
    "split_gelman_rubin",
    "summary",
]


def _check_chains(samples: torch.Tensor, need: int = 2) -> None:
    if samples.dim() < 2 or samples.shape[1] < need:
        raise ValueError(
            f"expected samples shaped (num_chains, num_samples, ...) with at least {need} samples per chain, "
            f"got shape {tuple(samples.shape)}"
        )


def autocovariance(x: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """The autocovariance of ``x`` along ``dim`` at every lag (normalised by N), by FFT."""
    x = x.transpose(dim, -1)
    n = x.shape[-1]
    centred = x - x.mean(-1, keepdim=True)
    size = 1 << (2 * n - 1).bit_length()  # zero padding to >= 2n makes the circular correlation linear
    spectrum = torch.fft.rfft(centred, n=size)
    acov = torch.fft.irfft(spectrum * spectrum.conj(), n=size)[..., :n] / n
    return acov.transpose(dim, -1)


def _variances(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, var+): the mean within-chain variance and Stan's pooled variance estimate."""
    n = samples.shape[1]
    within = samples.var(dim=1).mean(dim=0)
    pooled = (n - 1) / n * within
    if samples.shape[0] > 1:
        pooled = pooled + samples.mean(dim=1).var(dim=0)
    else:
        within = pooled  # one chain: Pyro's convention, so r_hat is exactly 1
    return within, pooled


def gelman_rubin(samples: torch.Tensor) -> torch.Tensor:
    """The potential scale reduction factor r_hat, per element of the site."""
    _check_chains(samples)
    within, pooled = _variances(samples)
    return (pooled / within).sqrt()


def split_gelman_rubin(samples: torch.Tensor) -> torch.Tensor:
    """r_hat after splitting each chain into its first and second halves.

    Example::

        split_gelman_rubin(torch.randn(4, 1000))  # close to 1
    """
    _check_chains(samples, need=4)
    half = samples.shape[1] // 2
    halves = torch.stack([samples[:, :half], samples[:, -half:]], dim=1)
    return gelman_rubin(halves.reshape((-1, half) + samples.shape[2:]))


def effective_sample_size(samples: torch.Tensor) -> torch.Tensor:
    """How many independent draws the correlated samples are worth, per element of the site.

    Example::

        effective_sample_size(torch.randn(2, 1000))  # about 2000
    """
    _check_chains(samples)
    samples = samples.double()
    num_chains, n = samples.shape[:2]
    acov = autocovariance(samples, dim=1).mean(dim=0)  # (n, *site_shape), averaged over chains
    within, pooled = _variances(samples)
    rho = 1.0 - (within - acov) / pooled
    rho[0] = 1.0
    # Geyer: sum autocorrelations in pairs (lags 2k, 2k+1). In theory the sums are positive
    # and decreasing; clamping at zero and a running minimum cut the noisy tail at the
    # first pair that is not.
    pairs = rho[: 2 * (n // 2)].reshape((n // 2, 2) + rho.shape[1:]).sum(dim=1)
    if pairs.shape[0] > 1:
        tail = torch.cummin(pairs[1:].clamp(min=0.0), dim=0).values
        tau = -1.0 + 2.0 * pairs[0] + 2.0 * tail.sum(dim=0)
    else:
        tau = -1.0 + 2.0 * pairs[0]
    return (num_chains * n / tau).to(torch.get_default_dtype())


def hpdi(samples: torch.Tensor, prob: float = 0.9, dim: int = 0) -> torch.Tensor:
    """The narrowest interval holding a fraction ``prob`` of the samples: (lower, upper) stacked on ``dim``."""
    ordered = samples.sort(dim).values
    n = samples.shape[dim]
    width = int(prob * n)
    lower = ordered.narrow(dim, 0, n - width)
    upper = ordered.narrow(dim, width, n - width)
    start = (upper - lower).argmin(dim, keepdim=True)
    return torch.cat([ordered.gather(dim, start), ordered.gather(dim, start + width)], dim)


def summary(samples: dict[str, torch.Tensor], prob: float = 0.9) -> dict[str, dict[str, Any]]:
    """Mean, std, median, HPD interval, n_eff and r_hat of each site, as plain numbers.

    Args:
        samples: site name -> tensor shaped ``(num_chains, num_samples, *site_shape)``.
        prob: the mass of the interval. As in Pyro, its bounds are those of the highest
            posterior density interval, in columns named after the quantiles of an
            equal-tailed one ("5.0%" and "95.0%" for 0.9).

    Returns:
        site name -> statistic name -> a float (scalar site) or nested lists (shaped as the site).
    """
    lower_name, upper_name = f"{50 * (1 - prob):.1f}%", f"{50 * (1 + prob):.1f}%"
    table: dict[str, dict[str, Any]] = {}
    for name, value in samples.items():
        flat = value.reshape((-1,) + value.shape[2:])
        interval = hpdi(flat, prob)
        stats = {
            "mean": flat.mean(0),
            "std": flat.std(0),
            "median": flat.median(0).values,
            lower_name: interval[0],
            upper_name: interval[1],
            "n_eff": effective_sample_size(value),
            "r_hat": split_gelman_rubin(value),
        }
        table[name] = {key: stat.tolist() for key, stat in stats.items()}
    return table


def format_summary(table: dict[str, dict[str, Any]]) -> str:
    """The summary as a text table with one row per scalar element, as Pyro prints it."""
    if not table:
        return ""
    columns = list(next(iter(table.values())))
    rows: list[tuple[str, list[float]]] = []
    for name, stats in table.items():
        first = stats["mean"]
        if not isinstance(first, list):
            rows.append((name, [stats[c] for c in columns]))
            continue
        shape = _shape_of(first)
        for index in itertools.product(*map(range, shape)):
            label = name + "[" + ",".join(map(str, index)) + "]"
            rows.append((label, [_item(stats[c], index) for c in columns]))
    width = max(10, max(len(label) for label, _ in rows))
    lines = [" " * width + "".join(f" {c:>9}" for c in columns)]
    lines += [f"{label:>{width}}" + "".join(f" {v:>9.2f}" for v in values) for label, values in rows]
    return "\n".join(lines)


def _shape_of(nested: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def _item(nested: Any, index: tuple[int, ...]) -> float:
    for i in index:
        nested = nested[i]
    return nested

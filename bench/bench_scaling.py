"""SVI step time with a subsampled plate as the data grows: 1e3, 1e5 and 1e6 rows.

``python -m bench.bench_scaling`` (or ``python -m bench scaling``). The model is a
Bayesian linear regression whose likelihood sits in ``plate("data", N,
subsample_size=256)``; the guide is AutoNormal over the global weights. A step should
cost the same whatever N is: the plate draws 256 indices in O(256), the model reads
only those rows, and the log-likelihood is scaled by N / 256. The data sizes run
interleaved in one process, as in ``bench_svi``, timed in process CPU time.
"""

from __future__ import annotations

import statistics
from typing import Callable

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam

from .bench_svi import measure

SIZES = (1_000, 100_000, 1_000_000)
BATCH = 256
BLOCK_STEPS = 100
ROUNDS = 10
WARMUP_STEPS = 50
TARGET_RATIO = 1.2


def regression(x: torch.Tensor, y: torch.Tensor) -> None:
    a = sample("a", dist.Normal(0.0, 10.0))
    b = sample("b", dist.Normal(0.0, 10.0))
    sigma = sample("sigma", dist.HalfNormal(5.0))
    with plate("data", len(x), subsample_size=BATCH) as idx:
        sample("obs", dist.Normal(a + b * x[idx], sigma), obs=y[idx])


def row(size: int) -> Callable[[], float]:
    generator = torch.Generator().manual_seed(size)
    x = torch.randn(size, generator=generator)
    y = 1.0 + 2.0 * x + 0.5 * torch.randn(size, generator=generator)
    store = pplkit.ParamStore()
    svi = SVI(regression, AutoNormal(regression), Adam({"lr": 0.01}), Trace_ELBO(), param_store=store)
    return lambda: svi.step(x, y)


def main() -> None:
    torch.set_num_threads(1)
    pplkit.set_rng_seed(0)
    times = measure({size: row(size) for size in SIZES}, ROUNDS, BLOCK_STEPS, WARMUP_STEPS)
    smallest = times[SIZES[0]]
    print(f"SVI step, subsampled plate of {BATCH}: {ROUNDS} rounds x {BLOCK_STEPS} steps per size, interleaved")
    print(f"{'data rows':>12}{'median us/step':>16}{'ratio to 1e3':>14}")
    worst = 1.0
    for size, per_round in times.items():
        ratio = statistics.median(t / s for t, s in zip(per_round, smallest))
        worst = max(worst, ratio)
        print(f"{size:>12,}{statistics.median(per_round) * 1e6:>16.0f}{ratio:>13.2f}x")
    verdict = "flat" if worst <= TARGET_RATIO else "NOT flat"
    print(f"largest ratio {worst:.2f}x: {verdict} (target within {TARGET_RATIO}x)")


if __name__ == "__main__":
    main()

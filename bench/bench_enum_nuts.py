"""NUTS with a discrete latent summed out: pplkit (eager and compiled) against Pyro and the exact posterior.

``python -m bench.bench_enum_nuts`` (or ``python -m bench enum_nuts``); ``--quick`` for a
short smoke run. The model is a two-component Gaussian mixture with known weights whose
assignments are enumerated (``config_enumerate``); both libraries sample the two
locations from the same data with the same settings, one after the other in one
process. The exact posterior means and sds come from the log marginal on a 561 x 561
grid. The effective sample size is pplkit's (Stan's formula, as ``pyro.ops.stats``);
"wall s" includes the compile for ``jit_compile=True``. Pyro is imported only here.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any, Callable

import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer import MCMC, NUTS, config_enumerate
from pplkit.infer.autoguide import init_to_mean
from pplkit.infer.mcmc import effective_sample_size

WEIGHTS = torch.tensor([0.3, 0.7])
PRIOR_LOCS = torch.tensor([-1.0, 1.0])


def mixture_data() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.cat([torch.randn(6, generator=generator) - 3.0, torch.randn(14, generator=generator) + 3.0])


@config_enumerate
def mixture(data: torch.Tensor) -> None:
    locs = pplkit.sample("locs", dist.Normal(PRIOR_LOCS, 2.0).to_event(1))
    with pplkit.plate("data", len(data)):
        which = pplkit.sample("which", dist.Categorical(WEIGHTS))
        pplkit.sample("x", dist.Normal(locs[which], 1.0), obs=data)


def exact_moments(data: torch.Tensor) -> list[tuple[float, float]]:
    """Posterior mean and sd of each location, from the log marginal on a grid."""
    axis = torch.linspace(-7.0, 7.0, 561)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)
    prior = torch.distributions.Normal(PRIOR_LOCS, 2.0).log_prob(grid).sum(-1)
    per_point = torch.distributions.Normal(grid.unsqueeze(-2), 1.0).log_prob(data.unsqueeze(-1)) + WEIGHTS.log()
    log_density = prior + per_point.logsumexp(-1).sum(-1)
    weights = (log_density - log_density.max()).exp()
    weights = weights / weights.sum()
    moments = []
    for k in range(2):
        values = grid[..., k]
        mean = (weights * values).sum()
        moments.append((float(mean), float((weights * (values - mean) ** 2).sum().sqrt())))
    return moments


def _run_pplkit(jit: bool) -> Callable[[torch.Tensor, int, int], torch.Tensor]:
    def run(data: torch.Tensor, warmup: int, samples: int) -> torch.Tensor:
        pplkit.set_rng_seed(0)
        kernel = NUTS(mixture, init_strategy=init_to_mean, jit_compile=jit)
        mcmc = MCMC(kernel, num_samples=samples, warmup_steps=warmup, disable_progbar=True)
        mcmc.run(data)
        return mcmc.get_samples()["locs"]

    return run


def _run_pyro(data: torch.Tensor, warmup: int, samples: int) -> torch.Tensor:
    import pyro
    import pyro.distributions as pdist
    from pyro.infer import MCMC as PyroMCMC
    from pyro.infer import NUTS as PyroNUTS
    from pyro.infer.autoguide import init_to_mean as pyro_init_to_mean

    def pyro_mixture(data: torch.Tensor) -> None:
        locs = pyro.sample("locs", pdist.Normal(PRIOR_LOCS, 2.0).to_event(1))
        with pyro.plate("data", len(data)):
            which = pyro.sample("which", pdist.Categorical(WEIGHTS))
            pyro.sample("x", pdist.Normal(locs[which], 1.0), obs=data)

    pyro.set_rng_seed(0)
    kernel = PyroNUTS(pyro_mixture, init_strategy=pyro_init_to_mean, max_plate_nesting=1)
    mcmc = PyroMCMC(kernel, num_samples=samples, warmup_steps=warmup, disable_progbar=True)
    mcmc.run(data)
    return mcmc.get_samples()["locs"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 warmup + 200 samples")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(1)
    warmup, samples = (100, 200) if args.quick else (300, 500)
    data = mixture_data()
    exact = exact_moments(data)
    print(f"{warmup} warmup + {samples} samples; 20 points; the assignments summed out by enumeration")
    print(f"{'':16s} {'mean loc0':>9s} {'mean loc1':>9s} {'sd loc0':>8s} {'sd loc1':>8s} {'wall s':>7s} "
          f"{'min ESS':>7s} {'ESS/s':>6s}")  # fmt: skip
    print(f"{'exact (grid)':16s} {exact[0][0]:9.3f} {exact[1][0]:9.3f} {exact[0][1]:8.3f} {exact[1][1]:8.3f}")
    runs: list[tuple[str, Any]] = [
        ("pplkit eager", _run_pplkit(False)),
        ("pplkit compiled", _run_pplkit(True)),
        ("Pyro", _run_pyro),
    ]
    for name, run in runs:
        start = time.perf_counter()
        draws = run(data, warmup, samples)
        seconds = time.perf_counter() - start
        ess = min(float(effective_sample_size(draws[None, :, k])) for k in range(2))
        means, sds = draws.mean(0), draws.std(0)
        print(f"{name:16s} {means[0]:9.3f} {means[1]:9.3f} {sds[0]:8.3f} {sds[1]:8.3f} {seconds:7.1f} "
              f"{ess:7.0f} {ess / seconds:6.1f}")  # fmt: skip
    print(f"(at ESS 200, 4 Monte Carlo standard errors are {4 / math.sqrt(200):.2f} posterior sds)")


if __name__ == "__main__":
    main()

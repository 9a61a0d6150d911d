"""NUTS in effective samples per CPU second: pplkit eager, pplkit compiled, Pyro, NumPyro.

``python -m bench speed`` (or ``python -m bench.bench_speed``). ``--quick`` (or
``PPLKIT_BENCH_QUICK=1``) runs in minutes: 200 warmup + 400 samples, one round, 10 and
100 groups; the full run is 500 + 1000, three rounds, 10, 100 and 1000 groups.
``--groups 1000`` runs only the hierarchical model at the given group counts.

Models: the intro tutorial's regression (``pplkit.examples.model``) and a non-centred
hierarchical model (group means ``mu + tau * theta_raw``, 5 observations per group).
Every library samples the same data with the same settings (diagonal mass matrix,
step-size adaptation, max tree depth 10, target acceptance 0.8), one after the other in
one process, the order rotating each round, on one thread each (torch and XLA).
Sampling times are process CPU time, so other jobs on a shared machine do not count.
Compile time is wall time (Inductor compiles in worker processes, whose CPU time the
process does not see), reported on its own and included in the second ESS/s column:
pplkit's is the trace and Inductor compile of the leapfrog step; NumPyro's is its
first run minus a second run of the same shapes (which reuses the compiled code). The ESS of every run is computed by
the same function (pplkit's, Stan's formula); the table shows medians over rounds of
the smallest ESS over all latent elements.

Then 4 vectorized chains against 1 chain, with pplkit compiled: the CPU time of each
run and their ratio (the issue's target: at most 1.5x).
NumPyro, JAX and Pyro are imported here only, and rows are skipped without them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from typing import Any, Callable

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import examples
from pplkit.infer.mcmc import MCMC, NUTS, MCMCWarning, effective_sample_size

from .numpyro_models import numpyro_models
from .pyro_models import pyro_models


def hierarchical_data(num_groups: int, per_group: int = 5) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(group, y, num_groups): ``per_group`` draws around each of ``num_groups`` group means."""
    generator = torch.Generator().manual_seed(0)
    group = torch.arange(num_groups).repeat_interleave(per_group)
    theta = 1.0 + 2.0 * torch.randn(num_groups, generator=generator)
    y = theta[group] + 1.5 * torch.randn(len(group), generator=generator)
    return group, y, num_groups


def hierarchical(group: torch.Tensor, y: torch.Tensor, num_groups: int) -> None:
    """The non-centred hierarchical model; NumPyro's twin is in numpyro_models.py."""
    mu = pplkit.sample("mu", dist.Normal(0.0, 5.0))
    tau = pplkit.sample("tau", dist.HalfNormal(5.0))
    sigma = pplkit.sample("sigma", dist.HalfNormal(5.0))
    with pplkit.plate("groups", num_groups):
        theta_raw = pplkit.sample("theta_raw", dist.Normal(0.0, 1.0))
    theta = mu + tau * theta_raw
    with pplkit.plate("data", len(y)):
        pplkit.sample("y", dist.Normal(theta[group], sigma), obs=y)


def _min_ess(samples: dict[str, Any]) -> float:
    """The smallest ESS over every element of every site; samples shaped (chains, draws, ...)."""
    return min(float(effective_sample_size(torch.as_tensor(v)).min()) for v in samples.values())


def _run_pplkit(
    model: Callable, data: tuple, warmup: int, samples: int, seed: int, jit: bool, chains: int = 1
) -> dict[str, Any]:
    pplkit.set_rng_seed(seed)
    kernel = NUTS(model, jit_compile=jit)
    method = "vectorized" if chains > 1 else "sequential"
    mcmc = MCMC(
        kernel, num_samples=samples, warmup_steps=warmup, num_chains=chains, chain_method=method, disable_progbar=True
    )
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCMCWarning)  # short benchmark runs may warn about ESS
        mcmc.run(*data)
    seconds = time.process_time() - start
    compile_s = compile_cpu = 0.0
    step = kernel.compiled_step if chains == 1 else (mcmc.batched_step and mcmc.batched_step.compiled)
    if step is not None:
        compile_s, compile_cpu = step.trace_seconds + step.compile_seconds, step.cpu_seconds
    return {
        "seconds": seconds - compile_cpu,
        "compile": compile_s,
        "ess": _min_ess(mcmc.get_samples(group_by_chain=True)),
        "samples": mcmc.get_samples(),
    }


def _run_pyro(model: Callable, data: tuple, warmup: int, samples: int, seed: int) -> dict[str, Any]:
    import pyro
    from pyro.infer import MCMC as PyroMCMC
    from pyro.infer import NUTS as PyroNUTS

    pyro.set_rng_seed(seed)
    mcmc = PyroMCMC(PyroNUTS(model), num_samples=samples, warmup_steps=warmup, disable_progbar=True)
    start = time.process_time()
    mcmc.run(*data)
    seconds = time.process_time() - start
    grouped = {k: v.unsqueeze(0) for k, v in mcmc.get_samples().items()}
    return {"seconds": seconds, "compile": 0.0, "ess": _min_ess(grouped), "samples": mcmc.get_samples()}


def _run_numpyro(model: Callable, data: tuple, warmup: int, samples: int, seed: int) -> dict[str, Any]:
    import jax
    import numpy as np
    from numpyro.infer import MCMC as NumPyroMCMC
    from numpyro.infer import NUTS as NumPyroNUTS

    args = tuple(a.numpy() if isinstance(a, torch.Tensor) else a for a in data)
    times, walls = [], []
    # One MCMC object run twice: the second run reuses its compiled sampler, so the
    # difference between the two is the compile time.
    mcmc = NumPyroMCMC(NumPyroNUTS(model), num_warmup=warmup, num_samples=samples, progress_bar=False)
    for repeat in range(2):
        start, wall = time.process_time(), time.perf_counter()
        mcmc.run(jax.random.PRNGKey(seed + repeat), *args)
        jax.block_until_ready(mcmc.get_samples())
        times.append(time.process_time() - start)
        walls.append(time.perf_counter() - wall)
    grouped = {k: np.asarray(v)[None] for k, v in mcmc.get_samples().items()}
    flat = {k: torch.as_tensor(np.array(v)) for k, v in mcmc.get_samples().items()}
    return {"seconds": times[1], "compile": max(walls[0] - walls[1], 0.0), "ess": _min_ess(grouped), "samples": flat}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; ``argv`` as on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="minutes: 200 + 400 draws, one round, 10/100 groups")
    parser.add_argument(
        "--groups", type=int, nargs="+", help="only the hierarchical model at these group counts (no intro, no chains)"
    )
    args = parser.parse_args(argv or [])
    quick = args.quick or os.environ.get("PPLKIT_BENCH_QUICK") == "1"
    warmup, samples, rounds = (200, 400, 1) if quick else (500, 1000, 3)
    group_counts = args.groups or ((10, 100) if quick else (10, 100, 1000))
    torch.set_num_threads(1)
    have_pyro, numpyro = pyro_models(), numpyro_models()
    problems: list[tuple[str, tuple, dict[str, Callable]]] = []
    intro = {
        "pplkit eager": lambda d, s: _run_pplkit(examples.model, d, warmup, samples, s, jit=False),
        "pplkit compiled": lambda d, s: _run_pplkit(examples.model, d, warmup, samples, s, jit=True),
    }
    if have_pyro:
        intro["Pyro"] = lambda d, s: _run_pyro(have_pyro["model"], d, warmup, samples, s)
    if numpyro:
        intro["NumPyro"] = lambda d, s: _run_numpyro(numpyro["model"], d, warmup, samples, s)
    if not args.groups:
        problems.append(("intro model", examples.rugged_data(), intro))
    for groups in group_counts:
        runners = {
            "pplkit eager": lambda d, s: _run_pplkit(hierarchical, d, warmup, samples, s, jit=False),
            "pplkit compiled": lambda d, s: _run_pplkit(hierarchical, d, warmup, samples, s, jit=True),
        }
        if numpyro:
            runners["NumPyro"] = lambda d, s: _run_numpyro(numpyro["hierarchical"], d, warmup, samples, s)
        problems.append((f"hierarchical, {groups} groups", hierarchical_data(groups), runners))
    print(f"NUTS, {warmup} warmup + {samples} samples, {rounds} round(s), one thread, CPU seconds", flush=True)
    for title, data, runners in problems:
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
        for r in range(rounds):
            names = list(runners)
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                run = runners[name](data, r)
                results[name].append(run)
                print(
                    f"  {title}, round {r + 1}, {name}: {run['seconds']:.1f} s + compile {run['compile']:.1f} s, "
                    f"min ESS {run['ess']:.0f}",
                    flush=True,
                )
        _print_table(title, results)
    if not args.groups:
        _print_chains(warmup, samples)


def _print_table(title: str, results: dict[str, list[dict[str, Any]]]) -> None:
    med = statistics.median
    print(f"\n{title}")
    print(f"{'':>16} {'CPU s':>8} {'compile s':>10} {'min ESS':>8} {'ESS/s':>8} {'ESS/s incl. compile':>20}")
    rows = {}
    for name, runs in results.items():
        seconds, compile_s, ess = (
            med([r["seconds"] for r in runs]),
            med([r["compile"] for r in runs]),
            med([r["ess"] for r in runs]),
        )
        rows[name] = (ess / seconds, ess / (seconds + compile_s))
        print(f"{name:>16} {seconds:8.1f} {compile_s:10.1f} {ess:8.0f} {rows[name][0]:8.1f} {rows[name][1]:20.1f}")
    if "NumPyro" in rows:
        for name, (plain, with_compile) in rows.items():
            if name != "NumPyro":
                print(
                    f"{name:>16} / NumPyro: ESS/s {plain / rows['NumPyro'][0]:.2f}x, "
                    f"incl. compile {with_compile / rows['NumPyro'][1]:.2f}x"
                )
    first = {name: runs[0]["samples"] for name, runs in results.items()}
    sites = [k for k in next(iter(first.values())) if next(iter(first.values()))[k].dim() == 1][:5]
    for name, s in first.items():
        print(
            f"{name:>16} mean (sd): "
            + "  ".join(f"{k} {float(s[k].mean()):.3f} ({float(s[k].std()):.3f})" for k in sites)
        )


def _print_chains(warmup: int, samples: int) -> None:
    data = examples.rugged_data()
    print(f"\n4 vectorized chains against 1, intro model, pplkit compiled, {warmup} + {samples} draws per chain")
    runs = {}
    for chains in (1, 4, 1, 4):
        run = _run_pplkit(examples.model, data, warmup, samples, seed=chains, jit=True, chains=chains)
        runs.setdefault(chains, []).append(run)
    one, four = (statistics.median([r["seconds"] for r in runs[c]]) for c in (1, 4))
    one_c, four_c = (statistics.median([r["seconds"] + r["compile"] for r in runs[c]]) for c in (1, 4))
    print(
        f"  compile excluded: 1 chain {one:.1f} CPU s, 4 vectorized chains {four:.1f} CPU s, ratio {four / one:.2f}x "
        "(target <= 1.5x)"
    )
    print(
        f"  compile included: 1 chain {one_c:.1f} CPU s, 4 vectorized chains {four_c:.1f} CPU s, "
        f"ratio {four_c / one_c:.2f}x"
    )
    print(
        f"  min ESS: 1 chain {statistics.median([r['ess'] for r in runs[1]]):.0f}, "
        f"4 chains {statistics.median([r['ess'] for r in runs[4]]):.0f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""NUTS on the intro tutorial's model: pplkit against Pyro, in effective samples per second.

``python -m bench.bench_nuts`` (or ``python -m bench nuts``); ``--quick`` for a short
smoke run, ``--repeats N`` for more pairs. Both libraries sample the same data with
the same settings (500 warmup + 1000 samples, step-size and diagonal mass-matrix
adaptation, max tree depth 10, target acceptance 0.8, uniform(-2, 2) initialisation),
one after the other in one process, alternating which goes first, so machine noise
hits both alike. The effective sample size of both runs is computed by the same
function (pplkit's, which uses Stan's formula as ``pyro.ops.stats`` does); the table
shows medians over the repeats. Pyro is imported only here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import torch

import pplkit
from pplkit import examples
from pplkit.infer.mcmc import MCMC, NUTS, effective_sample_size

from .pyro_models import pyro_models

SITES = ("a", "bA", "bR", "bAR", "sigma")
TARGET_RATIO = 3.0


def _run_pplkit(data: tuple[torch.Tensor, ...], warmup: int, samples: int, seed: int) -> dict[str, Any]:
    pplkit.set_rng_seed(seed)
    mcmc = MCMC(NUTS(examples.model), num_samples=samples, warmup_steps=warmup, disable_progbar=True)
    start = time.perf_counter()
    mcmc.run(*data)
    seconds = time.perf_counter() - start
    steps = sum(t.num_steps for t in mcmc.transitions[0]) / samples
    return {"seconds": seconds, "samples": mcmc.get_samples(), "steps": steps}


def _run_pyro(data: tuple[torch.Tensor, ...], warmup: int, samples: int, seed: int) -> dict[str, Any]:
    import pyro
    from pyro.infer import MCMC as PyroMCMC
    from pyro.infer import NUTS as PyroNUTS

    pyro.set_rng_seed(seed)
    pyro.clear_param_store()
    mcmc = PyroMCMC(PyroNUTS(pyro_models()["model"]), num_samples=samples, warmup_steps=warmup, disable_progbar=True)
    start = time.perf_counter()
    mcmc.run(*data)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "samples": mcmc.get_samples(), "steps": float("nan")}


def _ess_per_second(run: dict[str, Any]) -> dict[str, float]:
    return {site: float(effective_sample_size(run["samples"][site].unsqueeze(0))) / run["seconds"] for site in SITES}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; ``argv`` as on the command line (none: the full run, as ``python -m bench`` does)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_nuts", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 100 warmup + 200 samples, 1 pair")
    parser.add_argument("--repeats", type=int, default=None, help="pairs of runs (default 3, or 1 with --quick)")
    args = parser.parse_args(argv or [])
    warmup, samples = (100, 200) if args.quick else (500, 1000)
    repeats = args.repeats or (1 if args.quick else 3)
    data = examples.rugged_data()
    runners = {"pplkit": _run_pplkit, "pyro": _run_pyro}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
    print(f"NUTS, intro model, {warmup} warmup + {samples} samples, {repeats} pair(s) of runs", flush=True)
    for r in range(repeats):
        order = list(runners) if r % 2 == 0 else list(reversed(runners))
        for name in order:
            run = runners[name](data, warmup, samples, seed=r)
            run["ess_per_s"] = _ess_per_second(run)
            results[name].append(run)
            print(
                f"  run {r + 1} {name:>6}: {run['seconds']:6.1f} s, min ESS/s {min(run['ess_per_s'].values()):6.1f}",
                flush=True,
            )
    _print_table(results)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _print_table(results: dict[str, list[dict[str, Any]]]) -> None:
    header = (
        f"{'':>8} {'wall s':>8} {'min ESS/s':>10}"
        + "".join(f" {s + ' ESS/s':>12}" for s in SITES)
        + f" {'steps/sample':>13}"
    )
    print("\n" + header)
    summary: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        row = {
            "wall": _median([r["seconds"] for r in runs]),
            "min": _median([min(r["ess_per_s"].values()) for r in runs]),
            **{s: _median([r["ess_per_s"][s] for r in runs]) for s in SITES},
            "steps": _median([r["steps"] for r in runs]),
        }
        summary[name] = row
        print(
            f"{name:>8} {row['wall']:8.1f} {row['min']:10.1f}"
            + "".join(f" {row[s]:12.1f}" for s in SITES)
            + (f" {row['steps']:13.1f}" if row["steps"] == row["steps"] else f" {'-':>13}")  # Pyro: not counted
        )
    ours, theirs = summary["pplkit"], summary["pyro"]
    print(
        f"{'ratio':>8} {theirs['wall'] / ours['wall']:7.2f}x {ours['min'] / theirs['min']:9.2f}x"
        + "".join(f" {ours[s] / theirs[s]:11.2f}x" for s in SITES)
    )
    print("Ratio row: pplkit over Pyro for ESS/s; Pyro over pplkit for wall time (ratios of the medians).")
    # Each pair ran back to back, so its ratio cancels most of the machine's slow spells.
    pairs = list(zip(results["pplkit"], results["pyro"]))
    ess_ratios = [min(a["ess_per_s"].values()) / min(b["ess_per_s"].values()) for a, b in pairs]
    wall_ratios = [b["seconds"] / a["seconds"] for a, b in pairs]
    print("Per pair, min ESS/s ratio: " + ", ".join(f"{r:.2f}x" for r in ess_ratios), end="")
    print(f"  (median {_median(ess_ratios):.2f}x); wall ratio median {_median(wall_ratios):.2f}x")
    verdict = "meets" if _median(ess_ratios) >= TARGET_RATIO else "misses"
    print(f"\npplkit {verdict} the target of {TARGET_RATIO:.0f}x Pyro's min ESS/s (median over pairs).")
    print("\nPosterior mean (sd), first run of each:")
    for name, runs in results.items():
        s = runs[0]["samples"]
        print(f"{name:>8} " + "  ".join(f"{k} {float(s[k].mean()):7.3f} ({float(s[k].std()):.3f})" for k in SITES))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Do the explorer's tutorial defaults converge, for every guide it offers, on 10 seeds?

``python -m bench.bench_convergence`` (or ``python -m bench convergence``; ``--seeds N``).

Each fit is what tutorial 03 runs: the intro model on the rugged data, 800 requested
steps, Adam lr 0.03, through :func:`widgets.explorer.fitting.fit`, which keeps going up to
``BUDGET_FACTOR`` times the request until :func:`widgets.training.convergence.assess` says the loss
has levelled off. Per guide the table shows how many seeds converged, the steps they took,
the final loss (median of the last window) and the posterior mean of ``bR`` (negative
outside Africa when the fit is right; NUTS gives about -0.18) and the a-sigma posterior
correlation (NUTS: about -0.1; a collapsed multivariate fit showed -0.78).
Target: every guide converged on every seed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

import pplkit
from pplkit.examples import custom_guide, model, rugged_data
from widgets.explorer.fitting import AUTOGUIDES, FitRequest, fit
from widgets.views.toggles import Toggles

NUM_STEPS, LR = 800, 0.03  # tutorial 03's settings (widgets.explore's lr)


def run(seeds: int) -> bool:
    torch.set_num_threads(1)
    data = rugged_data()
    guides = {**AUTOGUIDES, "hand-written mean field": custom_guide}
    print(f"{'guide':<30} {'converged':>9} {'steps (min-max)':>16} {'loss (min-max)':>16} "
          f"{'bR mean (min-max)':>20} {'corr(a, sigma) max|.|':>22} {'s/fit':>6}")
    all_converged = True
    for name in guides:
        verdicts, steps, levels, slopes, corrs, seconds = [], [], [], [], [], []
        for seed in range(seeds):
            pplkit.set_rng_seed(seed)
            start = time.perf_counter()
            result = fit(model, data, {}, FitRequest(Toggles(), name, NUM_STEPS, LR), guides, num_samples=300)
            seconds.append(time.perf_counter() - start)
            assert result is not None and result.convergence is not None
            verdicts.append(result.convergence.converged)
            steps.append(len(result.losses))
            levels.append(result.convergence.level)
            slopes.append(float(result.posterior["bR"].mean()))
            pair = torch.stack([result.posterior["a"].reshape(-1), result.posterior["sigma"].reshape(-1)])
            corrs.append(abs(float(torch.corrcoef(pair)[0, 1])) if pair.std(dim=1).min() > 0 else 0.0)
            if not result.convergence.converged:
                print(f"  {name} seed {seed}: {result.convergence.describe()}", file=sys.stderr)
        all_converged &= all(verdicts)
        print(f"{name:<30} {sum(verdicts):>4}/{seeds:<4} {min(steps):>7}-{max(steps):<8} "
              f"{min(levels):>7.1f}-{max(levels):<8.1f} {min(slopes):>9.3f}-{max(slopes):<10.3f} "
              f"{max(corrs):>22.2f} {statistics.mean(seconds):>6.1f}", flush=True)
    print("target: every guide converged on every seed:", "met" if all_converged else "NOT met")
    return all_converged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    run(parser.parse_args(argv if argv is not None else []).seeds)


if __name__ == "__main__":
    main(sys.argv[1:])

"""SVI step time on the intro tutorial's model: pplkit and Pyro against hand-written torch.

``python -m bench.bench_svi`` (or ``python -m bench svi``). Every row fits the
Bayesian regression of ``pplkit.examples.model`` to the ruggedness data with Adam
(lr 0.02) and a single-sample ELBO. The reference row is a pure-torch loop written
per site, as the model is: five latent sites, a loc and a log-scale param per site,
sigma pushed onto its (0, 10) support by ``biject_to``, and the distributions built
inside the step as a model function builds them.

The rows run interleaved in one process: each round times a block of steps of every
row, in turn, so machine noise hits all rows alike; the table shows the median
per-step time over rounds and the median over rounds of the ratio to the reference
timed in the same round. pplkit's Adam uses torch's fused kernel, so the table also
compares every row with the hand-written loop given that kernel. Times are process CPU
time, and torch runs on one thread: on a shared 2-core machine the intra-op thread pool
only adds stalls on these tiny tensors, and CPU time leaves out the time other jobs hold
the cores (to every row alike).

First, the first step in a fresh process (wall time, each of three runs in a new
interpreter), with the target of 1 s: that step used to pay seconds for torch
importing its compiler on the first optimizer step.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Hashable, TypeVar

import torch
import torch.distributions as td

import pplkit
from pplkit import examples
from pplkit.infer import SVI, AutoMultivariateNormal, AutoNormal, Trace_ELBO
from pplkit.optim import Adam

from .pyro_models import pyro_models

BLOCK_STEPS = 100
ROUNDS = 12
WARMUP_STEPS = 100
LR = 0.02
TARGET_RATIO = 1.0
FULL_BATCH_ROWS = 1_000_000
FULL_BATCH_ROUNDS = 15
FULL_BATCH_STEPS = 5
FULL_BATCH_TARGET = 1.1

Data = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Row = TypeVar("Row", bound=Hashable)


def hand_written(data: Data, fused: bool = False) -> Callable[[], float]:
    """The same ELBO and Adam in plain torch, one site at a time (``fused``: torch's fused Adam kernel)."""
    is_cont_africa, ruggedness, log_gdp = data
    names = ["a", "bA", "bR", "bAR", "sigma"]
    locs = {n: torch.zeros((), requires_grad=True) for n in names}
    log_scales = {n: torch.full((), -2.3, requires_grad=True) for n in names}
    optimizer = torch.optim.Adam([*locs.values(), *log_scales.values()], lr=LR, fused=fused or None)
    to_sigma = td.biject_to(td.constraints.interval(0.0, 10.0))

    def latent(name: str, prior: td.Distribution) -> tuple[torch.Tensor, torch.Tensor]:
        q = td.Normal(locs[name], log_scales[name].exp())
        z = q.rsample()
        return z, prior.log_prob(z) - q.log_prob(z)

    def step() -> float:
        a, elbo_a = latent("a", td.Normal(0.0, 10.0))
        b_a, elbo_ba = latent("bA", td.Normal(0.0, 1.0))
        b_r, elbo_br = latent("bR", td.Normal(0.0, 1.0))
        b_ar, elbo_bar = latent("bAR", td.Normal(0.0, 1.0))
        q = td.Normal(locs["sigma"], log_scales["sigma"].exp())
        u = q.rsample()
        sigma = to_sigma(u)
        log_q_sigma = q.log_prob(u) - to_sigma.log_abs_det_jacobian(u, sigma)
        elbo_sigma = td.Uniform(0.0, 10.0).log_prob(sigma) - log_q_sigma
        mean = a + b_a * is_cont_africa + b_r * ruggedness + b_ar * is_cont_africa * ruggedness
        log_lik = td.Normal(mean, sigma).log_prob(log_gdp).sum()
        loss = -(log_lik + elbo_a + elbo_ba + elbo_br + elbo_bar + elbo_sigma)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    return step


def synthetic_data(rows: int) -> Data:
    """``rows`` rows shaped like the ruggedness data (a 0/1 column, a ruggedness, a log GDP)."""
    generator = torch.Generator().manual_seed(rows)
    is_cont_africa = torch.bernoulli(torch.full((rows,), 0.3), generator=generator)
    ruggedness = torch.rand(rows, generator=generator) * 6.0
    noise = torch.randn(rows, generator=generator)
    log_gdp = 9.2 - 1.9 * is_cont_africa - 0.2 * ruggedness + 0.35 * is_cont_africa * ruggedness + noise
    return is_cont_africa, ruggedness, log_gdp


def pplkit_row(guide_kind: str, data: Data) -> Callable[[], float]:
    store = pplkit.ParamStore()  # each row its own store, so rows never share params
    guide: Any = {
        "custom": examples.custom_guide,
        "AutoNormal": AutoNormal(examples.model),
        "AutoMultivariateNormal": AutoMultivariateNormal(examples.model),
    }[guide_kind]
    svi = SVI(examples.model, guide, Adam({"lr": LR}), Trace_ELBO(), param_store=store)
    return lambda: svi.step(*data)


def pyro_row(guide_kind: str, data: Data) -> Callable[[], float] | None:
    models = pyro_models()
    if models is None:
        return None
    from pyro.infer import SVI as PyroSVI
    from pyro.infer import Trace_ELBO as PyroTraceELBO
    from pyro.infer.autoguide import AutoMultivariateNormal as PyroMVN
    from pyro.infer.autoguide import AutoNormal as PyroNormal
    from pyro.optim import Adam as PyroAdam

    model, custom_guide = models["model"], models["custom_guide"]
    guide: Any = {"custom": custom_guide, "AutoNormal": PyroNormal(model), "AutoMultivariateNormal": PyroMVN(model)}[
        guide_kind
    ]
    # Pyro has one global param store; prefixes keep the rows' params apart.
    svi = PyroSVI(model, guide, PyroAdam({"lr": LR}), PyroTraceELBO())
    return lambda: svi.step(*data)


def _time_block(step: Callable[[], float], steps: int) -> float:
    # CPU time of this process: the work is single-threaded (torch on one thread, CPU
    # autograd runs in the calling thread), and time spent descheduled by other jobs on
    # a shared machine does not count.
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) / steps


def measure(
    rows: dict[Row, Callable[[], float]], rounds: int, block_steps: int, warmup_steps: int = WARMUP_STEPS
) -> dict[Row, list[float]]:
    """Per-step seconds of each row, one entry per round, the rows interleaved."""
    for step in rows.values():
        _time_block(step, warmup_steps)
    times: dict[Row, list[float]] = {name: [] for name in rows}
    for r in range(rounds):
        order = list(rows) if r % 2 == 0 else list(reversed(rows))  # no row always goes first
        for name in order:
            times[name].append(_time_block(rows[name], block_steps))
    return times


# Timed in a fresh interpreter: the first step is where one-off costs land (imports
# torch makes lazily, the params' creation, the first structure check).
FIRST_STEP = """
import time
import torch
torch.set_num_threads(1)
from pplkit import examples
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam
data = examples.rugged_data()
svi = SVI(examples.model, AutoNormal(examples.model), Adam({"lr": 0.02}), Trace_ELBO())
start = time.perf_counter()
svi.step(*data)
first = time.perf_counter() - start
start = time.perf_counter()
svi.step(*data)
print(first, time.perf_counter() - start)
"""
FIRST_STEP_TARGET_S = 1.0


def first_step_in_fresh_process(runs: int = 3) -> tuple[float, float]:
    """Median wall seconds of the first and the second SVI step, each run in a new interpreter."""
    firsts, seconds = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", FIRST_STEP], capture_output=True, text=True, check=True).stdout
        first, second = map(float, out.split())
        firsts.append(first)
        seconds.append(second)
    return statistics.median(firsts), statistics.median(seconds)


def main() -> None:
    first, second = first_step_in_fresh_process()
    verdict = "meets" if first <= FIRST_STEP_TARGET_S else "MISSES"
    print(
        f"first SVI step in a fresh process (AutoNormal, intro model, median of 3 runs, wall time): "
        f"{first * 1e3:.0f} ms, then {second * 1e3:.1f} ms; {verdict} the {FIRST_STEP_TARGET_S:g} s target"
    )
    torch.set_num_threads(1)
    pplkit.set_rng_seed(0)
    data = examples.rugged_data()
    rows: dict[str, Callable[[], float]] = {
        "hand-written torch": hand_written(data),
        "hand-written, fused Adam": hand_written(data, fused=True),
    }
    for kind in ("AutoNormal", "custom", "AutoMultivariateNormal"):
        rows[f"pplkit {kind}"] = pplkit_row(kind, data)
    pyro_available = True
    for kind in ("AutoNormal", "custom", "AutoMultivariateNormal"):
        step = pyro_row(kind, data)
        if step is None:
            pyro_available = False
            break
        rows[f"pyro {kind}"] = step
    times = measure(rows, ROUNDS, BLOCK_STEPS)
    reference = times["hand-written torch"]
    fused = times["hand-written, fused Adam"]
    print(f"SVI step on the intro model: {ROUNDS} rounds x {BLOCK_STEPS} steps per row, interleaved, 1 torch thread")
    print(f"{'row':<30}{'median us/step':>16}{'vs hand':>10}{'vs hand (fused Adam)':>22}")
    ratios = {}
    for name, per_round in times.items():
        ratio = statistics.median(t / ref for t, ref in zip(per_round, reference))
        ratio_fused = statistics.median(t / ref for t, ref in zip(per_round, fused))
        ratios[name] = ratio
        print(f"{name:<30}{statistics.median(per_round) * 1e6:>16.0f}{ratio:>9.2f}x{ratio_fused:>21.2f}x")
    if not pyro_available:
        print("(pyro-ppl is not installed: no Pyro rows)")
    verdict = "meets" if ratios["pplkit AutoNormal"] <= TARGET_RATIO else "MISSES"
    print(f"pplkit AutoNormal {ratios['pplkit AutoNormal']:.2f}x hand-written: {verdict} the {TARGET_RATIO}x target")
    for kind in ("AutoNormal", "custom", "AutoMultivariateNormal"):
        if f"pyro {kind}" in ratios:
            speedup = ratios[f"pyro {kind}"] / ratios[f"pplkit {kind}"]
            print(f"{kind}: pplkit is {speedup:.2f}x faster than Pyro")
    full_batch()


def full_batch() -> None:
    """The intro model on FULL_BATCH_ROWS synthetic rows, no subsampling: the per-row work dominates."""
    data = synthetic_data(FULL_BATCH_ROWS)
    rows = {"hand-written torch": hand_written(data), "pplkit AutoNormal": pplkit_row("AutoNormal", data)}
    times = measure(rows, FULL_BATCH_ROUNDS, FULL_BATCH_STEPS, warmup_steps=FULL_BATCH_STEPS)
    reference = times["hand-written torch"]
    print(
        f"full batch, {FULL_BATCH_ROWS:,} rows: {FULL_BATCH_ROUNDS} rounds x {FULL_BATCH_STEPS} steps per row, "
        "interleaved, 1 torch thread"
    )
    print(f"{'row':<30}{'median ms/step':>16}{'vs hand':>10}")
    for name, per_round in times.items():
        ratio = statistics.median(t / ref for t, ref in zip(per_round, reference))
        print(f"{name:<30}{statistics.median(per_round) * 1e3:>16.1f}{ratio:>9.2f}x")
    ratio = statistics.median(t / ref for t, ref in zip(times["pplkit AutoNormal"], reference))
    verdict = "meets" if ratio <= FULL_BATCH_TARGET else "MISSES"
    print(
        f"pplkit AutoNormal {ratio:.2f}x hand-written at {FULL_BATCH_ROWS:,} rows: "
        f"{verdict} the {FULL_BATCH_TARGET}x target"
    )


if __name__ == "__main__":
    main()

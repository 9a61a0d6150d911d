"""SVI step time, eager and compiled: pplkit Trace_ELBO / JitTrace_ELBO, Pyro, NumPyro (jax.jit).

``python -m bench svi_speed`` (``PPLKIT_BENCH_QUICK=1`` or ``python -m bench.bench_svi_speed
--quick``: fewer rounds). The intro tutorial's model
(``pplkit.examples.model``) with three guides (AutoNormal, AutoMultivariateNormal and
the tutorial's custom guide) on the 170-row ruggedness data, then AutoNormal on
1e6 synthetic rows, full batch. Every row takes Adam steps (lr 0.02) on a
single-sample ELBO and returns the loss as a float, as ``svi.step`` does; NumPyro's row
is ``jax.jit(svi.update)``, whose step includes the optimizer update.

The rows run interleaved in one process, one thread each (torch, XLA), timed in process
CPU time: each round times a block of steps of every row in turn. The table shows the
median per-step time over rounds and the median ratio to NumPyro's row of the same
round. Compile time is reported separately: for pplkit, the first step (eager, creating
the params) plus tracing and Inductor's compile, in wall time; for NumPyro, ``svi.init``
plus the first call of the jitted update. Inductor keeps compiled graphs on disk, which
would make every run after the first look free; the benchmark gives it a fresh cache
directory, so each row compiles from scratch, and times apart Inductor's one-off check
of the CPU's vector instructions (once per machine, then cached).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import torch

import pplkit
from pplkit import examples
from pplkit.infer import SVI, AutoMultivariateNormal, AutoNormal, JitTrace_ELBO, Trace_ELBO
from pplkit.optim import Adam

from .bench_svi import measure, pyro_row
from .numpyro_models import numpyro_models

LR = 0.02
GUIDES = ("AutoNormal", "AutoMultivariateNormal", "custom")
LARGE_ROWS = 1_000_000

Data = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Step = Callable[[], float]


def large_data(rows: int = LARGE_ROWS) -> Data:
    """Rows like the ruggedness data's, from the model with the tutorial's posterior means."""
    generator = torch.Generator().manual_seed(0)
    is_cont_africa = (torch.rand(rows, generator=generator) < 0.3).float()
    ruggedness = 6.0 * torch.rand(rows, generator=generator)
    mean = examples.linear_mean(9.2, -1.9, -0.2, 0.4, is_cont_africa, ruggedness)
    return is_cont_africa, ruggedness, mean + 0.95 * torch.randn(rows, generator=generator)


def pplkit_row(kind: str, data: Data, jit: bool) -> tuple[Step, float]:
    """A step, and (for ``jit``) the wall seconds of the first step, trace and compile included."""
    store = pplkit.ParamStore()
    guide: Any = {
        "custom": examples.custom_guide,
        "AutoNormal": AutoNormal(examples.model),
        "AutoMultivariateNormal": AutoMultivariateNormal(examples.model),
    }[kind]
    elbo = JitTrace_ELBO() if jit else Trace_ELBO()
    svi = SVI(examples.model, guide, Adam({"lr": LR}), elbo, param_store=store)
    start = time.perf_counter()
    svi.step(*data)
    first = time.perf_counter() - start
    if jit and not any(c.compiled for c in elbo.compiled_losses):  # type: ignore[attr-defined]
        raise RuntimeError(f"JitTrace_ELBO did not compile the {kind} row")
    return (lambda: svi.step(*data)), first


def numpyro_row(kind: str, data: Data) -> tuple[Step, float] | None:
    models = numpyro_models()
    if models is None:
        return None
    import jax
    import jax.numpy as jnp
    import numpyro
    from numpyro.infer import SVI as NumPyroSVI
    from numpyro.infer import Trace_ELBO as NumPyroTraceELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal as NumPyroMVN
    from numpyro.infer.autoguide import AutoNormal as NumPyroNormal

    model = models["model"]
    guide: Any = {
        "custom": models["custom_guide"],
        "AutoNormal": NumPyroNormal(model),
        "AutoMultivariateNormal": NumPyroMVN(model),
    }[kind]
    arrays = tuple(jnp.asarray(t.numpy()) for t in data)
    svi = NumPyroSVI(model, guide, numpyro.optim.Adam(LR), NumPyroTraceELBO())
    start = time.perf_counter()
    state = svi.init(jax.random.PRNGKey(0), *arrays)
    update = jax.jit(svi.update)
    state, loss = update(state, *arrays)
    float(loss)
    first = time.perf_counter() - start

    def step() -> float:
        nonlocal state
        state, loss = update(state, *arrays)
        return float(loss)

    return step, first


def rows_for(kinds: tuple[str, ...], data: Data) -> tuple[dict[str, Step], dict[str, float]]:
    rows: dict[str, Step] = {}
    compile_seconds: dict[str, float] = {}
    for kind in kinds:
        rows[f"pplkit eager {kind}"], _ = pplkit_row(kind, data, jit=False)
        rows[f"pplkit jit {kind}"], compile_seconds[f"pplkit jit {kind}"] = pplkit_row(kind, data, jit=True)
        pyro_step = pyro_row(kind, data)
        if pyro_step is not None:
            rows[f"pyro {kind}"] = pyro_step
        numpyro = numpyro_row(kind, data)
        if numpyro is not None:
            rows[f"numpyro {kind}"], compile_seconds[f"numpyro {kind}"] = numpyro
    return rows, compile_seconds


def print_table(title: str, kinds: tuple[str, ...], times: dict[str, list[float]], compile_s: dict[str, float]) -> None:
    print(title)
    print(f"{'row':<36}{'median us/step':>16}{'vs numpyro':>12}{'compile s':>11}")
    for name, per_round in times.items():
        kind = name.split()[-1]
        reference = times.get(f"numpyro {kind}")
        ratio = statistics.median(t / r for t, r in zip(per_round, reference)) if reference else float("nan")
        compiled = f"{compile_s[name]:.1f}" if name in compile_s else ""
        print(f"{name:<36}{statistics.median(per_round) * 1e6:>16.0f}{ratio:>11.2f}x{compiled:>11}")
    for kind in kinds:
        if f"numpyro {kind}" in times:
            jit, numpyro = times[f"pplkit jit {kind}"], times[f"numpyro {kind}"]
            ratio = statistics.median(t / r for t, r in zip(jit, numpyro))
            verdict = "meets" if ratio <= 1.0 else "MISSES"
            print(f"{kind}: pplkit jit step {ratio:.2f}x NumPyro's: {verdict} the <= 1x target")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; ``argv`` as on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_svi_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args(argv or [])
    quick = args.quick or os.environ.get("PPLKIT_BENCH_QUICK") == "1"
    torch.set_num_threads(1)
    pplkit.set_rng_seed(0)
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="pplkit-bench-inductor-"))
    start = time.perf_counter()
    from torch._inductor.cpu_vec_isa import pick_vec_isa

    isa = pick_vec_isa()
    print(f"Inductor's one-off import and CPU check ({isa}): {time.perf_counter() - start:.1f} s, not in the rows")
    rounds, block = (4, 50) if quick else (10, 100)
    rows, compile_s = rows_for(GUIDES, examples.rugged_data())
    times = measure(rows, rounds, block, warmup_steps=block)
    title = f"SVI step, intro model (170 rows): {rounds} rounds x {block} steps per row, interleaved, 1 thread"
    print_table(title, GUIDES, times, compile_s)
    rows, compile_s = rows_for(("AutoNormal",), large_data())
    rounds, block = (3, 3) if quick else (5, 5)
    times = measure(rows, rounds, block, warmup_steps=2)
    title = f"SVI step, intro model, {LARGE_ROWS:,} rows full batch: {rounds} rounds x {block} steps, interleaved"
    print_table(title, ("AutoNormal",), times, compile_s)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Drawing a model: pplkit's relations + DOT text against Pyro's, and ``dot`` to SVG.

``python -m bench.bench_render`` (or ``python -m bench render``). The two libraries
run interleaved in one process on the intro tutorial's models, so machine noise hits
both alike; each cell is the median time of one call over many calls. Laying the
graph out with the ``dot`` program is timed on its own: it is the same program for
both and costs far more than building the graph.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

import pplkit
from pplkit import examples

from .pyro_models import pyro_models

TARGET_MS = 5.0


def _data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    try:
        return examples.rugged_data()
    except (OSError, ValueError):  # no data folder: the same shapes, made up
        generator = torch.Generator().manual_seed(0)
        return (
            torch.randint(0, 2, (170,), generator=generator).float(),
            torch.rand(170, generator=generator) * 6,
            torch.randn(170, generator=generator) + 8,
        )


def _median_ms(fn: Callable[[], Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(rounds: int = 9, calls: int = 40) -> dict[str, dict[str, float]]:
    args = _data()
    models = pyro_models()
    if models is None:
        raise SystemExit("bench_render compares pplkit with Pyro side by side: install the dev extra (pyro-ppl)")
    from pyro.infer.autoguide import AutoMultivariateNormal as PyroAutoMultivariateNormal

    from pplkit.infer import AutoMultivariateNormal

    with_params = dict(render_params=True, render_distributions=True)
    cases = [  # (row, pplkit's, Pyro's, options); the last is the intro tutorial's autoguide
        ("model", examples.model, models["model"], dict(render_distributions=True)),
        ("simple_model", examples.simple_model, models["simple_model"], with_params),
        ("custom_guide", examples.custom_guide, models["custom_guide"], with_params),
        (
            "AutoMVN guide",
            AutoMultivariateNormal(examples.model),
            PyroAutoMultivariateNormal(models["model"]),
            with_params,
        ),
    ]
    results = {name: _compare(ours, theirs, args, options, rounds, calls) for name, ours, theirs, options in cases}
    _print_table(results)
    return results


def _compare(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    args: tuple[torch.Tensor, ...],
    options: dict[str, bool],
    rounds: int,
    calls: int,
) -> dict[str, float]:
    import pyro

    def run_ours() -> str:
        return pplkit.render_model(ours, model_args=args, **options).source

    def run_pyro() -> str:
        return pyro.render_model(theirs, model_args=args, **options).source

    def run_plain() -> Any:  # the model alone, no handlers: the floor under both
        return ours(*args)

    run_ours(), run_pyro()  # warm up: imports, param creation, caches
    samples: dict[str, list[float]] = {"pplkit": [], "pyro": [], "plain": []}
    for _ in range(rounds):  # interleaved, so noise hits both alike
        samples["pplkit"].append(_median_ms(run_ours, calls))
        samples["pyro"].append(_median_ms(run_pyro, calls))
        samples["plain"].append(_median_ms(run_plain, calls))
    digraph = pplkit.render_model(ours, model_args=args, **options)
    return {
        "pplkit_ms": statistics.median(samples["pplkit"]),
        "pyro_ms": statistics.median(samples["pyro"]),
        "plain_ms": statistics.median(samples["plain"]),
        "dot_svg_ms": statistics.median(_median_ms(lambda: digraph.pipe(format="svg"), 3) for _ in range(3)),
    }


def _print_table(results: dict[str, dict[str, float]]) -> None:
    print("relations + DOT source per call (median), Pyro's render_model on the same model, the model's own")
    print(f"run without handlers, and `dot -Tsvg` on its own. Target: the intro model under {TARGET_MS:.0f} ms.")
    header = (
        f"{'model':<14} {'pplkit ms':>10} {'pyro ms':>10} {'pyro/pplkit':>12} {'model run ms':>13} {'dot->svg ms':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<14} {r['pplkit_ms']:>10.2f} {r['pyro_ms']:>10.2f} {r['pyro_ms'] / r['pplkit_ms']:>11.1f}x"
            f" {r['plain_ms']:>13.2f} {r['dot_svg_ms']:>12.1f}"
        )
    intro = results["model"]["pplkit_ms"]
    print(f"intro model: {intro:.2f} ms, target < {TARGET_MS:.0f} ms: {'met' if intro < TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()

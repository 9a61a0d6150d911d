"""The widgets' costs: the live ELBO chart's overhead on SVI, and how fast the explorer responds.

``python -m bench.bench_widgets`` (or ``python -m bench widgets``).

1. Live chart overhead. SVI on the intro tutorial's model (AutoNormal, Adam lr 0.02) for
   2,000 steps, with and without an ``ElboChart`` as its callback, each from fresh params,
   the runs interleaved in rotating blocks of 200 steps, compared by the CPU time of the
   training thread (wall-clock times are shown too). The chart's comm JSON-encodes every
   message as the kernel would before sending it, so the cost of each sync is counted;
   the time spent inside the chart's callback is reported too. A "viewed" run has a chart
   whose (simulated) view said hello and acknowledges each batch at once, so it streams
   every batch it may, each with its axes description (``widgets.plots.axes``): the most
   the stream can cost the training thread. A fourth run trains
   through a ``TrainingController(blocking=True)``, as ``widgets.train`` and
   ``widgets.live_svi`` do: the chart plus the parameter-trajectory samples, and a
   start and finish of the controller per block (ten per run, where ``widgets.train``
   has one). Target: with the chart, and with the controller, at most 1.05x the time without.
2. Explorer response. An explorer on the same model, fitting 2,000 steps in the background,
   gets a prior change (a slider of ``a``, or ``sigma``'s family) or a conditioning change
   (``obs`` free / conditioned). Measured from the change: the prior predictive view
   redrawn (it is redrawn before the change returns), and the re-fit started (the ELBO
   chart's status turning to "running" in the training thread). Targets: under 300 ms
   and under 100 ms.
3. The stream to the browser. A controller trains in its background thread while a
   simulated browser acknowledges each batch of points after drawing it (instantly, and
   taking 250 ms per drawing, like a CPU-throttled page). Reported: bytes the chart and
   the trajectory view sent per second (what the kernel puts on the websocket), beside
   what the earlier design sent (the whole decimated curve at every sync, measured on
   the same run), and Stop latency in the kernel: from ``stop()`` to the chart's status
   "stopped". The browser-side latency under 4x CPU throttling is measured by
   ``tests/browser/test_stop_latency.py``.

``python -m bench.bench_widgets stream`` runs only part 3.

Torch runs on one thread, as in ``bench_svi``: on a shared 2-core machine its intra-op
thread pool only adds stalls on these small tensors.
"""

from __future__ import annotations

import functools
import json
import statistics
import threading
import time
from typing import Any, Callable

import comm
import torch
from comm.base_comm import BaseComm

import pplkit
from pplkit import examples
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam

NUM_STEPS = 2000
BLOCK_STEPS = 200
ROUNDS = 5
CHANGES_PER_KIND = 8
OVERHEAD_TARGET = 1.05
VIEW_TARGET_MS = 300
FIT_START_TARGET_MS = 100


class SerializingComm(BaseComm):
    """A comm that encodes each message as ipykernel's session does, then drops it."""

    bytes_sent = 0

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        SerializingComm.bytes_sent += len(json.dumps(data, allow_nan=False)) + sum(len(b) for b in buffers or ())


def _fresh_svi() -> SVI:
    pplkit.set_rng_seed(0)
    guide = AutoNormal(examples.model)
    return SVI(examples.model, guide, Adam({"lr": 0.02}), Trace_ELBO(), param_store=pplkit.ParamStore())


class TimedCallback:
    """Wraps a callback and adds up the time spent inside it."""

    def __init__(self, callback: Callable[[Any], Any]) -> None:
        self.callback, self.seconds = callback, 0.0

    def __call__(self, record: Any) -> Any:
        start = time.perf_counter()
        result = self.callback(record)
        self.seconds += time.perf_counter() - start
        return result


VARIANTS = ("plain", "chart", "viewed", "controller")


def viewed_at_once(chart: Any) -> Any:
    """The chart with a view that has said hello and acknowledges each batch as soon as it is sent."""
    send = chart.send

    def send_and_ack(content: dict[str, Any], buffers: Any = None) -> None:
        send(content, buffers)
        if content.get("kind") == "points":
            chart._on_front_end_msg(chart, {"kind": "ack", "seq": content["seq"]}, [])

    chart.send = send_and_ack
    chart._on_front_end_msg(chart, {"kind": "hello"}, [])
    return chart


def chart_overhead(data: Any, rounds: int = ROUNDS) -> dict[str, Any]:
    """Each round: three 2,000-step runs (no chart, the chart, a controller) in rotating blocks of 200 steps.

    Wall-clock times on a shared machine measured its load more than the chart (identical
    runs took 5 to 10 s here). The ratios therefore compare the CPU time of this thread
    (SVI, the chart's syncs and the trajectory samples all run in it; torch uses one
    thread), block by block, and report the median over all blocks run side by side.
    """
    from widgets import ElboChart, TrainingController

    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    ratios: dict[str, list[float]] = {"chart": [], "viewed": [], "controller": []}
    inside = []
    for i in range(rounds):
        svis = {name: _fresh_svi() for name in VARIANTS}
        chart = ElboChart(total_steps=NUM_STEPS)
        timed = TimedCallback(chart)
        viewed = viewed_at_once(ElboChart(total_steps=NUM_STEPS))
        controller = TrainingController(svis["controller"], *data, blocking=True, step_budget=BLOCK_STEPS)
        train: dict[str, Callable[[], Any]] = {
            "plain": functools.partial(svis["plain"].run, BLOCK_STEPS, *data),
            "chart": functools.partial(svis["chart"].run, BLOCK_STEPS, *data, callback=timed),
            "viewed": functools.partial(svis["viewed"].run, BLOCK_STEPS, *data, callback=viewed),
            "controller": functools.partial(controller.run, BLOCK_STEPS),
        }
        total = {name: 0.0 for name in VARIANTS}
        for block in range(NUM_STEPS // BLOCK_STEPS):
            shift = (block + i) % len(VARIANTS)  # each variant runs first, second and third in turn
            block_cpu = {}
            for name in VARIANTS[shift:] + VARIANTS[:shift]:
                start, start_cpu = time.perf_counter(), time.thread_time()
                train[name]()
                block_cpu[name] = time.thread_time() - start_cpu
                total[name] += time.perf_counter() - start
            for name in ratios:
                ratios[name].append(block_cpu[name] / block_cpu["plain"])
        assert chart.status == "done" and chart.step == NUM_STEPS
        assert viewed.status == "done" and viewed._seq > NUM_STEPS // BLOCK_STEPS, "the viewed chart streamed nothing"
        assert controller.chart.status == "done" and controller.chart.step == NUM_STEPS
        assert controller.trajectories.names, "the controller sampled no parameters"
        for name in VARIANTS:
            seconds[name].append(total[name])
        inside.append(timed.seconds / total["chart"])
        print(f"  round {i + 1}: without {total['plain']:.2f} s, with chart {total['chart']:.2f} s, "
              f"viewed chart {total['viewed']:.2f} s, "
              f"with controller {total['controller']:.2f} s, inside the chart {timed.seconds * 1e3:.0f} ms",
              flush=True)
    return {"seconds": {name: statistics.median(v) for name, v in seconds.items()},
            "ratio": {name: statistics.median(v) for name, v in ratios.items()},
            "quartiles": {name: statistics.quantiles(v, n=4) for name, v in ratios.items()},
            "inside": statistics.median(inside)}


def explorer_response(data: Any, changes_per_kind: int = CHANGES_PER_KIND) -> dict[str, list[tuple[float, float]]]:
    """(view ms, fit-start ms) per change, by kind of change."""
    from widgets import ModelExplorer

    explorer = ModelExplorer(examples.model, *data, blocking=False, num_steps=NUM_STEPS)
    started = threading.Event()
    start_time = [0.0]

    def on_status(change: dict[str, Any]) -> None:
        if change["new"] == "running" and not started.is_set():
            start_time[0] = time.perf_counter()
            started.set()

    explorer.chart.observe(on_status, names=["status"])
    drawn_at = [0.0]
    explorer.predictive.observe(lambda change: drawn_at.__setitem__(0, time.perf_counter()), names=["svg"])
    explorer.start()
    started.wait(30)
    time.sleep(0.5)  # a fit is under way when the changes come, as it is for a learner
    sigma_families = ["HalfNormal", "Gamma", "Uniform"]
    kinds: dict[str, Callable[[int], None]] = {
        "prior slider (a: loc)": lambda i: explorer.set_prior("a", "Normal", loc=0.5 * (i + 1), scale=10.0),
        "prior family (sigma)": lambda i: explorer.set_prior("sigma", sigma_families[i % 3]),
        "conditioning (obs)": lambda i: explorer.set_free("obs", i % 2 == 0),
    }
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    try:
        for i in range(changes_per_kind):
            for kind, change in kinds.items():
                started.clear()
                drawn_at[0] = 0.0
                t0 = time.perf_counter()
                change(i)
                if not drawn_at[0]:
                    raise RuntimeError(f"{kind}: the prior predictive view was not redrawn")
                if not started.wait(10):
                    raise RuntimeError(f"{kind}: the re-fit did not start within 10 s")
                results[kind].append(((drawn_at[0] - t0) * 1e3, (start_time[0] - t0) * 1e3))
                time.sleep(0.3)
    finally:
        explorer.close()
    return results


class SimulatedBrowser:
    """Stands in for a chart's and a trajectory view's front end: says hello, acks each batch after ``draw_s``."""

    def __init__(self, controller: Any, draw_s: float) -> None:
        self.chart, self.trajectories, self.draw_s = controller.chart, controller.trajectories, draw_s
        self.whole_curve_bytes = 0  # what re-sending the whole screen copy at every sync would have cost
        send = self.chart.send

        def send_and_ack(content: dict[str, Any], buffers: Any = None) -> None:
            send(content, buffers)
            screen_points = len(self.chart.history.screen().steps)
            self.whole_curve_bytes += screen_points * len(content["names"]) * 8
            self._later(self.chart, {"kind": "ack", "seq": content["seq"]})

        self.chart.send = send_and_ack  # type: ignore[method-assign]
        self.trajectories.observe(lambda _: self._later(self.trajectories, {"kind": "ack"}), names=["steps"])
        self.chart._on_front_end_msg(self.chart, {"kind": "hello"}, [])
        self.trajectories._on_front_end_msg(self.trajectories, {"kind": "hello"}, [])

    def _later(self, widget: Any, content: dict[str, Any]) -> None:
        timer = threading.Timer(self.draw_s, widget._on_front_end_msg, args=(widget, content, []))
        timer.daemon = True
        timer.start()


def stream_and_stop(data: Any, seconds: float = 4.0, repeats: int = 2,
                    curve_steps: int = 1000) -> list[dict[str, float]]:
    """Per simulated drawing time: bytes per second sent (new and whole-curve designs), Stop latency in ms.

    Each run first trains ``curve_steps`` steps in this thread, so the chart already holds a
    long curve (the earlier design's cost grew with it), then trains in the background.
    """
    from widgets import TrainingController

    results = []
    for draw_s in (0.0, 0.25):
        for _ in range(repeats):
            controller = TrainingController(_fresh_svi(), *data, num_steps=curve_steps, terms=True, blocking=True,
                                            step_budget=curve_steps)
            controller.run()
            controller._runner.blocking = False  # from here on as in a notebook: training in a thread
            controller.steps.value = 1_000_000
            browser = SimulatedBrowser(controller, draw_s)
            stopped_at = [0.0]

            def on_status(change: dict[str, Any], stopped_at: list[float] = stopped_at) -> None:
                if change["new"] == "stopped":
                    stopped_at[0] = time.perf_counter()

            controller.chart.observe(on_status, names=["status"])
            controller.run()
            deadline = time.monotonic() + 30
            while controller.chart.step <= curve_steps and time.monotonic() < deadline:
                time.sleep(0.01)
            before, steps_before = SerializingComm.bytes_sent, controller.chart.step
            browser.whole_curve_bytes = 0
            time.sleep(seconds)
            sent = SerializingComm.bytes_sent - before
            t0 = time.perf_counter()
            controller.stop()
            controller.wait(timeout=30)
            steps = controller.chart.step - steps_before
            results.append({"draw_ms": draw_s * 1e3, "bytes_per_s": sent / seconds,
                            "whole_curve_bytes_per_s": browser.whole_curve_bytes / seconds,
                            "steps_per_s": steps / seconds, "stop_ms": (stopped_at[0] - t0) * 1e3})
            controller.close()
    return results


def print_stream(results: list[dict[str, float]]) -> None:
    print(f"\n{'simulated drawing time':24} {'steps/s':>8} {'sent KiB/s':>11} {'whole-curve KiB/s':>18} "
          f"{'Stop -> stopped':>16}")
    for r in results:
        print(f"{r['draw_ms']:20.0f} ms {r['steps_per_s']:8.0f} {r['bytes_per_s'] / 1024:11.1f} "
              f"{r['whole_curve_bytes_per_s'] / 1024:18.1f} {r['stop_ms']:13.1f} ms")


def main() -> None:
    import sys

    torch.set_num_threads(1)
    comm.create_comm = SerializingComm
    data = examples.rugged_data()
    if sys.argv[1:] == ["stream"]:
        print("Stream to the browser: a controller with a 1,000-step curve training on in the background, 4 s per run")
        print_stream(stream_and_stop(data))
        return

    print(f"Live ELBO chart: SVI {NUM_STEPS} steps on the intro model (AutoNormal), {ROUNDS} interleaved rounds")
    overhead = chart_overhead(data)
    print(f"\n{'measurement':50} {'median':>10} {'quartiles':>17}   target")
    for name, label in (("plain", "without the chart"), ("chart", "with the chart"),
                        ("viewed", "with a viewed, streaming chart"), ("controller", "with a TrainingController")):
        print(f"{'2,000 steps ' + label + ' (s)':50} {overhead['seconds'][name]:10.2f}")
    for name, label in (("chart", "chart"), ("viewed", "viewed chart"), ("controller", "controller")):
        ratio, (low, _, high) = overhead["ratio"][name], overhead["quartiles"][name]
        verdict = "ok" if ratio <= OVERHEAD_TARGET else "MISSED"
        print(f"{'CPU-time ratio with the ' + label + ' / without (blocks)':50} {ratio:9.3f}x "
              f"{low:7.3f}x-{high:.3f}x   <= {OVERHEAD_TARGET}x  {verdict}")
    print(f"{'share of the run spent inside the chart':50} {100 * overhead['inside']:9.2f}%")

    print(f"\nExplorer response on the intro model, {CHANGES_PER_KIND} changes of each kind, "
          f"while a {NUM_STEPS}-step fit runs")
    response = explorer_response(data)
    print(f"\n{'change -> effect':44} {'median':>10} {'worst':>10}   target")
    for kind, samples in response.items():
        views, starts = [v for v, _ in samples], [s for _, s in samples]
        for what, values, target in (("prior predictive view", views, VIEW_TARGET_MS),
                                     ("re-fit started", starts, FIT_START_TARGET_MS)):
            verdict = "ok" if statistics.median(values) < target else "MISSED"
            print(f"{kind + ' -> ' + what:44} {statistics.median(values):8.0f}ms {max(values):8.0f}ms   "
                  f"< {target} ms  {verdict}")

    print("\nStream to the browser: a controller with a 1,000-step curve training on in the background, 4 s per run")
    print_stream(stream_and_stop(data))


if __name__ == "__main__":
    main()

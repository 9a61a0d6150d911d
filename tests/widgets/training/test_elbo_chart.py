"""ElboChart: the throttle, the acknowledged stream of new points, the y scales, the verdict, the static picture."""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass

import pytest
import traitlets

from widgets.training.convergence import assess
from widgets.training.elbo_chart import ElboChart, YAxis


@dataclass(frozen=True)
class Record:  # the fields of pplkit.infer.svi.StepRecord
    step: int
    loss: float
    elapsed: float
    terms: dict[str, float] | None = None


def floats(raw: bytes) -> list[float]:
    return array("d", raw).tolist()


def test_ten_thousand_steps_in_one_second_make_at_most_fifteen_syncs(comms, clock):
    chart = ElboChart()
    sent = comms.of(chart)
    before = len(sent.updates())
    for step in range(1, 10_001):
        clock.advance(1e-4)  # 10,000 steps spread over one second
        chart(Record(step, 100.0 / step, step * 1e-4))
    chart.finish("done")
    updates = sent.updates()[before:]
    assert 8 <= len(updates) <= 15
    last = updates[-1]
    assert last["step"] == 10_000 and last["status"] == "done"  # the final flush carries the last step
    assert floats(last["curve_steps"])[-1] == 10_000  # the whole curve is stored when the run ends
    assert len(floats(last["curve_loss"])) <= 2000
    # while running, the readouts are small: no curve travels in them
    assert all("curve_loss" not in u for u in updates[:-1])


def points(sent):
    """The point batches sent, as (content, {series name: floats})."""
    return [(c, {name: floats(b) for name, b in zip(c["names"], buffers)})
            for c, buffers in sent.custom if c.get("kind") == "points"]


def front_end(chart, kind, **content):
    chart._on_front_end_msg(chart, {"kind": kind, **content}, [])


def test_no_points_stream_before_a_view_says_hello(comms, clock):
    chart = ElboChart()
    for step in range(1, 101):
        clock.advance(0.2)
        chart(Record(step, 1.0, step * 0.2))
    assert points(comms.of(chart)) == []  # scripts: nobody to draw them
    assert all("curve_loss" not in u for u in comms.of(chart).updates())


def test_a_displayed_chart_whose_view_cannot_say_hello_stores_its_curve_once_a_second(comms, clock):
    chart = ElboChart()
    chart._display_id = "shown-by-a-cell-that-trains-in-the-cell"
    for step in range(1, 101):
        clock.advance(0.05)  # 5 s in all
        chart(Record(step, 1.0, step * 0.05))
    full = [u for u in comms.of(chart).updates() if "curve_loss" in u]
    assert 4 <= len(full) <= 6 and points(comms.of(chart)) == []
    assert floats(full[-1]["curve_steps"])[-1] >= 80


def test_only_new_points_are_sent_and_only_after_the_last_batch_was_acknowledged(comms, clock):
    chart = ElboChart()
    sent = comms.of(chart)
    front_end(chart, "hello")
    for step in range(1, 11):
        clock.advance(0.2)  # every step is past the sync interval
        chart(Record(step, float(step), step * 0.2))
    batches = points(sent)
    # the hello's (empty) batch was never acknowledged: nothing more is sent until the ack timeout
    assert len(batches) == 1 + 1  # hello's batch, then one resend after ACK_TIMEOUT (2 s = 10 steps)
    front_end(chart, "ack", seq=batches[-1][0]["seq"])
    clock.advance(0.2)
    chart(Record(11, 11.0, 2.2))
    content, series = points(sent)[-1]
    held = batches[-1][0]["start"] + len(batches[-1][1]["steps"])
    assert content["start"] == held == 10  # every point of the acked batch was a full bucket
    assert series["steps"] == [11.0] and series["loss"] == [11.0]
    assert set(series) == {"steps", "elapsed", "loss", "smoothed"}
    # the browser has not acknowledged step 11: steps 12-14 wait, then go together after its ack
    for step in range(12, 15):
        clock.advance(0.2)
        chart(Record(step, float(step), step * 0.2))
    assert points(sent)[-1][0] is content
    front_end(chart, "ack", seq=content["seq"])
    clock.advance(0.2)
    chart(Record(15, 15.0, 3.0))
    content, series = points(sent)[-1]
    assert content["start"] == 11 and series["steps"] == [12.0, 13.0, 14.0, 15.0]


def test_a_new_view_gets_the_whole_curve_and_merged_buckets_are_resent(comms, clock):
    chart = ElboChart(max_points=4)
    sent = comms.of(chart)
    for step in range(1, 4):
        chart(Record(step, float(step), step * 0.1))
    front_end(chart, "hello")
    content, series = points(sent)[-1]
    assert content["start"] == 0 and series["steps"] == [1.0, 2.0, 3.0]
    front_end(chart, "ack", seq=content["seq"])
    clock.advance(0.2)
    chart(Record(4, 4.0, 0.4))  # the fourth point fills the screen: buckets merge in pairs
    content, series = points(sent)[-1]
    assert content["start"] == 0 and series["steps"] == [2.0, 4.0] and series["loss"] == [1.5, 3.5]


def test_bytes_sent_grow_with_new_points_not_with_the_curve(comms, clock):
    chart = ElboChart()
    front_end(chart, "hello")
    sizes = []
    for step in range(1, 1001):
        clock.advance(0.01)
        chart(Record(step, 1.0 / step, step * 0.01))
        if step % 100 == 0:
            front_end(chart, "ack", seq=points(comms.of(chart))[-1][0]["seq"])
            sizes.append(chart.bytes_sent)
    per_batch = [b - a for a, b in zip(sizes, sizes[1:])]
    # about 10 new points x 4 series x 8 bytes per 0.1 s, whatever the length of the curve
    assert max(per_batch) < 2 * min(per_batch) and max(per_batch) < 100 * 4 * 8 * 2


def test_steps_slower_than_the_interval_sync_every_time(comms, clock):
    chart = ElboChart()
    sent = comms.of(chart)
    before = len(sent.updates("step"))
    for step in range(1, 6):
        clock.advance(0.5)
        chart(Record(step, 1.0, step * 0.5))
    assert [u["step"] for u in sent.updates("step")[before:]] == [1, 2, 3, 4, 5]


def test_full_history_kept_while_screen_is_decimated(clock):
    chart = ElboChart(max_points=100)
    for step in range(1, 5001):
        chart(Record(step, float(step), 0.0))
    chart.finish("stopped")
    assert chart.history.losses == [float(s) for s in range(1, 5001)]
    assert len(floats(chart.curve_loss)) <= 100
    assert chart.bucket_size > 1 and chart.status == "stopped"


def test_a_second_run_continues_the_curve(clock):
    chart = ElboChart()
    for step in range(1, 4):
        chart(Record(step, 1.0, step * 0.1))
    for step in range(1, 3):  # svi.run starts counting from 1 again
        chart(Record(step, 2.0, step * 0.1))
    chart.sync()
    assert chart.history.steps == [1, 2, 3, 4, 5]
    assert chart.step == 5
    assert chart.elapsed == pytest.approx(0.5)


def test_reaching_total_steps_finishes_the_chart(clock):
    chart = ElboChart(total_steps=3)
    for step in range(1, 4):
        chart(Record(step, 1.0, step * 0.01))
    assert chart.status == "done" and chart.step == 3
    assert chart.steps_per_second == pytest.approx(100.0)


def test_terms_are_streamed_and_nonfinite_losses_do_not_break_json(comms, clock):
    chart = ElboChart()
    front_end(chart, "hello")
    chart(Record(1, float("nan"), 0.1, {"log_likelihood": -5.0, "kl": 2.0}))
    chart.sync()
    assert chart.loss is None  # NaN is not valid JSON; None shows as a dash
    front_end(chart, "ack", seq=points(comms.of(chart))[-1][0]["seq"])
    clock.advance(1.0)
    chart.sync()
    assert points(comms.of(chart))[-1][1]["term:kl"] == [2.0]
    chart.finish("done")
    assert sorted(chart.curve_terms) == ["kl", "log_likelihood"]
    assert floats(chart.curve_terms["kl"]) == [2.0]


def test_status_values_are_validated():
    chart = ElboChart()
    with pytest.raises(traitlets.TraitError):
        chart.status = "finished"
    with pytest.raises(ValueError, match="finish"):
        chart.finish("running")
    with pytest.raises(ValueError, match="sync_interval"):
        ElboChart(sync_interval=0)


def test_observers_see_status_changes(clock):
    chart = ElboChart()
    seen = []
    chart.observe(lambda change: seen.append(change["new"]), names=["status"])
    chart.start(total_steps=10)
    chart(Record(1, 1.0, 0.01))
    chart.finish("error", "ValueError: boom")
    assert seen == ["running", "error"]
    assert chart.message == "ValueError: boom"


def test_reset_forgets_everything(clock):
    chart = ElboChart()
    chart(Record(1, 3.0, 0.1))
    chart.finish("done")
    chart.total_steps = 4149
    chart.reset()
    assert chart.status == "idle" and chart.step == 0 and chart.curve_loss == b"" and len(chart.history) == 0
    assert chart.total_steps == 0  # not "step 0 / 4149"


def test_mime_bundle_carries_a_static_svg_of_the_curve(clock):
    chart = ElboChart(title="my fit")
    for step in range(1, 201):
        chart(Record(step, 1000.0 / step, step * 1e-3, {"log_likelihood": -1.0, "kl": 0.5}))
    chart.finish("done")
    data, _ = chart._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    svg = data["image/svg+xml"]
    assert svg.startswith("<svg") and "my fit · step 200" in svg and "done" in svg
    assert svg.count("<polyline") == 4  # raw, smoothed, and the two terms
    assert "HBox" not in data["text/plain"]


def descent(steps=800, seed=0):
    rng = random.Random(seed)
    return [250 + 450 * 0.97 ** t + rng.gauss(0, 1.5) for t in range(steps)]


@pytest.mark.parametrize("scale", ["symlog", "linear"])
def test_the_whole_descent_is_on_the_axis(scale):
    losses = descent()
    axis = YAxis(losses, scale)
    assert axis.off_scale == [] and axis.lo < min(losses) and axis.hi > max(losses)
    assert all(0.0 <= axis.fraction(v) <= 1.0 for v in losses)
    ticks = axis.ticks()
    assert len(ticks) >= 4 and all(axis.lo <= t <= axis.hi for t in ticks)


def test_symlog_keeps_the_noise_of_the_level_visible():
    losses = descent()
    level = losses[-100:]
    linear, symlog = YAxis(losses, "linear"), YAxis(losses, "symlog")
    height = {name: max(a.fraction(v) for v in level) - min(a.fraction(v) for v in level)
              for name, a in (("linear", linear), ("symlog", symlog))}
    assert height["linear"] < 0.03 < 0.15 < height["symlog"]  # a flat line on linear, visible noise on symlog
    fractions = [symlog.fraction(v) for v in sorted(losses)]
    assert fractions == sorted(fractions)  # the transform keeps the order of values


def test_zoom_marks_every_point_above_its_range():
    losses = descent()
    axis = YAxis(losses, "zoom")
    top = max(losses[80:])
    assert axis.off_scale == [i for i, v in enumerate(losses) if v > top] and 0 < len(axis.off_scale) <= 80
    chart = ElboChart(y_scale="zoom")
    for step, loss in enumerate(losses, start=1):
        chart(Record(step, loss, step * 1e-3))
    chart.finish("done")
    svg = chart.static_svg()
    assert 'class="pk-off-scale"' in svg and f"▲ {len(axis.off_scale)} points above" in svg


def test_smoothing_can_be_changed_after_the_run_and_the_curve_is_resent(comms):
    chart = ElboChart(smoothing_window=2.0)
    for step in range(1, 201):
        chart(Record(step, float(step % 2), step * 1e-3))
    chart.finish("done")
    wiggly = floats(chart.curve_smoothed)
    chart.smoothing = 50.0
    smooth = floats(chart.curve_smoothed)
    assert len(smooth) == len(wiggly) == 200
    spread = lambda ys: max(ys[100:]) - min(ys[100:])  # noqa: E731
    assert spread(smooth) < spread(wiggly) / 5
    with pytest.raises(traitlets.TraitError):
        chart.smoothing = 0.5


def test_time_axis_uses_seconds_of_training():
    chart = ElboChart(x_axis="time")
    for step in range(1, 51):
        chart(Record(step, 1.0 / step, step * 0.5))
    chart.finish("done")
    assert floats(chart.curve_elapsed)[-1] == pytest.approx(25.0)
    assert "seconds of training" in chart.static_svg()


def test_mark_convergence_shows_the_verdict_and_a_new_run_clears_it():
    chart = ElboChart()
    falling = descent(120)
    chart.mark_convergence(assess(falling))
    assert chart.converged is False and chart.verdict.startswith("not converged: ")
    assert "still falls" in chart.verdict
    assert "not converged" in chart.static_svg()
    chart.mark_convergence(assess(descent(2000)))
    assert chart.converged is True and chart.verdict == "converged"
    chart.start(total_steps=10)
    assert chart.verdict == "" and chart.converged is None


def static_tick_labels(svg: str) -> list[list[str]]:
    """The y tick labels of each panel of the static picture, in drawing order."""
    import re

    panels = re.split(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="none"', svg)[1:]
    return [re.findall(r'text-anchor="end" class="tick">([^<]*)<', panel) for panel in panels]


@pytest.mark.parametrize("y_scale", ["symlog", "linear", "zoom"])
def test_the_static_picture_draws_the_axes_the_view_is_sent(comms, clock, y_scale):
    chart = ElboChart(y_scale=y_scale)
    sent = comms.of(chart)
    front_end(chart, "hello")
    for step, loss in enumerate(descent(), start=1):
        clock.advance(0.01)
        chart(Record(step, loss, step * 1e-3, {"log_likelihood": -loss, "kl": 3.0 + step * 1e-3}))
        if step % 100 == 0:
            front_end(chart, "ack", seq=points(sent)[-1][0]["seq"])
    content, series = points(sent)[-1]
    streamed = content["axes"]  # a batch carries the axes of the curve it completes
    assert streamed["panels"][0]["x"]["hi"] == series["steps"][-1] < 800
    chart.finish("done")
    stored = chart.axes
    assert [p["name"] for p in stored["panels"]] == ["loss", "log_likelihood", "kl"]
    assert static_tick_labels(chart.static_svg()) == [p["y"]["labels"] for p in stored["panels"]]
    assert all(len(p["y"]["labels"]) >= 3 for p in stored["panels"])


def test_choosing_another_axis_after_the_run_sends_new_axes(comms):
    chart = ElboChart()
    for step, loss in enumerate(descent(), start=1):
        chart(Record(step, loss, step * 0.5))
    chart.finish("done")
    symlog = chart.axes
    chart.y_scale, chart.x_axis = "linear", "time"
    assert chart.axes != symlog and chart.axes["x_series"] == "elapsed"
    assert chart.axes["panels"][0]["y"]["transform"] == "linear"
    assert chart.axes["panels"][0]["x"]["hi"] == pytest.approx(400.0)
    assert static_tick_labels(chart.static_svg())[0] == chart.axes["panels"][0]["y"]["labels"]


def test_the_view_holds_no_axis_rules():
    # The rules live in widgets/plots/axes.py only: the view maps values with the numbers it is sent.
    from pathlib import Path

    import widgets.training.elbo_chart as module

    view = (Path(module.__file__).parent / "elbo_chart.js").read_text()
    for rule in ("niceTicks", "median", "1.4826", "[-5, -2, -1, 0, 1, 2, 5]", "toPrecision(12)", "* 0.04",
                 "slice(Math.floor"):
        assert rule not in view, f"elbo_chart.js still decides its axes ({rule!r})"
    assert "yFraction" in view and "panel.y.labels" in view

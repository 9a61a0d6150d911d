"""ElboChart: the throttle, the decimated stream, status changes and the static picture."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import pytest
import traitlets

from widgets.elbo_chart import ElboChart


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
    assert floats(last["curve_steps"])[-1] == 10_000
    assert len(floats(last["curve_loss"])) <= 2000
    # every sync is a single message holding the curve and the readouts together
    assert all({"curve_steps", "curve_loss", "step"} <= set(u) for u in updates)


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


def test_terms_are_streamed_and_nonfinite_losses_do_not_break_json(clock):
    chart = ElboChart()
    chart(Record(1, float("nan"), 0.1, {"log_likelihood": -5.0, "kl": 2.0}))
    chart.sync()
    assert chart.loss is None  # NaN is not valid JSON; None shows as a dash
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
    chart.reset()
    assert chart.status == "idle" and chart.step == 0 and chart.curve_loss == b"" and len(chart.history) == 0


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

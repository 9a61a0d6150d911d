"""The explorer's site controls: sliders that report while dragged, throttled, and end on the last position."""

from __future__ import annotations

import threading
import time

import pplkit.distributions as dist
from widgets.explorer.explorer_controls import LatentSiteControls, Throttle


def test_a_throttle_runs_the_first_call_at_once_and_the_last_of_a_burst_later():
    calls: list[float] = []
    done = threading.Event()

    def record() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            done.set()

    throttle = Throttle(record, interval=0.1)
    for _ in range(50):
        throttle()
    assert len(calls) == 1  # the first ran at once; the other 49 share one trailing call
    assert done.wait(2.0)
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.09
    throttle.cancel()
    throttle()
    time.sleep(0.15)
    assert len(calls) == 2  # cancelled: nothing more runs


def test_dragging_a_prior_slider_reports_while_moving_and_ends_on_the_last_value():
    seen: list[float] = []
    controls = LatentSiteControls("a", dist.Normal(0.0, 10.0), lambda: seen.append(controls.prior_choice()))
    controls.throttle.interval = 0.1
    loc = controls._sliders["loc"]
    assert loc.continuous_update  # reports while dragged, not only on release
    for value in [0.5 * i for i in range(1, 41)]:  # a drag: 40 positions in ~0.2 s
        loc.value = value
        time.sleep(0.005)
    time.sleep(0.3)
    assert 2 <= len(seen) <= 6  # a few redraws, not 40
    assert seen[0].params["loc"] == 0.5 and seen[-1].params["loc"] == 20.0  # the drag's first and last position
    controls.throttle.cancel()


def test_set_prior_and_set_intervention_report_one_change_each():
    seen = []
    controls = LatentSiteControls("a", dist.Normal(0.0, 10.0), lambda: seen.append(1))
    controls.set_prior("Normal", loc=1.0, scale=2.0)
    controls.set_intervention(0.5)
    controls.set_intervention(None)
    time.sleep(0.25)
    assert len(seen) == 3 and controls.intervention() is None
    controls.throttle.cancel()

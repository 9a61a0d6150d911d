"""FitRunner: newest request wins, cancellation, errors kept and re-raised, no leftover threads."""

from __future__ import annotations

import threading
import time

import pytest

from widgets.plots.runner import FitRunner

from ..conftest import fit_threads


def slow_fit(log, steps=200, pause=0.002):
    def fit(request, cancelled):
        for i in range(steps):
            if cancelled():
                log.append(("cancelled", request, i))
                return
            time.sleep(pause)
        log.append(("done", request))

    return fit


def test_blocking_runs_in_the_callers_thread_and_raises():
    seen = []
    runner = FitRunner(lambda request, cancelled: seen.append((request, threading.current_thread())), blocking=True)
    runner.submit("a")
    assert seen == [("a", threading.current_thread())]

    def boom(request, cancelled):
        raise ValueError("bad prior")

    failing = FitRunner(boom, blocking=True)
    with pytest.raises(ValueError, match="bad prior"):
        failing.submit(1)
    assert isinstance(failing.error, ValueError)


def test_a_new_request_cancels_the_running_fit_and_only_the_newest_runs():
    log = []
    runner = FitRunner(slow_fit(log), debounce=0.02)
    runner.submit(1)
    time.sleep(0.1)  # fit 1 is running
    for request in (2, 3, 4, 5):  # arrive within the debounce: 2..4 are dropped unseen
        runner.submit(request)
    runner.wait(timeout=20)
    assert log[0][:2] == ("cancelled", 1)
    assert log[-1] == ("done", 5)
    assert [entry[1] for entry in log] == [1, 5]
    assert not fit_threads()


def test_stop_cancels_and_the_thread_ends():
    log = []
    runner = FitRunner(slow_fit(log, steps=10_000))
    runner.submit("long")
    time.sleep(0.05)
    assert runner.busy
    runner.stop()
    runner.wait(timeout=10)
    assert log and log[0][0] == "cancelled"
    assert not runner.busy and not fit_threads()


def test_wait_times_out_while_busy_and_errors_are_reraised():
    log = []
    runner = FitRunner(slow_fit(log, steps=10_000))
    runner.submit("long")
    with pytest.raises(TimeoutError):
        runner.wait(timeout=0.05)
    runner.close()

    def boom(request, cancelled):
        raise RuntimeError(f"failed on {request}")

    failing = FitRunner(boom)
    failing.submit("x")
    with pytest.raises(RuntimeError, match="failed on x"):
        failing.wait(timeout=10)


def test_a_successful_fit_clears_the_previous_error():
    outcomes = iter([RuntimeError("first"), None])

    def fit(request, cancelled):
        error = next(outcomes)
        if error:
            raise error

    runner = FitRunner(fit)
    runner.submit(1)
    with pytest.raises(RuntimeError):
        runner.wait(timeout=10)
    runner.submit(2)
    runner.wait(timeout=10)
    assert runner.error is None

"""LossHistory and Decimator: full history kept, screen copy bounded, bucket means exact."""

from __future__ import annotations

import math

import pytest

from widgets.training.history import Decimator, LossHistory


def test_decimator_keeps_every_point_below_the_limit():
    d = Decimator(num_series=1, max_points=10)
    for x in range(1, 10):
        d.add(x, (x * 2.0,))
    assert d.xs == list(range(1, 10))
    assert d.ys == [[x * 2.0 for x in range(1, 10)]]
    assert d.bucket_size == 1


def test_decimator_bucket_means_match_numpy_style_reference():
    d = Decimator(num_series=2, max_points=8)
    values = [float((i * 37) % 11) for i in range(1, 101)]
    for i, v in enumerate(values, start=1):
        d.add(i, (v, -v))
    size = d.bucket_size
    complete = len(values) // size
    expected = [sum(values[k * size:(k + 1) * size]) / size for k in range(complete)]
    if len(values) % size:
        tail = values[complete * size:]
        expected.append(sum(tail) / len(tail))
    assert d.ys[0] == pytest.approx(expected)
    assert d.ys[1] == pytest.approx([-v for v in expected])
    assert len(d.xs) <= 8
    assert d.xs[-1] == 100  # the newest point is always on screen


@pytest.mark.parametrize("max_points", [2, 4, 6])
def test_decimator_loses_no_point_when_buckets_merge(max_points):
    d = Decimator(num_series=1, max_points=max_points)
    values = [float(i * i % 7) for i in range(1, 52)]
    for i, v in enumerate(values, start=1):
        d.add(i, (v,))
    open_count = len(values) % d.bucket_size
    sizes = [d.bucket_size] * (len(d.xs) - (1 if open_count else 0)) + ([open_count] if open_count else [])
    assert sum(sizes) == len(values)  # every point sits in a bucket
    assert sum(m * n for m, n in zip(d.ys[0], sizes)) == pytest.approx(sum(values))


@pytest.mark.parametrize("n", [1, 1999, 2000, 2001, 10_000, 123_457])
def test_screen_copy_stays_within_max_points(n):
    h = LossHistory(max_points=2000)
    for step in range(1, n + 1):
        h.append(step, float(step))
    screen = h.screen()
    assert len(h.losses) == n
    assert 0 < len(screen.steps) <= 2000
    assert len(screen.loss) == len(screen.steps) == len(screen.smoothed)
    assert screen.steps[-1] == n
    assert screen.steps[0] == screen.bucket_size  # a bucket sits at its last step


def test_smoothed_loss_is_a_bias_corrected_moving_average():
    h = LossHistory(smoothing_window=4)  # weights 1, 0.75, 0.75**2, ... from the newest step back
    h.append(1, 8.0)
    assert h.smoothed_loss == pytest.approx(8.0)  # no pull towards zero at the start
    h.append(2, 4.0)
    h.append(3, 2.0)
    assert h.smoothed_loss == pytest.approx((2.0 + 0.75 * 4.0 + 0.75**2 * 8.0) / (1 + 0.75 + 0.75**2))
    assert h.screen().smoothed[-1] == pytest.approx(h.smoothed_loss)  # the curve drawn ends there


def test_terms_are_decimated_alongside_the_loss():
    h = LossHistory(max_points=4)
    for step in range(1, 9):
        h.append(step, 10.0 - step, {"log_likelihood": -float(step), "kl": 1.0})
    screen = h.screen()
    assert sorted(screen.terms) == ["kl", "log_likelihood"]
    assert list(screen.terms["kl"]) == [1.0] * len(screen.steps)
    expected = [-x + (screen.bucket_size - 1) / 2 for x in screen.steps]  # the mean of a bucket ending at x
    assert list(screen.terms["log_likelihood"]) == pytest.approx(expected)


def test_clear_and_nonfinite_losses():
    h = LossHistory()
    h.append(1, math.inf)
    assert math.isinf(h.smoothed_loss)
    h.clear()
    assert len(h) == 0 and math.isnan(h.smoothed_loss) and len(h.screen().steps) == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_points"):
        Decimator(1, max_points=1)
    # An odd count would drop the unpaired last bucket at every merge.
    for make in (lambda: Decimator(1, max_points=5), lambda: LossHistory(max_points=5)):
        with pytest.raises(ValueError, match="even number.*got 5; try 4"):
            make()
    with pytest.raises(ValueError, match="smoothing_window"):
        LossHistory(smoothing_window=0.5)

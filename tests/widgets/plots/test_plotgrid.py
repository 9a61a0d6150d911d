"""PlotGrid and Panel: the plotting API user plot functions receive; the density estimate."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from widgets.plots.plotgrid import PlotGrid, kde, subsample


def test_kde_of_normal_draws_is_close_to_the_normal_density():
    draws = torch.distributions.Normal(1.0, 2.0).sample((4000,))
    grid = np.linspace(-5, 7, 121)
    density = kde(draws, grid)
    exact = np.exp(-0.5 * ((grid - 1.0) / 2.0) ** 2) / (2.0 * math.sqrt(2 * math.pi))
    assert np.abs(density - exact).max() < 0.02
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=0.02)


def test_kde_and_subsample_handle_few_and_nonfinite_values():
    assert np.all(kde([1.0], np.linspace(0, 2, 5)) == 0.0)
    kept = subsample(torch.tensor([1.0, math.nan, math.inf, 2.0]))
    assert kept.tolist() == [1.0, 2.0]
    assert subsample(torch.randn(10_000), max_points=100).size == 100


def test_panels_autoscale_to_their_marks_and_accept_tensors():
    fig = PlotGrid(width=400, columns=2)
    ax = fig.panel("left", xlabel="x")
    ax.scatter(torch.tensor([0.0, 10.0]), torch.tensor([5.0, 6.0]), color="data", label="data")
    ax.interval(torch.tensor([3.0, 1.0, 2.0]), torch.randn(50, 3) + 5.0, color="posterior", label="posterior")
    right = fig.panel("right")
    right.density(torch.randn(500), color="prior", label="prior")
    right.vline(0.0)
    right.note("a note")
    root = ET.fromstring(fig.to_svg())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"left", "right", "data", "posterior", "prior", "a note"} <= set(texts)
    assert len(root.findall(".//{http://www.w3.org/2000/svg}polygon")) == 1  # the interval's band


def test_interval_sorts_by_x_and_brackets_the_median():
    fig = PlotGrid()
    ax = fig.panel()
    x = torch.tensor([2.0, 0.0, 1.0])
    samples = torch.arange(300.0).reshape(100, 3)  # column j holds j, j+3, ...
    ax.interval(x, samples, prob=0.5)
    band, median = ax._marks[0][1], ax._marks[1][1]
    assert band["xs"] == [0.0, 1.0, 2.0]
    assert median["ys"] == pytest.approx([np.median(samples[:, i].numpy()) for i in (1, 2, 0)])
    assert all(lo < m < hi for lo, m, hi in zip(band["lo"], median["ys"], band["hi"]))


def test_an_empty_grid_still_draws():
    assert "nothing to show" in PlotGrid().to_svg()


# -- prediction panels: scaled to the data and the posterior, bands that stay apart --------------


def regression_panel(prior_sd: float = 25.0):
    """Tutorial 03's picture in miniature: data on a line, a tight posterior band and a vague prior band."""
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 6.0, 40)
    y = 9.0 - 0.2 * x + rng.normal(0, 0.5, x.size)
    fig = PlotGrid(columns=1)
    ax = fig.panel("nations", xlabel="ruggedness", ylabel="log GDP")
    ax.interval(x, rng.normal(0.0, prior_sd, (300, x.size)), color="prior", label="prior")
    ax.interval(x, 9.0 - 0.2 * x + rng.normal(0, 0.6, (300, x.size)), color="posterior", label="posterior")
    ax.interval(x, 9.0 - 0.2 * x + rng.normal(0, 0.6, (300, x.size)), color="reference", label="NUTS")
    ax.scatter(x, y, color="data")
    return fig, ax, y


def test_a_vague_prior_band_is_clipped_with_a_mark_and_the_axis_fits_data_and_posterior():
    fig, ax, y = regression_panel()
    lo, hi = ax.y_limits()
    assert lo > 5.0 and hi < 12.0  # the data (about 7.6-10.2) fill the panel, not a ±25 prior
    assert lo <= y.min() and hi >= y.max()
    beyond = ax.clipped()
    assert beyond is not None and beyond[0] < -30 and beyond[1] > 30
    svg = fig.to_svg()
    assert 'class="pk-clip-mark"' in svg and "prior band clipped at the panel edges" in svg
    ET.fromstring(svg)


def test_a_prior_alone_sets_the_axis_and_is_not_marked_clipped():
    fig = PlotGrid(columns=1)
    ax = fig.panel("prior predictive")
    ax.interval(np.arange(5.0), np.random.default_rng(0).normal(0, 25, (200, 5)), color="prior", label="prior")
    lo, hi = ax.y_limits()
    assert lo < -30 and hi > 30 and ax.clipped() is None
    assert "clipped" not in fig.to_svg()


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _over(base: np.ndarray, color: str, alpha: float) -> np.ndarray:
    return (1 - alpha) * base + alpha * _rgb(color)


def test_overlapping_bands_stay_distinguishable_and_never_blend_into_a_third_colour():
    fig, _, _ = regression_panel()
    root = ET.fromstring(fig.to_svg())
    fills = [(p.get("fill"), float(p.get("fill-opacity"))) for p in root.iter("{http://www.w3.org/2000/svg}polygon")]
    (prior, prior_alpha), (posterior, posterior_alpha), (reference, reference_alpha) = fills
    assert reference_alpha == 0.0  # the NUTS band is dashed edges only
    white = np.full(3, 255.0)
    prior_only = _over(white, prior, prior_alpha)
    both = _over(prior_only, posterior, posterior_alpha)
    # Colour differences (RGB Euclidean, 0-441) between the regions a reader must tell apart.
    assert np.linalg.norm(prior_only - white) > 25
    assert np.linalg.norm(both - prior_only) > 60
    # where the posterior overlaps the prior it stays blue: its hue is the posterior's, not brown
    assert both[2] > both[0] + 40
    dashed = [p for p in root.iter("{http://www.w3.org/2000/svg}polyline")
              if p.get("stroke") == reference and p.get("stroke-dasharray")]
    assert len(dashed) >= 3  # both edges and the median, dashed

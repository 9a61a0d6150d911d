"""PlotGrid and Panel: the plotting API user plot functions receive; the density estimate."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from widgets.plotgrid import PlotGrid, kde, subsample


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

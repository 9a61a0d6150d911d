"""The explorer's pictures: exact prior densities, marginal ranges, correlations, predictive checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import pplkit.distributions as dist
from pplkit.inspect import summarize_posterior
from widgets.plots.plotgrid import PlotGrid
from widgets.views.draws import Draws
from widgets.views.posterior_plots import (
    correlation_svg,
    default_predictive_plot,
    marginal_grid_svg,
    marginal_range,
    marginal_svg,
    prior_density,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_prior_density_is_torchs_density_and_zero_outside_the_support():
    grid = np.linspace(-2.0, 12.0, 50)
    normal = prior_density(dist.Normal(1.0, 2.0), grid)
    assert normal == pytest.approx(dist.Normal(1.0, 2.0).log_prob(torch.tensor(grid)).exp().numpy(), rel=1e-5)
    uniform = prior_density(dist.Uniform(0.0, 10.0), grid)
    assert np.all(uniform[grid < 0] == 0) and np.all(uniform[grid > 10] == 0)
    assert uniform[(grid > 0) & (grid < 10)] == pytest.approx(0.1)
    gamma = prior_density(dist.Gamma(2.0, 1.0).expand([5]), grid)  # batched: the first element
    assert np.all(gamma[grid < 0] == 0) and gamma.max() == pytest.approx(np.exp(-1.0), rel=0.02)
    assert prior_density(dist.Bernoulli(0.3), grid) is None


def test_marginal_range_follows_the_posterior_when_there_is_one():
    prior = np.random.default_rng(0).normal(0, 10, 1000)
    posterior = np.random.default_rng(1).normal(9, 0.1, 1000)
    lo, hi = marginal_range(prior, [posterior])
    assert 8.0 < lo < 9.0 < hi < 10.0
    lo, hi = marginal_range(prior, [])
    assert lo < -15 and hi > 15


def _entry(site, **extra):
    base = dict(site=site, label=f"{site} ~ Normal", prior_fn=dist.Normal(0.0, 1.0), prior=np.random.randn(300),
                posterior=np.random.randn(300) * 0.2 + 0.5, reference=None, exact_prior=True, fixed=None)
    return {**base, **extra}


def test_marginal_grid_has_one_click_target_per_site():
    svg = marginal_grid_svg([_entry("a"), _entry("b", fixed=0.5, posterior=None)])
    root = ET.fromstring(svg)
    ids = [g.get("id") for g in root.iter(f"{SVG}g") if g.get("id")]
    assert ids == ["marginal:a", "marginal:b"]
    assert "do(b = 0.5)" in svg


def test_correlations_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    samples = {"x": torch.tensor(x), "y": torch.tensor(2 * x + rng.normal(size=500) * 0.5)}
    svg = correlation_svg(samples, ["x", "y"], "title")
    expected = np.corrcoef(samples["x"].numpy(), samples["y"].numpy())[0, 1]
    assert f"corr(x, y) = {expected:.2f}" in svg


def test_default_predictive_plot_compares_data_with_both_predictives():
    y = torch.randn(50)
    draws = Draws((), {}, {"y": y}, prior={"y": torch.randn(100, 50) * 3}, posterior={"y": torch.randn(100, 50)})
    fig = PlotGrid()
    default_predictive_plot(fig, draws)
    texts = [t.text for t in ET.fromstring(fig.to_svg()).iter(f"{SVG}text")]
    assert {"data", "prior predictive", "posterior predictive"} <= set(texts)
    assert "y (conditioned on its data)" in texts
    assert [role for role, _ in draws.predictions("y")] == ["prior", "posterior"]


def test_the_marginals_summary_is_the_graph_labels_mean_and_unbiased_sd():
    svg = marginal_svg(_entry("a", posterior=np.array([0.0, 2.0, 4.0])))
    assert "2 ± 2" in svg  # sd with n - 1: sqrt(8 / 2) = 2 (numpy's default, n, gives 1.6)
    assert str(summarize_posterior({"a": torch.tensor([0.0, 2.0, 4.0])})["a"]) == "2 ± 2"


def test_site_names_are_escaped_in_ids_labels_and_tooltips():
    rng = np.random.default_rng(0)
    samples = {"a<b": torch.tensor(rng.normal(size=100)), 'c&"d': torch.tensor(rng.normal(size=100))}
    root = ET.fromstring(correlation_svg(samples, list(samples), "title"))  # well-formed XML
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any(t.startswith('corr(a<b, c&"d)') for t in titles)
    grid = ET.fromstring(marginal_grid_svg([_entry('x"<y')]))
    assert [g.get("id") for g in grid.iter(f"{SVG}g") if g.get("id")] == ['marginal:x"<y']


PRIORS_ALONE = {
    "Normal(0, 1)": dist.Normal(0.0, 1.0), "Normal(1000, 1)": dist.Normal(1000.0, 1.0),
    "Normal(0, 1e-4)": dist.Normal(0.0, 1e-4), "Gamma(0.5, 1)": dist.Gamma(0.5, 1.0),
    "Beta(0.5, 0.5)": dist.Beta(0.5, 0.5), "HalfCauchy(1)": dist.HalfCauchy(1.0), "Cauchy(0, 1)": dist.Cauchy(0.0, 1.0),
    "Uniform(0, 10)": dist.Uniform(0.0, 10.0), "LogNormal(0, 2)": dist.LogNormal(0.0, 2.0),
    "InverseGamma(1, 1)": dist.InverseGamma(1.0, 1.0), "Exponential(1)": dist.Exponential(1.0),
}


@pytest.mark.parametrize("name", PRIORS_ALONE)
def test_a_prior_drawn_at_its_own_scale_has_a_readable_scale(name):
    # The model view's "prior of a, at its own scale" once showed a lone "0" on its y axis.
    prior = PRIORS_ALONE[name]
    torch.manual_seed(0)
    entry = {"site": "a", "prior_fn": prior, "prior": prior.sample((300,)).numpy(), "posterior": None,
             "reference": None, "exact_prior": True, "fixed": None, "label": "prior of a, at its own scale"}
    root = ET.fromstring(marginal_svg(entry, width=320, height=160))
    ticks = [t for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    y_labels = [t.text for t in ticks if t.get("text-anchor") == "end"]
    x_labels = [t.text for t in ticks if t.get("text-anchor") != "end"]
    assert len(set(y_labels)) == len(y_labels) >= 3, y_labels
    assert len(set(x_labels)) == len(x_labels) >= 3, x_labels

"""The explorer's pictures: marginals over the prior, posterior correlations, predictive checks.

Each function returns SVG text. Prior densities are exact where a site's prior has
constant parameters (evaluated from its distribution); otherwise, and for every
posterior, they are kernel density estimates from samples. A site with several
elements shows its first element.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.distributions import Distribution

from pplkit.distributions.util import unwrap_independent
from pplkit.inspect import summarize_posterior

from ..plots.plotgrid import PlotGrid, kde, subsample
from ..plots.svgplot import COLORS, SvgFigure, limits, text_width
from .draws import Draws

__all__ = [
    "correlation_matrix",
    "correlation_svg",
    "default_predictive_plot",
    "draw_marginal",
    "first_element",
    "marginal_grid_svg",
    "marginal_svg",
    "posterior_summary",
    "prior_density",
]

Samples = Mapping[str, torch.Tensor]
GRID_POINTS = 120


def first_element(samples: torch.Tensor) -> np.ndarray:
    """The draws of a site's first element: shape (num_samples,)."""
    return samples.detach().reshape(samples.shape[0], -1)[:, 0].to(torch.float64).numpy()


def prior_density(fn: Distribution, grid: np.ndarray) -> np.ndarray | None:
    """The exact density of the first element of ``fn`` on ``grid``, or None if it has none to give."""
    base, _ = unwrap_independent(fn)
    if base.support is None or base.support.is_discrete or base.event_shape:
        return None
    base._validate_args = False  # our own copy from the trace: points outside the support get density 0
    batch = base.batch_shape
    points = torch.as_tensor(grid, dtype=torch.get_default_dtype()).reshape(-1, *([1] * len(batch)))
    with torch.no_grad():
        try:
            log_p = base.log_prob(points)
        except (ValueError, RuntimeError, NotImplementedError):
            return None
    density = np.exp(log_p.reshape(len(grid), -1)[:, 0].to(torch.float64).numpy())
    return np.nan_to_num(density, nan=0.0, posinf=0.0)


def posterior_summary(draws: np.ndarray) -> str:
    """``mean ± sd`` of one element's draws, as the marginals and the graph label it (e.g. ``9.17 ± 0.13``)."""
    # As the graph labels it: the same mean ± sd (torch's unbiased sd) for the same site.
    return str(summarize_posterior({"_": torch.as_tensor(draws)})["_"])


def correlation_matrix(samples: Samples, sites: list[str]) -> np.ndarray:
    """Pearson correlations of the sites' first elements (0 where a site does not vary)."""
    matrix = np.stack([first_element(samples[s]) for s in sites])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(np.corrcoef(matrix), nan=0.0)


def _central(values: np.ndarray, mass: float = 0.99) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -1.0, 1.0
    lo, hi = np.quantile(values, [(1 - mass) / 2, (1 + mass) / 2])
    return float(lo), float(hi)


def marginal_range(prior: np.ndarray | None, posteriors: list[np.ndarray]) -> tuple[float, float]:
    """The x-range for a marginal: around the posterior when there is one, else the prior's bulk."""
    if posteriors:
        lo = min(_central(p)[0] for p in posteriors)
        hi = max(_central(p)[1] for p in posteriors)
        width = (hi - lo) or max(abs(lo) * 0.1, 0.1)
        return lo - 0.5 * width, hi + 0.5 * width
    if prior is not None:
        lo, hi = _central(prior, 0.98)
        return limits([lo, hi], pad=0.15)
    return -1.0, 1.0


def draw_marginal(fig: SvgFigure, box: tuple[float, float, float, float], site: str, *, prior_fn: Distribution | None,
                  prior: np.ndarray | None, posterior: np.ndarray | None, reference: np.ndarray | None,
                  exact_prior: bool, fixed: float | None, label: str) -> None:
    """One site's marginal: prior (gray), posterior (blue), NUTS reference (orange, dashed).

    ``box`` is the plotting area; its title and the posterior's ``mean ± sd`` take the 34 px above it.
    """
    posteriors = [p for p in (posterior, reference) if p is not None]
    xlim = marginal_range(prior, posteriors)
    if fixed is not None:
        xlim = (fixed - 1.0, fixed + 1.0) if not posteriors else xlim
    grid = np.linspace(xlim[0], xlim[1], GRID_POINTS)
    curves: list[tuple[np.ndarray, str, str | None, float]] = []
    prior_curve = prior_density(prior_fn, grid) if (exact_prior and prior_fn is not None) else None
    if prior_curve is None and prior is not None:
        prior_curve = kde(prior, grid)
    if prior_curve is not None and fixed is None:
        curves.append((prior_curve, COLORS["prior"], None, 1.5))
    if posterior is not None:
        curves.append((kde(posterior, grid), COLORS["posterior"], None, 2.0))
    if reference is not None:
        curves.append((kde(reference, grid), COLORS["reference"], "5 3", 1.6))
    top = max([float(c[0].max()) for c in curves if c[0].size] + [1e-12])
    ax = fig.axes(box, xlim=xlim, ylim=(0.0, top * 1.08))
    ax.frame(ticks=3)
    fig.text(box[0] - 30, box[1] - 21, label, cls="title")
    xs = grid.tolist()
    for ys, color, dash, width in curves:
        ax.line(xs, ys.tolist(), color, width=width, dash=dash)
    if fixed is not None:
        ax.vline(fixed, COLORS["data"], dash=None, width=2.0)
        fig.text(box[0] - 30, box[1] - 5, f"do({site} = {fixed:.3g})")
    elif posterior is not None:
        fig.text(box[0] - 30, box[1] - 5, posterior_summary(posterior))


def marginal_grid_svg(sites: list[dict[str, Any]], selected: str = "", columns: int = 3,
                      width: float = 620) -> str:
    """Small marginal plots, one per site; each cell is a click target ``marginal:<site>``.

    Each entry of ``sites`` holds the keyword arguments of :func:`draw_marginal` plus ``site``.
    """
    cell_w, cell_h = width / columns, 156
    rows = max((len(sites) + columns - 1) // columns, 1)
    fig = SvgFigure(width, rows * cell_h + 22, css_class="pplkit-marginals")
    legend = [("prior", COLORS["prior"]), ("posterior", COLORS["posterior"])]
    if any(s.get("reference") is not None for s in sites):
        legend.append(("NUTS", COLORS["reference"]))
    fig.axes((0, 2, width - 6, 10), xlim=(0, 1), ylim=(0, 1)).legend(legend, dashes=[None, None, "5 3"])
    for i, entry in enumerate(sites):
        left, top = (i % columns) * cell_w, (i // columns) * cell_h + 22
        name = entry["site"]
        fig.add(f'<g id="marginal:{html.escape(name)}">')
        fig.add(f'<rect class="pk-hit" x="{left + 2:.1f}" y="{top:.1f}" width="{cell_w - 4:.1f}" '
                f'height="{cell_h - 4:.1f}" rx="4" fill="white" fill-opacity="0" stroke="#eee"/>')
        draw_marginal(fig, (left + 38, top + 40, cell_w - 50, cell_h - 66), **entry)
        fig.add("</g>")
    if not sites:
        fig.text(8, 40, "no latent sites")
    return fig.to_svg()


def marginal_svg(entry: dict[str, Any], width: float = 330, height: float = 210) -> str:
    """One larger marginal plot, for the model view's selected site."""
    fig = SvgFigure(width, height, css_class="pplkit-marginal")
    draw_marginal(fig, (44, 40, width - 58, height - 70), **entry)
    return fig.to_svg()


def correlation_svg(samples: Samples, sites: list[str], title: str) -> str:
    """The correlation matrix of the sites' first elements: what a mean-field guide cannot show."""
    sites = [s for s in sites if s in samples][:10]
    n = len(sites)
    cell, left, top = 42, 62, 38
    width = max(left + n * cell + 10, text_width(title, 13) + 8)
    fig = SvgFigure(width, top + n * cell + 12, css_class="pplkit-correlations")
    fig.text(4, 14, title, cls="title")
    if n < 2:
        fig.text(4, 34, "fewer than two latent sites")
        return fig.to_svg()
    corr = correlation_matrix(samples, sites)
    for i, row in enumerate(sites):
        fig.text(left - 4, top + i * cell + cell / 2 + 3, row, anchor="end", cls="tick")
        fig.add(f'<text x="{left + i * cell + cell / 2:.1f}" y="{top - 3}" text-anchor="middle" '
                f'class="tick">{html.escape(row)}</text>')
        for j in range(n):
            r = float(corr[i, j])
            fig.add(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                    f'fill="{_diverging(r)}"><title>corr({html.escape(row)}, {html.escape(sites[j])}) = {r:.2f}'
                    '</title></rect>')
            shade = "#fff" if abs(r) > 0.6 else "#333"
            fig.add(f'<text x="{left + j * cell + cell / 2:.1f}" y="{top + i * cell + cell / 2 + 3:.1f}" '
                    f'text-anchor="middle" style="font-size:12px;fill:{shade}">{r:.2f}</text>')
    return fig.to_svg()


def _diverging(r: float) -> str:
    """Blue for negative, white for zero, red for positive correlation."""
    r = max(-1.0, min(1.0, r))
    target = (33, 102, 172) if r < 0 else (178, 24, 43)
    mix = [round(255 + (c - 255) * abs(r)) for c in target]
    return "#" + "".join(f"{c:02x}" for c in mix)


def default_predictive_plot(fig: PlotGrid, draws: Draws) -> None:
    """For each observed site: the density of its data against the prior and posterior predictive."""
    sites = list(draws.data)
    if not sites:
        fig.panel("the model observes nothing").note("condition the model on data to compare")
    for site in sites:
        data = subsample(draws.data[site])
        state = "free: not conditioned on its data" if site in draws.free else "conditioned on its data"
        ax = fig.panel(f"{site} ({state})", xlabel=site, ylabel="density")
        pooled = {role: subsample(s) for role, s in draws.predictions(site)}
        ranges = [_central(v, 0.98) for v in [data, *pooled.values()]]
        lo, hi = limits([r[0] for r in ranges] + [r[1] for r in ranges], pad=0.05)
        grid = np.linspace(lo, hi, 150)
        ax.density(data, color="data", label="data", grid=grid, width=2.2)
        names = {"prior": "prior predictive", "posterior": "posterior predictive", "reference": "NUTS predictive"}
        for role, values in pooled.items():
            ax.density(values, color=role, label=names[role], grid=grid, dash="5 3" if role == "reference" else None)
        if math.isfinite(lo) and draws.posterior is None:
            ax.note("posterior: fitting…")

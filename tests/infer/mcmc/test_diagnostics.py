"""ESS, r_hat, HPD intervals and the summary table, against known answers and pyro.ops.stats."""

from __future__ import annotations

import math

import pytest
import torch

from pplkit.infer.mcmc.diagnostics import (
    autocovariance,
    effective_sample_size,
    format_summary,
    gelman_rubin,
    hpdi,
    split_gelman_rubin,
    summary,
)


def ar1_chains(phi: float, num_chains: int, n: int, seed: int = 0) -> torch.Tensor:
    """Stationary AR(1) chains x_t = phi x_{t-1} + e_t with unit marginal variance."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(num_chains, n, generator=gen, dtype=torch.float64) * math.sqrt(1 - phi**2)
    x = torch.empty(num_chains, n, dtype=torch.float64)
    x[:, 0] = torch.randn(num_chains, generator=gen, dtype=torch.float64)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def test_autocovariance_matches_the_direct_sum():
    x = torch.randn(50, dtype=torch.float64)
    centred = x - x.mean()
    direct = torch.stack([(centred[: 50 - k] * centred[k:]).sum() / 50 for k in range(50)])
    assert torch.allclose(autocovariance(x), direct)


def test_ess_of_iid_draws_is_about_the_number_of_draws():
    draws = torch.randn(4, 2000, generator=torch.Generator().manual_seed(1))
    ess = float(effective_sample_size(draws))
    assert 0.9 * 8000 < ess < 1.1 * 8000


def test_ess_of_an_ar1_chain_matches_its_integrated_autocorrelation_time():
    # For AR(1), rho_k = phi**k, so tau = 1 + 2 sum phi**k = (1 + phi) / (1 - phi).
    phi = 0.8
    chains = ar1_chains(phi, num_chains=4, n=20000)
    expected = chains.numel() * (1 - phi) / (1 + phi)
    assert float(effective_sample_size(chains)) == pytest.approx(expected, rel=0.1)


def test_ess_and_r_hat_agree_with_pyro_ops_stats():
    stats = pytest.importorskip("pyro.ops.stats")
    chains = ar1_chains(0.5, num_chains=3, n=501, seed=2).float()
    shifted = torch.stack([chains, 2 * chains + 1], dim=-1)  # a vector site, shape (3, 501, 2)
    # Pyro divides the lag-k autocovariance by N - k; pplkit, like Stan and ArviZ, by N (Geyer's
    # biased estimate). On 500 draws that moves the ESS by well under 1%.
    assert torch.allclose(effective_sample_size(shifted), stats.effective_sample_size(shifted), rtol=0.01)
    assert torch.allclose(split_gelman_rubin(shifted), stats.split_gelman_rubin(shifted), rtol=1e-5)
    assert torch.allclose(gelman_rubin(shifted), stats.gelman_rubin(shifted), rtol=1e-5)
    assert torch.allclose(hpdi(shifted[0], 0.9), stats.hpdi(shifted[0], 0.9))


def test_r_hat_is_one_for_agreeing_chains_and_large_for_chains_in_different_places():
    draws = torch.randn(4, 1000, generator=torch.Generator().manual_seed(3))
    assert float(split_gelman_rubin(draws)) == pytest.approx(1.0, abs=0.01)
    apart = draws + torch.tensor([0.0, 0.0, 3.0, 3.0]).unsqueeze(-1)
    assert float(split_gelman_rubin(apart)) > 1.5
    drifting = draws + torch.linspace(0, 5, 1000)  # one trend: only the split version sees it in one chain
    assert float(split_gelman_rubin(drifting[:1])) > 1.5


def test_one_chain_has_r_hat_exactly_one_without_splitting():
    assert float(gelman_rubin(torch.randn(1, 100))) == 1.0


def test_too_few_samples_are_rejected_with_the_shape():
    with pytest.raises(ValueError, match=r"num_chains, num_samples.*\(2,\)"):
        effective_sample_size(torch.randn(2))
    with pytest.raises(ValueError, match="at least 4 samples"):
        split_gelman_rubin(torch.randn(1, 3))


def test_hpdi_of_a_uniform_grid_is_its_central_run():
    grid = torch.arange(100.0)
    assert hpdi(grid, 0.9).tolist() == [0.0, 90.0]  # every run of 90 has the same width: the first wins
    skewed = torch.cat([torch.zeros(50), torch.linspace(0, 10, 50)])  # mass piled up at 0
    low, high = hpdi(skewed, 0.5).tolist()
    assert low == 0.0 and high == 0.0


def test_summary_returns_plain_numbers_and_formats_one_row_per_element():
    samples = {"x": torch.randn(2, 200), "v": torch.randn(2, 200, 2) + torch.tensor([0.0, 10.0])}
    table = summary(samples, prob=0.9)
    assert list(table["x"]) == ["mean", "std", "median", "5.0%", "95.0%", "n_eff", "r_hat"]
    assert isinstance(table["x"]["mean"], float)
    assert isinstance(table["v"]["mean"], list) and table["v"]["mean"][1] == pytest.approx(10.0, abs=0.2)
    text = format_summary(table)
    lines = text.splitlines()
    assert lines[0].split() == ["mean", "std", "median", "5.0%", "95.0%", "n_eff", "r_hat"]
    assert [line.split()[0] for line in lines[1:]] == ["x", "v[0]", "v[1]"]

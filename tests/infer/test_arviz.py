"""to_arviz: MCMC samples, guide draws and Predictive draws as ArviZ's InferenceData, checked by ArviZ itself."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.infer import MCMC, NUTS, SVI, AutoNormal, Predictive, Trace_ELBO, to_arviz
from pplkit.infer.mcmc.diagnostics import effective_sample_size, split_gelman_rubin
from pplkit.optim import Adam

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # ArviZ 0.23 announces its 1.0 refactor on import
    az = pytest.importorskip("arviz")

X = torch.linspace(-2.0, 2.0, 40)
Y = 1.5 * X + 0.5 + 0.4 * torch.sin(7 * X)


def regression(x, y=None):
    w = pplkit.sample("w", dist.Normal(0.0, 2.0))
    b = pplkit.sample("b", dist.Normal(0.0, 2.0))
    sigma = pplkit.sample("sigma", dist.HalfNormal(1.0))
    with pplkit.plate("data", len(x)):
        return pplkit.sample("y", dist.Normal(w * x + b, sigma), obs=y)


@pytest.fixture(scope="module")
def mcmc():
    pplkit.set_rng_seed(1)
    run = MCMC(NUTS(regression), num_samples=200, warmup_steps=150, num_chains=2, disable_progbar=True)
    run.run(X, Y)
    return run


@pytest.fixture(scope="module")
def idata(mcmc):
    return mcmc.to_arviz()


def test_posterior_keeps_chains_draws_and_values(mcmc, idata):
    grouped = mcmc.get_samples(group_by_chain=True)
    for site in ["w", "b", "sigma"]:
        exported = idata.posterior[site]
        assert exported.dims == ("chain", "draw") and exported.shape == (2, 200)
        np.testing.assert_array_equal(exported.values, grouped[site].numpy())
    assert idata.sample_stats["diverging"].shape == (2, 200)
    assert int(idata.sample_stats["n_steps"].min()) >= 1
    assert idata.attrs["inference_library"] == "pplkit"


def test_arviz_summary_matches_the_raw_draws_and_pplkits_diagnostics(mcmc, idata):
    table = az.summary(idata, var_names=["w", "b", "sigma"], round_to="none")
    grouped = mcmc.get_samples(group_by_chain=True)
    for site, draws in grouped.items():
        flat = draws.reshape(-1).double()
        assert table.loc[site, "mean"] == pytest.approx(flat.mean().item(), rel=1e-5)
        assert table.loc[site, "sd"] == pytest.approx(flat.std().item(), rel=1e-4)
        # ArviZ on the exported object = ArviZ on the raw (chain, draw) array: nothing transposed or mixed.
        assert table.loc[site, "ess_bulk"] == pytest.approx(float(az.ess(draws.numpy())), rel=1e-6)
        assert table.loc[site, "r_hat"] == pytest.approx(float(az.rhat(draws.numpy())), rel=1e-6)
        # And the classic statistics agree with pplkit's own (Pyro's) estimators.
        split_rhat = float(az.rhat(draws.numpy(), method="split"))
        assert split_rhat == pytest.approx(split_gelman_rubin(draws).item(), abs=0.01)
        ess_mean = float(az.ess(draws.numpy(), method="mean"))
        assert ess_mean == pytest.approx(effective_sample_size(draws).item(), rel=0.2)


def test_observed_data_and_pointwise_log_likelihood(mcmc, idata):
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y.numpy())
    assert idata.observed_data["y"].dims == ("data",)
    log_lik = idata.log_likelihood["y"]
    assert log_lik.dims == ("chain", "draw", "data") and log_lik.shape == (2, 200, 40)
    s = mcmc.get_samples(group_by_chain=True)
    expected = torch.distributions.Normal(s["w"][..., None] * X + s["b"][..., None], s["sigma"][..., None]).log_prob(Y)
    np.testing.assert_allclose(log_lik.values, expected.numpy(), rtol=1e-5, atol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo) and loo.n_data_points == 40


def test_guide_draws_and_posterior_predictive():
    pplkit.set_rng_seed(2)
    pplkit.clear_param_store()
    guide = AutoNormal(regression)
    svi = SVI(regression, guide, Adam({"lr": 0.05}), Trace_ELBO())
    for _ in range(300):
        svi.step(X, Y)
    predictive = Predictive(regression, guide=guide, num_samples=200)(X)
    data = to_arviz(guide=guide, model=regression, model_args=(X, Y), num_samples=500,
                    posterior_predictive=predictive)
    assert data.posterior["w"].shape == (1, 500)
    assert data.posterior_predictive["y"].shape == (1, 200, 40)
    assert data.posterior_predictive["y"].dims == ("chain", "draw", "data")
    assert "w" not in data.posterior_predictive  # latent sites stay in the posterior group
    assert data.log_likelihood["y"].shape == (1, 500, 40)
    # The guide's posterior median, through ArviZ.
    assert float(data.posterior["w"].median()) == pytest.approx(guide.median()["w"].item(), abs=0.02)


def test_prior_and_prior_predictive_from_predictive_draws():
    prior = Predictive(regression, num_samples=100)(X)
    data = to_arviz(model=regression, model_args=(X, Y), prior=prior)
    assert set(data.prior.data_vars) == {"w", "b", "sigma"} and data.prior_predictive["y"].shape == (1, 100, 40)
    assert "posterior" not in data.groups()


def test_dict_draws_with_chains_and_errors_that_name_the_site():
    draws = {"w": torch.randn(600), "b": torch.randn(600), "sigma": torch.rand(600)}
    data = to_arviz(draws, model=regression, model_args=(X, Y), num_chains=3, log_likelihood=False)
    assert data.posterior["w"].shape == (3, 200) and "log_likelihood" not in data.groups()
    with pytest.raises(ValueError, match=r"posterior\['w'\] has 600 draws, not a multiple of num_chains=7"):
        to_arviz(draws, num_chains=7)
    with pytest.raises(ValueError, match=r"posterior\['b'\] must be a tensor"):
        to_arviz({"b": 1.0})
    with pytest.raises(ValueError, match="pass model_args="):
        to_arviz(guide=AutoNormal(regression))


def test_pplkit_never_imports_arviz_and_names_the_extra_when_it_is_missing():
    script = (
        "import sys; import pplkit, pplkit.infer; assert 'arviz' not in sys.modules, 'pplkit imported arviz'\n"
        "sys.modules['arviz'] = None  # as if it were not installed\n"
        "try:\n    pplkit.infer.to_arviz({})\nexcept ImportError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "pip install 'pplkit[arviz]'" in done.stdout


def test_a_model_whose_discrete_sites_were_summed_out_gets_no_wrong_log_likelihood():
    @pplkit.infer.config_enumerate
    def mixture(data):
        loc = pplkit.sample("loc", dist.Normal(0.0, 3.0))
        with pplkit.plate("data", len(data)):
            which = pplkit.sample("which", dist.Bernoulli(0.5))
            pplkit.sample("x", dist.Normal(loc * (2.0 * which - 1.0), 1.0), obs=data)

    mcmc = MCMC(NUTS(mixture), 20, 20, disable_progbar=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short run's own diagnostics
        mcmc.run(torch.tensor([-2.0, 2.1, 1.9]))
    with pytest.warns(UserWarning, match=r"no log_likelihood group, because the discrete sites \['which'\]"):
        idata = to_arviz(mcmc)
    assert "log_likelihood" not in idata.groups() and "posterior" in idata.groups()

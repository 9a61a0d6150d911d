"""AutoMultivariateNormal recovers a Gaussian posterior exactly; its params read as Pyro's."""

from __future__ import annotations

import torch

import pplkit
from pplkit.infer import AutoMultivariateNormal

from .. import conjugate as cj


def test_linear_regression_posterior_mean_and_covariance():
    x, y = cj.regression_data()
    guide = AutoMultivariateNormal(cj.regression_model)
    cj.fit(cj.regression_model, guide, x, y)
    mean, covariance = cj.regression_posterior()
    sds = covariance.diagonal().sqrt()
    # The posterior is in the family; measured over seeds: mean within 0.09 sd, covariance
    # entries within 4% of the largest.
    assert torch.all((guide.median()["w"] - mean).abs() < 0.2 * sds)
    assert (guide.covariance() - covariance).abs().max() < 0.1 * covariance.abs().max()


def test_params_as_pyro_names_them_and_scale_tril_stays_unit_lower_triangular():
    x, y = cj.regression_data()
    guide = AutoMultivariateNormal(cj.regression_model)
    cj.fit(cj.regression_model, guide, x, y, settings=cj.Fit(steps=50))
    store = pplkit.get_param_store()
    prefix = "AutoMultivariateNormal"
    assert store.keys() == [f"{prefix}.loc", f"{prefix}.scale", f"{prefix}.scale_tril"]
    tril = store["AutoMultivariateNormal.scale_tril"]
    assert tril.shape == (3, 3)
    assert torch.equal(tril.diagonal(), torch.ones(3))
    assert torch.equal(tril.triu(1), torch.zeros(3, 3))
    assert tril.tril(-1).abs().sum() > 0  # the correlations were learned

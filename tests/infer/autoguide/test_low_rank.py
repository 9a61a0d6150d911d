"""AutoLowRankMultivariateNormal: with full rank it recovers a Gaussian posterior."""

from __future__ import annotations

import torch

import pplkit
from pplkit.infer import AutoLowRankMultivariateNormal

from .. import conjugate as cj


def test_full_rank_recovers_the_regression_posterior():
    x, y = cj.regression_data()
    guide = AutoLowRankMultivariateNormal(cj.regression_model, rank=3)
    cj.fit(cj.regression_model, guide, x, y)
    mean, covariance = cj.regression_posterior()
    sds = covariance.diagonal().sqrt()
    # Measured over seeds: mean within 0.07 sd, marginal sds within 3%.
    assert torch.all((guide.median()["w"] - mean).abs() < 0.2 * sds)
    _, scale = guide._loc_scale()
    assert torch.allclose(scale, sds, rtol=0.08)


def test_default_rank_and_param_names():
    x, y = cj.regression_data()
    guide = AutoLowRankMultivariateNormal(cj.regression_model)
    guide(x, y)
    assert guide.rank == 2  # round(sqrt(3))
    shapes = {k: tuple(v.shape) for k, v in pplkit.get_param_store().items()}
    assert shapes == {
        "AutoLowRankMultivariateNormal.loc": (3,),
        "AutoLowRankMultivariateNormal.scale": (3,),
        "AutoLowRankMultivariateNormal.cov_factor": (3, 2),
    }

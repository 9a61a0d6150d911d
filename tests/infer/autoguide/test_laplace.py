"""AutoLaplaceApproximation: for a Gaussian posterior the Laplace approximation is exact."""

from __future__ import annotations

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import AutoLaplaceApproximation, AutoMultivariateNormal

from .. import conjugate as cj


def test_laplace_approximation_of_linear_regression_is_the_posterior():
    x, y = cj.regression_data()
    delta = AutoLaplaceApproximation(cj.regression_model)
    cj.fit(cj.regression_model, delta, x, y, settings=cj.Fit(particles=1))
    gaussian = delta.laplace_approximation(x, y)
    assert isinstance(gaussian, AutoMultivariateNormal)
    mean, covariance = cj.regression_posterior()
    # The MAP point is optimised to ~1e-3; the Hessian of a quadratic is exact.
    assert torch.allclose(gaussian.median()["w"], mean, atol=1e-2)
    assert torch.allclose(gaussian.covariance(), covariance, rtol=1e-3, atol=1e-5)
    assert pplkit.get_param_store().keys() == ["AutoLaplaceApproximation.loc"]  # nothing new stored
    with plate("samples", 4000, dim=-2):
        w = gaussian(x, y)["w"]
    assert w.shape == (4000, 1, 3)
    sample_sd = w.reshape(4000, 3).std(0)
    assert torch.allclose(sample_sd, covariance.diagonal().sqrt(), rtol=0.1)  # 4000 draws: sd error ~1.1%


def test_laplace_in_unconstrained_space_for_a_positive_site():
    counts = cj.COUNTS

    def model():
        rate = sample("rate", dist.Gamma(*cj.GAMMA_PRIOR))
        with plate("data", len(counts)):
            sample("obs", dist.Poisson(rate), obs=counts)

    delta = AutoLaplaceApproximation(model)
    cj.fit(model, delta, settings=cj.Fit(particles=1))
    gaussian = delta.laplace_approximation()
    # In u = log(rate) the log joint is (a + sum x) u - (b + n) e^u (Jacobian included):
    # mode u* = log((a + sum x) / (b + n)), curvature (a + sum x).
    concentration, rate = cj.gamma_posterior()
    assert torch.isclose(gaussian.median()["rate"], torch.tensor(concentration / rate), rtol=1e-3)
    assert torch.isclose(gaussian.covariance()[0, 0], torch.tensor(1 / concentration), rtol=1e-3)

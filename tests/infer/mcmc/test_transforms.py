"""Compiled support transforms agree with torch's biject_to, Jacobian up to a constant."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import biject_to, constraints

from pplkit.infer.mcmc.transforms import compile_transform, constrain_exactly, is_identity

SUPPORTS = {
    "real": (constraints.real, (3,)),
    "positive": (constraints.positive, (3,)),
    "interval": (constraints.interval(-1.0, 4.0), (3,)),
    "unit_interval": (constraints.unit_interval, (3,)),
    "greater_than": (constraints.greater_than(torch.tensor([1.0, 2.0, 3.0])), (3,)),
    "independent_positive": (constraints.independent(constraints.positive, 1), (3,)),
    "simplex": (constraints.simplex, (3,)),  # 3 unconstrained -> a 4-simplex
    "corr_cholesky": (constraints.corr_cholesky, (3,)),  # 3 unconstrained -> a 3x3 factor
}


def full_log_det(transform, x):
    return transform.log_abs_det_jacobian(x, transform(x)).sum()


@pytest.mark.parametrize("name", list(SUPPORTS))
def test_compiled_transform_gives_torchs_values_and_its_jacobian_up_to_a_constant(name):
    support, shape = SUPPORTS[name]
    transform = biject_to(support)
    constrain = compile_transform(transform)
    x1, x2 = torch.randn(shape, dtype=torch.float64), torch.randn(shape, dtype=torch.float64)
    y1, log_det1 = constrain(x1)
    y2, log_det2 = constrain(x2)
    assert torch.allclose(y1, transform(x1))
    as_number = lambda t: 0.0 if t is None else float(t.sum())  # noqa: E731
    difference = as_number(log_det1) - as_number(log_det2)
    assert difference == pytest.approx(float(full_log_det(transform, x1) - full_log_det(transform, x2)), abs=1e-9)


def test_constrain_exactly_keeps_the_constant_terms():
    transform = biject_to(constraints.interval(0.0, 10.0))
    x = torch.tensor([0.3, -1.2], dtype=torch.float64)
    y, log_det = constrain_exactly(transform, x)
    assert torch.allclose(y, transform(x))
    assert float(log_det) == pytest.approx(float(full_log_det(transform, x)))


def test_identity_supports_are_recognised():
    assert is_identity(biject_to(constraints.real))
    assert is_identity(biject_to(constraints.independent(constraints.real, 1)))
    assert not is_identity(biject_to(constraints.positive))
    y, log_det = compile_transform(biject_to(constraints.real))(torch.tensor(2.0))
    assert float(y) == 2.0 and log_det is None

"""Leapfrog integration and mass matrices: reversibility, energy error order, momentum covariance."""

from __future__ import annotations

import pytest
import torch

from pplkit.infer.mcmc.hamiltonian import DenseMass, DiagonalMass, Integrator, UniformStream

PRECISION = torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)


def gaussian_energy(z):
    """U(z) = z' P z / 2 and its gradient P z."""
    return 0.5 * float(z @ PRECISION @ z), PRECISION @ z


def test_leapfrog_is_reversible():
    integrator = Integrator(gaussian_energy, DiagonalMass(torch.tensor([1.0, 0.5], dtype=torch.float64)))
    z = torch.tensor([1.0, -0.5], dtype=torch.float64)
    start = integrator.point(z, *gaussian_energy(z), torch.tensor([0.3, 0.8], dtype=torch.float64))
    point = start
    for _ in range(20):
        point = integrator.leapfrog(point, 0.1)
    for _ in range(20):  # a negative step runs the dynamics backwards
        point = integrator.leapfrog(point, -0.1)
    assert torch.allclose(point.position, start.position)
    assert torch.allclose(point.momentum, start.momentum)


def test_energy_error_shrinks_with_the_square_of_the_step_size():
    integrator = Integrator(gaussian_energy, DiagonalMass(torch.ones(2, dtype=torch.float64)))
    z = torch.tensor([1.0, 1.0], dtype=torch.float64)
    start = integrator.point(z, *gaussian_energy(z), torch.tensor([0.5, -1.0], dtype=torch.float64))

    def error(step_size):
        point = start
        for _ in range(round(1.0 / step_size)):
            point = integrator.leapfrog(point, step_size)
        return abs(point.energy - start.energy)

    assert error(0.05) / error(0.025) == pytest.approx(4.0, rel=0.15)


def test_dense_mass_draws_momenta_with_covariance_the_mass_matrix():
    inverse = torch.tensor([[1.0, 0.5], [0.5, 2.0]], dtype=torch.float64)
    mass = DenseMass(inverse)
    factor = mass._momentum_factor
    assert torch.allclose(factor @ factor.T, torch.linalg.inv(inverse))
    assert torch.allclose(mass.velocity(torch.tensor([1.0, 0.0], dtype=torch.float64)), inverse[:, 0])


def test_diagonal_mass_draws_momenta_with_variance_one_over_the_inverse():
    torch.manual_seed(0)
    mass = DiagonalMass(torch.tensor([4.0, 0.25]))
    draws = torch.stack([mass.sample_momentum() for _ in range(4000)])
    assert torch.allclose(draws.var(0), torch.tensor([0.25, 4.0]), rtol=0.1)


def test_uniform_stream_is_reproducible_under_torch_seed():
    def draws():
        stream = UniformStream(block=4)
        return [stream() for _ in range(10)]  # refills its block twice

    torch.manual_seed(3)
    first = draws()
    torch.manual_seed(3)
    assert draws() == first
    assert len(set(first)) == 10 and all(0.0 <= u < 1.0 for u in first)

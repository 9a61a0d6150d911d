"""The IAF step: autoregressive in its order, its log-determinant exact, its inverse exact."""

from __future__ import annotations

import torch

from pplkit.infer.autoguide.flows import AffineAutoregressive, init_made_weights, made_masks


def _step(dim=4, hidden=(9, 7), seed=0):
    torch.manual_seed(seed)
    permutation = torch.randperm(dim)
    return AffineAutoregressive(init_made_weights(dim, hidden), made_masks(permutation, hidden)), permutation


def test_each_output_depends_only_on_the_inputs_before_it_in_the_order():
    flow, permutation = _step()
    x = torch.randn(4)
    jacobian = torch.autograd.functional.jacobian(flow, x)
    # In the flow's order the Jacobian is lower triangular with a positive diagonal.
    ordered = jacobian[permutation][:, permutation]
    assert torch.equal(ordered.triu(1), torch.zeros(4, 4))
    assert bool((ordered.diagonal() > 0).all())


def test_the_log_determinant_is_that_of_the_jacobian():
    flow, _ = _step()
    x = torch.randn(4)
    y = flow(x)
    jacobian = torch.autograd.functional.jacobian(_step()[0], x)
    assert torch.allclose(flow.log_abs_det_jacobian(x, y), torch.linalg.slogdet(jacobian)[1], atol=1e-5)


def test_the_inverse_recovers_the_input_for_a_batch():
    flow, _ = _step()
    x = torch.randn(5, 4)
    y = flow(x)
    fresh, _ = _step()  # no cached draw: the sequential inverse really runs
    assert torch.allclose(fresh.inv(y), x, atol=1e-5)


def test_a_single_element_gets_a_constant_affine_map():
    flow, _ = _step(dim=1, hidden=(4,))
    x = torch.tensor([[0.0], [1.0], [2.0]])
    y = flow(x).squeeze(-1)
    assert torch.allclose(y[2] - y[1], y[1] - y[0])

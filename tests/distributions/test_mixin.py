"""Pyro's conveniences on torch distributions: to_event, expand_by, mask, calling."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist


def test_families_are_torch_classes_with_the_mixin():
    d = dist.Normal(torch.zeros(3), 1.0)
    assert isinstance(d, torch.distributions.Normal) and isinstance(d, dist.TorchDistributionMixin)
    assert type(d.expand([2, 3])) is dist.Normal
    assert torch.allclose(d.log_prob(torch.ones(3)), torch.distributions.Normal(0.0, 1.0).log_prob(torch.ones(3)))


def test_to_event_moves_batch_dims_into_the_event():
    d = dist.Normal(torch.zeros(2, 3), 1.0)
    e = d.to_event(1)
    assert isinstance(e, dist.Independent) and e.batch_shape == (2,) and e.event_shape == (3,)
    assert d.to_event().event_shape == (2, 3)
    assert e.to_event(1).event_shape == (2, 3)
    assert d.to_event(0) is d
    assert torch.allclose(e.log_prob(torch.zeros(2, 3)), d.log_prob(torch.zeros(2, 3)).sum(-1))
    with pytest.raises(ValueError, match="to_event"):
        d.to_event(3)


def test_expand_by_adds_dims_on_the_left():
    d = dist.Gamma(torch.ones(3), 1.0).expand_by([4, 2])
    assert d.batch_shape == (4, 2, 3)


def test_mask_zeroes_the_log_prob_where_false():
    d = dist.Normal(torch.zeros(3), 1.0).mask(torch.tensor([True, False, True]))
    lp = d.log_prob(torch.zeros(3))
    assert lp[1] == 0 and lp[0] == dist.Normal(0.0, 1.0).log_prob(torch.tensor(0.0))
    assert torch.all(dist.Normal(0.0, 1.0).mask(False).log_prob(torch.ones(2)) == 0)
    with pytest.raises(TypeError, match="bool"):
        dist.Normal(0.0, 1.0).mask(torch.tensor([1.0]))


def test_calling_a_distribution_draws_a_sample():
    assert dist.Normal(0.0, 1.0)([5]).shape == (5,)
    assert dist.Bernoulli(0.5)().shape == ()
    assert dist.Normal(torch.zeros(2), 1.0).shape([3]) == (3, 2)
    assert dist.Normal(torch.zeros(2), 1.0).to_event(1).event_dim == 1


def test_kl_divergence_dispatches_to_torch():
    p, q = dist.Normal(0.0, 1.0), dist.Normal(1.0, 2.0)
    assert torch.allclose(dist.kl_divergence(p, q), torch.distributions.kl_divergence(p, q))


def test_has_rsample_false_detaches_draws_and_the_elbo_uses_the_score_function():
    import pplkit
    from pplkit.infer import Trace_ELBO

    d = dist.Normal(torch.tensor(0.0, requires_grad=True), 1.0)
    assert d.has_rsample_(False) is d and not d.has_rsample
    assert not pplkit.sample("z", d).requires_grad
    with pytest.raises(ValueError, match="True or False"):
        d.has_rsample_(1)

    # Model and guide N(loc, 1) vs N(0, 1): the ELBO's gradient in loc is -loc either way, in expectation.
    def model():
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    def guide():
        loc = pplkit.param("loc", torch.tensor(0.5))
        pplkit.sample("z", dist.Normal(loc, 1.0).has_rsample_(False))

    pplkit.set_rng_seed(1)
    elbo, grads = Trace_ELBO(), []
    for _ in range(1000):
        loss = elbo.differentiable_loss(model, guide)
        grads.append(torch.autograd.grad(loss, pplkit.get_param_store().unconstrained("loc"))[0])
    g = torch.stack(grads)
    assert abs(g.mean() - 0.5) < 4 * g.std() / 1000**0.5  # d(KL)/d(loc) = loc

"""PyroModule, PyroParam, PyroSample: checked against closed forms and torch itself."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.distributions import constraints

import pplkit as pyro
import pplkit.distributions as dist
from pplkit import nn as pplkit_nn
from pplkit import poutine
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoDelta, AutoLaplaceApproximation
from pplkit.nn import PyroModule, PyroParam, PyroSample, module, pyro_method


def regression_data(n: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3 + 0.2 * torch.randn(n)
    return x, y


def ols(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Least squares with an intercept column: (w1, w2, w3, b)."""
    design = torch.cat([x, torch.ones(len(x), 1)], 1)
    return torch.linalg.lstsq(design, y.unsqueeze(-1)).solution.squeeze(-1)


def test_pyro_module_of_a_torch_class_is_both():
    cls = PyroModule[nn.Linear]
    assert issubclass(cls, nn.Linear) and issubclass(cls, PyroModule)
    assert PyroModule[nn.Linear] is cls  # made once
    assert [n for n, _ in cls(3, 1).named_parameters()] == ["weight", "bias"]


def test_pyro_module_linear_trained_with_torch_reaches_least_squares():
    x, y = regression_data()
    model = PyroModule[nn.Linear](3, 1)
    optim = torch.optim.LBFGS(model.parameters(), max_iter=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optim.zero_grad()
        loss = ((model(x).squeeze(-1) - y) ** 2).sum()
        loss.backward()
        return loss

    optim.step(closure)
    fitted = torch.cat([model.weight.detach().squeeze(0), model.bias.detach()])
    assert torch.allclose(fitted, ols(x, y), atol=1e-3)


class Regression(PyroModule):
    """A maximum-likelihood regression: the linear layer's params are param sites."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = PyroModule[nn.Linear](3, 1)
        self.sigma = PyroParam(torch.tensor(1.0), constraints.positive)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        mean = self.linear(x).squeeze(-1)
        with pyro.plate("data", len(x)):
            pyro.sample("obs", dist.Normal(mean, self.sigma), obs=y)
        return mean


def test_module_params_are_store_params_under_pyro_names():
    x, y = regression_data()
    model = Regression()
    tr = poutine.trace(model).get_trace(x, y)
    assert tr.param_nodes == ["linear.weight", "linear.bias", "sigma"]
    store = pyro.get_param_store()
    assert store.unconstrained("linear.weight") is model.linear.weight  # one tensor, not a copy
    assert store.unconstrained("sigma") is model.sigma_unconstrained
    assert set(model.state_dict()) == {"sigma_unconstrained", "linear.weight", "linear.bias"}
    assert model.sigma.item() == pytest.approx(1.0)  # read outside a call: constrained


def test_svi_on_a_module_model_gives_least_squares_and_the_ml_noise():
    x, y = regression_data()
    model = Regression()
    svi = SVI(model, lambda x, y: None, pyro.optim.Adam({"lr": 0.1}), Trace_ELBO())
    for _ in range(400):
        svi.step(x, y)
    coef = ols(x, y)
    fitted = torch.cat([model.linear.weight.detach().squeeze(0), model.linear.bias.detach()])
    assert torch.allclose(fitted, coef, atol=2e-3)
    residual = y - torch.cat([x, torch.ones(len(x), 1)], 1) @ coef
    assert model.sigma.item() == pytest.approx(float(residual.pow(2).mean().sqrt()), rel=1e-2)


def test_the_store_is_the_source_of_truth():
    x, y = regression_data()
    model = Regression()
    model(x, y)
    with poutine.trace():
        model(x, y)
    pyro.get_param_store()["linear.bias"] = torch.tensor([7.0])  # a new leaf in the store
    with poutine.trace() as tracer:
        mean = model(x)
    assert torch.allclose(model.linear.bias.detach(), torch.tensor([7.0]))
    assert pyro.get_param_store().unconstrained("linear.bias") is model.linear.bias
    assert torch.allclose(tracer.trace.nodes["linear.bias"].value, torch.tensor([7.0]))
    assert mean.shape == (len(x),)


class Sampled(PyroModule):
    def __init__(self) -> None:
        super().__init__()
        self.loc = PyroParam(torch.tensor(2.0))
        self.z = PyroSample(lambda self: dist.Normal(self.loc, 1.0))

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.z, self.z

    @pyro_method
    def twice(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.z, self.z


def test_a_pyro_sample_is_drawn_once_per_call():
    m = Sampled()
    first, again = m()
    assert first is again
    other, _ = m()
    assert not torch.equal(first, other)
    a, b = m.twice()
    assert a is b
    tr = poutine.trace(m).get_trace()
    assert tr.stochastic_nodes == ["z"]
    assert tr.nodes["z"].fn.loc.item() == pytest.approx(2.0)  # the prior read the PyroParam


def test_pyro_sample_replaces_a_torch_parameter():
    layer = PyroModule[nn.Linear](2, 1)
    layer.weight = PyroSample(dist.Normal(0.0, 1.0).expand([1, 2]).to_event(2))
    assert [n for n, _ in layer.named_parameters()] == ["bias"]
    tr = poutine.trace(layer).get_trace(torch.ones(4, 2))
    assert tr.stochastic_nodes == ["weight"] and tr.param_nodes == ["bias"]


def test_pyro_param_without_init_starts_from_the_attribute():
    layer = PyroModule[nn.Linear](2, 1)
    with torch.no_grad():
        layer.bias.fill_(3.0)
    layer.bias = PyroParam(constraint=constraints.positive)
    assert float(layer.bias) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="has no init_value"):
        layer.missing = PyroParam()


def test_module_registers_a_torch_module_as_pyro_does():
    net = nn.Linear(2, 1)

    def guide_with_net():
        module("net", net)

    tr = poutine.trace(guide_with_net).get_trace()
    assert tr.param_nodes == ["net$$$weight", "net$$$bias"]
    assert pyro.get_param_store().unconstrained("net$$$weight") is net.weight


def test_module_keeps_its_own_tensors_unless_asked_to_take_the_stores():
    first, second = nn.Linear(2, 1), nn.Linear(2, 1)
    module("net", first)
    module("net", second)  # a second module under a taken name: the store keeps the first's tensors
    assert second.weight is not first.weight
    assert pyro.get_param_store().unconstrained("net$$$weight") is first.weight
    module("net", second, update_module_params=True)
    assert second.weight is first.weight and second.bias is first.bias


def test_module_skips_frozen_parameters_and_says_so_in_training_mode():
    net = nn.Linear(2, 1)
    net.bias.requires_grad_(False)
    with pytest.warns(UserWarning, match="bias was not registered"):
        module("frozen", net)
    assert "frozen$$$weight" in pyro.get_param_store() and "frozen$$$bias" not in pyro.get_param_store()
    net.train(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module("frozen", net)


def test_module_refuses_a_class_and_the_name_divider():
    with pytest.raises(TypeError, match=r"nn.Linear|Linear\(\.\.\.\)"):
        module("net", nn.Linear)
    with pytest.raises(ValueError, match=r"\$\$\$"):
        module("a$$$b", nn.Linear(1, 1))


def test_random_module_draws_every_parameter_from_the_prior():
    net = nn.Linear(2, 2)
    with pytest.warns(FutureWarning, match="PyroModule"):
        sampler = pyro.random_module("net", net, dist.Normal(5.0, 1e-6))
    with poutine.trace() as tracer:
        drawn = sampler()
    tr = tracer.trace
    assert drawn is not net  # a copy: the original keeps its parameters
    assert tr.stochastic_nodes == ["net$$$weight", "net$$$bias"]
    assert torch.allclose(drawn.weight, torch.full((2, 2), 5.0), atol=1e-4)
    assert torch.equal(drawn.bias, tr.nodes["net$$$bias"]["value"])
    assert not torch.allclose(net.weight, torch.full((2, 2), 5.0), atol=1e-2)


class BayesianRegression(PyroModule):
    """Pyro's bayesian_regression tutorial model, with a known noise scale (a conjugate posterior)."""

    def __init__(self, prior_scale: float, noise: float) -> None:
        super().__init__()
        self.noise = noise
        self.linear = PyroModule[nn.Linear](3, 1)
        self.linear.weight = PyroSample(dist.Normal(0.0, prior_scale).expand([1, 3]).to_event(2))
        self.linear.bias = PyroSample(dist.Normal(0.0, prior_scale).expand([1]).to_event(1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        mean = self.linear(x).squeeze(-1)
        with pyro.plate("data", x.shape[0]):
            pyro.sample("obs", dist.Normal(mean, self.noise), obs=y)
        return mean


def test_bayesian_regression_posterior_is_the_conjugate_one():
    # A Gaussian prior and likelihood give a Gaussian posterior, so the Laplace
    # approximation at the MAP is exact: compare it with the closed form.
    x, y = regression_data(40)
    prior_scale, noise = 2.0, 0.2
    model = BayesianRegression(prior_scale, noise)
    guide = AutoLaplaceApproximation(model)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.1}), Trace_ELBO())
    for _ in range(300):
        svi.step(x, y)
    posterior = guide.laplace_approximation(x, y)
    design = torch.cat([x, torch.ones(len(x), 1)], 1)
    precision = design.T @ design / noise**2 + torch.eye(4) / prior_scale**2
    cov = torch.linalg.inv(precision)
    mean = cov @ design.T @ y / noise**2
    median = posterior.median(x, y)
    got = torch.cat([median["linear.weight"].reshape(-1), median["linear.bias"].reshape(-1)])
    assert torch.allclose(got, mean, atol=1e-3)
    assert torch.allclose(posterior.covariance(), cov, atol=1e-5, rtol=1e-3)


def test_plain_params_of_a_map_fit_are_module_parameters():
    x, y = regression_data(20)
    model = BayesianRegression(2.0, 0.2)
    guide = AutoDelta(model)
    guide(x, y)
    assert {n for n, _ in guide.named_parameters()} == {"linear.weight", "linear.bias"}


def test_site_and_state_names_are_pyros():
    pyro_ppl = pytest.importorskip("pyro")  # the real Pyro, the reference answer
    pdist = pytest.importorskip("pyro.distributions")
    pytest.importorskip("pyro.nn")

    def build(ppl_nn, d):
        class Net(ppl_nn.PyroModule):
            def __init__(self) -> None:
                super().__init__()
                self.linear = ppl_nn.PyroModule[nn.Linear](3, 2)
                self.linear.bias = ppl_nn.PyroSample(d.Normal(0.0, 1.0).expand([2]).to_event(1))
                self.scale = ppl_nn.PyroParam(torch.ones(2), constraints.positive)

            def forward(self, x):
                return self.linear(x) * self.scale

        return Net()

    ours, theirs = build(pplkit_nn, dist), build(pyro_ppl.nn, pdist)
    x = torch.randn(4, 3)
    our_trace = poutine.trace(ours).get_trace(x)
    their_trace = pyro_ppl.poutine.trace(theirs).get_trace(x)
    assert list(our_trace.nodes) == [n for n in their_trace.nodes if not n.startswith("_")]  # _INPUT, _RETURN
    assert set(ours.state_dict()) == set(theirs.state_dict())

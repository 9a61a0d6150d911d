"""Autoguides as torch modules, AutoGuideList, AutoGuide.call and models without latent sites."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import pplkit as pyro
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.infer import SVI, Predictive, Trace_ELBO
from pplkit.infer.autoguide import (
    AutoDelta,
    AutoDiagonalNormal,
    AutoGuideList,
    AutoMultivariateNormal,
    AutoNormal,
)
from pplkit.nn import PyroModule, PyroSample


def model(x: torch.Tensor, y: torch.Tensor | None = None) -> None:
    a = pyro.sample("a", dist.Normal(0.0, 10.0))
    b = pyro.sample("b", dist.Normal(0.0, 10.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("obs", dist.Normal(a + b * x, sigma), obs=y)


def data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-1, 1, 30)
    return x, 1.0 + 2.0 * x + 0.3 * torch.randn(30)


@pytest.mark.parametrize("guide_class", [AutoNormal, AutoDiagonalNormal, AutoMultivariateNormal, AutoDelta])
def test_an_autoguide_module_holds_the_stores_own_tensors(guide_class):
    x, y = data()
    guide = guide_class(model)
    assert isinstance(guide, nn.Module)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.05}), Trace_ELBO())
    svi.step(x, y)
    store = pyro.get_param_store()
    params = dict(guide.named_parameters())
    assert params, "the guide module holds its params"
    for path, tensor in params.items():
        assert store.unconstrained(f"{guide.prefix}.{path}") is tensor
    before = {k: v.clone() for k, v in params.items()}
    svi.step(x, y)  # the optimizer moves the module's tensors, since they are the store's
    assert any(not torch.equal(before[k], v) for k, v in guide.named_parameters())


def test_autonormal_state_dict_uses_pyros_paths_and_loads_into_the_store():
    x, y = data()
    guide = AutoNormal(model)
    guide(x, y)
    state = guide.state_dict()
    assert set(state) == {f"{kind}.{site}" for kind in ("locs", "scales") for site in ("a", "b", "sigma")}
    state["locs.a"] = torch.tensor(5.0)
    guide.load_state_dict(state)
    assert pyro.param("AutoNormal.locs.a").item() == pytest.approx(5.0)
    assert guide.median()["a"].item() == pytest.approx(5.0)


def test_requires_grad_false_freezes_the_guide_for_svi():
    x, y = data()
    guide = AutoDiagonalNormal(model)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.05}), Trace_ELBO())
    svi.step(x, y)
    guide.requires_grad_(False)
    before = pyro.param("AutoDiagonalNormal.loc").detach().clone()
    svi.step(x, y)
    assert torch.equal(pyro.param("AutoDiagonalNormal.loc").detach(), before)
    assert not pyro.get_param_store().unconstrained("AutoDiagonalNormal.loc").requires_grad


def test_after_a_store_load_the_module_takes_the_stores_tensors(tmp_path):
    x, y = data()
    guide = AutoNormal(model)
    guide(x, y)
    store = pyro.get_param_store()
    store.save(tmp_path / "fit.pt")
    store.load(tmp_path / "fit.pt")  # fresh leaf tensors in the store
    guide(x, y)
    for path, tensor in guide.named_parameters():
        assert store.unconstrained(f"AutoNormal.{path}") is tensor
        assert isinstance(tensor, nn.Parameter)


class Regression(PyroModule):
    def __init__(self) -> None:
        super().__init__()
        self.linear = PyroModule[nn.Linear](1, 1)
        self.linear.weight = PyroSample(dist.Normal(0.0, 1.0).expand([1, 1]).to_event(2))
        self.linear.bias = PyroSample(dist.Normal(0.0, 10.0).expand([1]).to_event(1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        mean = self.linear(x).squeeze(-1)
        with pyro.plate("data", x.shape[0]):
            pyro.sample("obs", dist.Normal(mean, 0.5), obs=y)
        return mean


class Predict(nn.Module):
    """The wrapper Pyro's bayesian_regression tutorial traces with torch.jit."""

    def __init__(self, model: nn.Module, guide: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.guide = guide

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        guide_trace = poutine.trace(self.guide).get_trace(x)
        model_trace = poutine.trace(poutine.replay(self.model, guide_trace)).get_trace(x)
        return tuple(model_trace.nodes[s].value for s in sorted(model_trace.stochastic_nodes))


def test_a_trained_guide_traces_and_saves_with_torch_jit(tmp_path):
    x, _ = data()
    x = x.unsqueeze(-1)
    net = Regression()
    guide = AutoDiagonalNormal(net)
    guide(x)
    assert not any(isinstance(m, Regression) for m in guide.modules())  # the model is no submodule
    guide.requires_grad_(False)
    traced = torch.jit.trace_module(Predict(net, guide), {"forward": (x,)}, check_trace=False)
    torch.jit.save(traced, tmp_path / "predict.pt")
    loaded = torch.jit.load(tmp_path / "predict.pt")
    bias, weight, obs = loaded(x)  # sorted by name: linear.bias, linear.weight, obs
    assert bias.shape == (1,) and weight.shape == (1, 1) and obs.shape == (30,)
    draws = torch.stack([loaded(x)[1].reshape(()) for _ in range(200)])
    store = pyro.get_param_store()
    loc, scale = store["AutoDiagonalNormal.loc"], store["AutoDiagonalNormal.scale"]
    # The loaded module still samples from the guide: weight is the first packed element.
    assert draws.mean().item() == pytest.approx(loc[0].item(), abs=4 * scale[0].item() / 200**0.5 + 1e-4)


def test_call_returns_the_sample_as_a_tuple_sorted_by_name():
    x, y = data()
    guide = AutoNormal(model)
    with poutine.trace() as tracer:
        values = guide.call(x, y)
    tr = tracer.trace
    assert [v for v in values] == [tr.nodes[n].value for n in ("a", "b", "sigma")]


def test_an_autoguide_of_a_model_without_latents_fits_the_models_params():
    y = torch.tensor([1.0, 2.0, 4.0])

    def mle(y):
        mu = pyro.param("mu", torch.tensor(0.0))
        with pyro.plate("data", len(y)):
            pyro.sample("obs", dist.Normal(mu, 1.0), obs=y)

    guide = AutoNormal(mle)
    svi = SVI(mle, guide, pyro.optim.Adam({"lr": 0.2}), Trace_ELBO())
    for _ in range(150):
        svi.step(y)
    assert guide(y) == {} and guide.median() == {}
    assert pyro.param("mu").item() == pytest.approx(y.mean().item(), abs=1e-2)


def test_a_packed_vector_guide_of_a_model_without_latents_raises_as_pyros():
    def mle(y):
        mu = pyro.param("mu", torch.tensor(0.0))
        pyro.sample("obs", dist.Normal(mu, 1.0), obs=y)

    # Pyro's AutoContinuous raises RuntimeError: its latent vector would be empty.
    with pytest.raises(RuntimeError, match="AutoDiagonalNormal found no latent.*AutoNormal"):
        AutoDiagonalNormal(mle)(torch.tensor(1.0))


def mixed_model(y: torch.Tensor) -> None:
    loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(y), subsample_size=4) as idx:
        z = pyro.sample("z", dist.Normal(loc, 1.0))
        pyro.sample("obs", dist.Normal(z, 0.1), obs=y[idx])


def test_guide_list_parts_are_named_indexed_and_share_plates():
    y = torch.zeros(10)
    guide = AutoGuideList(mixed_model)
    guide.append(AutoDelta(poutine.block(mixed_model, hide=["z"])))
    guide.append(AutoNormal(poutine.block(mixed_model, expose=["z"])))
    assert len(guide) == 2 and isinstance(guide[1], AutoNormal)
    with poutine.trace() as tracer:
        sample = guide(y)
    assert set(sample) == {"loc", "z"}
    tr = tracer.trace
    assert tr.param_nodes == ["AutoGuideList.0.loc", "AutoGuideList.1.locs.z", "AutoGuideList.1.scales.z"]
    assert [n for n in tr.nodes if tr.nodes[n].kind is pyro.SiteKind.PLATE] == ["data"]  # drawn once
    assert {n for n, _ in guide.named_parameters()} == {"0.loc", "1.locs.z", "1.scales.z"}
    assert set(guide.median(y)) == {"loc", "z"}
    with pytest.raises(RuntimeError, match="already"):
        guide.append(guide[0])
    with pytest.warns(DeprecationWarning):
        guide.add(lambda y: None)
    assert len(guide) == 3


def test_guide_list_fits_a_conjugate_model():
    # loc ~ N(0, 10^2), obs_i ~ N(loc, 1): the posterior mean of loc is sum(y) / (n + 1/100).
    y = torch.tensor([0.5, 1.5, 2.0, 1.0])

    def conjugate(y):
        loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
        scale = pyro.sample("scale", dist.LogNormal(0.0, 0.1))
        with pyro.plate("data", len(y)):
            pyro.sample("obs", dist.Normal(loc, scale), obs=y)

    guide = AutoGuideList(conjugate)
    guide.append(AutoNormal(poutine.block(conjugate, expose=["loc"])))
    guide.append(AutoDelta(poutine.block(conjugate, expose=["scale"])))
    svi = SVI(conjugate, guide, pyro.optim.Adam({"lr": 0.05}), Trace_ELBO())
    for _ in range(800):
        svi.step(y)
    assert guide.median(y)["loc"].item() == pytest.approx(y.sum().item() / (4 + 0.01), abs=0.1)
    samples = Predictive(conjugate, guide=guide, num_samples=10)(y)
    assert samples["loc"].shape[0] == 10


def test_a_guide_subclass_trains_its_own_parameters_as_a_part_of_a_list():
    from torch.distributions import constraints

    from pplkit.handlers import block
    from pplkit.nn import PyroParam

    class GuideX(pyro.infer.autoguide.AutoGuide):
        def __init__(self, model):
            super().__init__(model)
            self.x_loc = torch.nn.Parameter(torch.tensor(3.0))
            self.x_scale = PyroParam(torch.tensor(0.1), constraint=constraints.positive)

        def forward(self, *args, **kwargs):
            return {"x": pyro.sample("x", dist.Normal(self.x_loc, self.x_scale))}

    def model():
        x = pyro.sample("x", dist.Normal(0.0, 1.0))
        pyro.sample("s", dist.LogNormal(0.0, 1.0))
        pyro.sample("obs", dist.Normal(x, 1.0), obs=torch.tensor(2.0))

    guide = AutoGuideList(model)
    guide.custom = GuideX(model)
    guide.rest = AutoNormal(block(model, hide=["x"]))
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.05}), Trace_ELBO(num_particles=16, vectorize_particles=True))
    for _ in range(400):
        svi.step()
    # The posterior of x is N(1, 1/2): the subclass's own Parameter and PyroParam learn it.
    assert pyro.param("AutoGuideList.custom.x_loc").item() == pytest.approx(1.0, abs=0.1)
    assert pyro.param("AutoGuideList.custom.x_scale").item() == pytest.approx(0.5**0.5, abs=0.1)

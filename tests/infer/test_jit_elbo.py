"""JitTrace_ELBO: the compiled loss and gradient equal the eager ones on the same noise; fallbacks warn.

Tracing takes seconds and Inductor's compile tens of seconds on a loaded 2-core
machine, so most tests share traced graphs (``jit_options={"inductor": False}``: the
same graph, run without Inductor) made once per module, and the Inductor-compiled
graph is made once, for the slow tests.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import examples, plate, sample
from pplkit.distributions import constraints
from pplkit.infer import (
    SVI,
    AutoMultivariateNormal,
    AutoNormal,
    JitTrace_ELBO,
    JitTraceEnum_ELBO,
    JitTraceGraph_ELBO,
    JitTraceMeanField_ELBO,
    NonFiniteLossError,
    Trace_ELBO,
    TraceEnum_ELBO,
    TraceGraph_ELBO,
    TraceMeanField_ELBO,
    config_enumerate,
)
from pplkit.infer.compile_util import JitWarning
from pplkit.infer.mcmc import JitWarning as McmcJitWarning
from pplkit.nn import PyroModule, PyroSample
from pplkit.optim import Adam, ClippedAdam
from pplkit.params import use_param_store

from .conjugate import GROUP_DATA, Fit, group_means_model, group_means_posterior

TRACED_ONLY = {"inductor": False}
Model = Callable[..., Any]


def grouped_guide(data: torch.Tensor) -> None:
    """A hand-written guide with its params inside a plate."""
    loc = pplkit.param("loc", torch.zeros(data.shape[0], 1))
    scale = pplkit.param("scale", torch.ones(data.shape[0], 1), constraint=constraints.positive)
    with plate("groups", data.shape[0], dim=-2):
        sample("mu", dist.Normal(loc, scale))


class Fitted:
    """One store, one Jit ELBO whose first step has run (so its graph exists), model, guide and data."""

    def __init__(self, elbo: Any, model: Model, guide: Model, data: tuple[Any, ...]) -> None:
        self.store, self.elbo, self.model, self.guide, self.data = pplkit.ParamStore(), elbo, model, guide, data
        with warnings.catch_warnings():
            warnings.simplefilter("error", JitWarning)
            self.loss_and_grads(self.elbo)
        assert len(elbo.compiled_losses) == 1

    def loss_and_grads(self, elbo: Any, data: tuple[Any, ...] | None = None) -> tuple[float, list[torch.Tensor]]:
        with use_param_store(self.store):
            loss = elbo.loss_and_grads(self.model, self.guide, *(self.data if data is None else data))
            leaves = [leaf for _, leaf in self.store.named_parameters()]
            grads = [leaf.grad.clone() for leaf in leaves]
            for leaf in leaves:
                leaf.grad = None
        return loss, grads

    def both(self, eager: Any, seed: int, data: tuple[Any, ...] | None = None) -> tuple[Any, Any]:
        """(eager loss and grads, compiled loss and grads), each drawn from ``seed``."""
        pplkit.set_rng_seed(seed)
        expected = self.loss_and_grads(eager, data)
        pplkit.set_rng_seed(seed)
        steps = self.elbo.compiled_losses[0].steps
        got = self.loss_and_grads(self.elbo, data)
        assert self.elbo.compiled_losses[0].steps == steps + 1, "the compiled graph did not run"
        return expected, got


def assert_same(expected: tuple[float, list[torch.Tensor]], got: tuple[float, list[torch.Tensor]]) -> None:
    assert got[0] == pytest.approx(expected[0], rel=1e-5)
    for g, e in zip(got[1], expected[1]):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def intro() -> Fitted:
    return Fitted(
        JitTrace_ELBO(jit_options=TRACED_ONLY), examples.model, AutoNormal(examples.model), examples.rugged_data()
    )


@pytest.fixture(scope="module")
def grouped() -> Fitted:
    return Fitted(JitTrace_ELBO(jit_options=TRACED_ONLY), group_means_model, grouped_guide, (GROUP_DATA,))


@pytest.mark.parametrize("seed", [0, 1])
def test_the_intro_models_compiled_loss_and_gradient_are_eagers_on_the_same_noise(intro, seed):
    assert_same(*intro.both(Trace_ELBO(), seed))


def test_a_plate_models_compiled_loss_and_gradient_are_eagers(grouped):
    assert_same(*grouped.both(Trace_ELBO(), 3))


def test_new_data_of_the_same_shape_goes_through_the_same_graph(grouped):
    assert_same(*grouped.both(Trace_ELBO(), 4, (GROUP_DATA * 2.0 - 1.0,)))
    assert len(grouped.elbo.compiled_losses) == 1


X = torch.linspace(-2.0, 2.0, 200)
Y = 1.0 + 2.0 * X + 0.5 * torch.randn(200, generator=torch.Generator().manual_seed(0))


def subsampled_regression(x: torch.Tensor, y: torch.Tensor) -> None:
    a = sample("a", dist.Normal(0.0, 10.0))
    b = sample("b", dist.Normal(0.0, 10.0))
    sigma = sample("sigma", dist.HalfNormal(5.0))
    # 16 of 200: drawn with torch.unique and a top-up loop, which no graph can hold
    with plate("data", len(x), subsample_size=16) as idx:
        sample("obs", dist.Normal(a + b * x[idx], sigma), obs=y[idx])


def test_a_subsampled_plate_draws_fresh_indices_ahead_of_the_graph():
    guide = AutoNormal(subsampled_regression)
    fitted = Fitted(JitTrace_ELBO(jit_options=TRACED_ONLY), subsampled_regression, guide, (X, Y))
    assert_same(*fitted.both(Trace_ELBO(), 8))
    first, second = fitted.both(Trace_ELBO(), 9)[1], fitted.both(Trace_ELBO(), 10)[1]
    assert first[0] != second[0]


class Network(PyroModule):
    """A PyroModule whose weight prior is built once, with checks on, before any trace."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = PyroModule[torch.nn.Linear](3, 3)
        self.out = PyroModule[torch.nn.Linear](3, 1)
        self.out.weight = PyroSample(dist.Normal(0.0, 1.0).expand([1, 3]).to_event(2))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        mean = self.out(torch.tanh(self.hidden(x))).squeeze(-1)
        with plate("data", x.shape[0]):
            sample("obs", dist.Normal(mean, 0.5), obs=y)


def test_a_pyro_module_with_a_prebuilt_prior_compiles_with_its_torch_params():
    inputs = torch.randn(30, 3, generator=torch.Generator().manual_seed(1))
    network = Network()
    fitted = Fitted(JitTrace_ELBO(jit_options=TRACED_ONLY), network, AutoNormal(network), (inputs, inputs.sum(-1)))
    assert {"hidden.weight", "hidden.bias", "out.bias"} <= set(fitted.elbo.compiled_losses[0].names)
    assert_same(*fitted.both(Trace_ELBO(), 11))


def test_each_step_draws_fresh_noise(intro):
    with use_param_store(intro.store):
        losses = {intro.elbo.loss(intro.model, intro.guide, *intro.data) for _ in range(3)}
    assert len(losses) == 3


def test_the_mean_field_elbo_compiles_with_its_analytic_kl():
    fitted = Fitted(JitTraceMeanField_ELBO(jit_options=TRACED_ONLY), group_means_model, grouped_guide, (GROUP_DATA,))
    assert_same(*fitted.both(TraceMeanField_ELBO(), 5))


def test_the_graph_elbo_compiles_a_reparameterised_guide():
    fitted = Fitted(JitTraceGraph_ELBO(jit_options=TRACED_ONLY), group_means_model, grouped_guide, (GROUP_DATA,))
    assert_same(*fitted.both(TraceGraph_ELBO(), 12))


MIXTURE_DATA = torch.tensor([-1.3, -0.7, -1.1, 1.2, 1.9, 1.4, 2.2, 0.9])


@config_enumerate
def mixture(data: torch.Tensor) -> None:
    weights = pplkit.param("weights", torch.tensor([0.4, 0.6]), constraint=constraints.simplex)
    locs = pplkit.param("locs", torch.tensor([-1.0, 1.5]))
    with plate("data", len(data)):
        z = sample("z", dist.Categorical(weights))
        sample("x", dist.Normal(locs[z], 0.8), obs=data)


def no_guide(data: torch.Tensor) -> None:
    pass


def test_the_enumerated_elbo_compiles_a_mixtures_exact_marginal_likelihood():
    elbo = JitTraceEnum_ELBO(max_plate_nesting=1, jit_options=TRACED_ONLY)
    fitted = Fitted(elbo, mixture, no_guide, (MIXTURE_DATA,))
    expected, got = fitted.both(TraceEnum_ELBO(max_plate_nesting=1), 13)
    assert_same(expected, got)
    with use_param_store(fitted.store):
        weights, locs = fitted.store["weights"], fitted.store["locs"]
    per_component = torch.distributions.Normal(locs, 0.8).log_prob(MIXTURE_DATA.unsqueeze(-1)) + weights.log()
    assert got[0] == pytest.approx(-per_component.logsumexp(-1).sum().item(), rel=1e-5)


def test_a_full_covariance_guide_compiles():
    guide = AutoMultivariateNormal(examples.model)
    fitted = Fitted(JitTrace_ELBO(jit_options=TRACED_ONLY), examples.model, guide, examples.rugged_data())
    assert_same(*fitted.both(Trace_ELBO(), 6))


def test_terms_come_from_the_graph_and_add_up_to_the_loss(grouped):
    with use_param_store(grouped.store):
        result = grouped.elbo.compute(grouped.model, grouped.guide, grouped.data, {}, terms=True)
    assert result.terms is not None
    assert result.loss == pytest.approx(result.terms["kl"] - result.terms["log_likelihood"], rel=1e-5)


def test_a_non_finite_compiled_loss_is_reported_by_site(grouped):
    data = GROUP_DATA.clone()
    data[1, 2] = math.inf  # inside Normal's support (real), but of zero density
    with use_param_store(grouped.store), pytest.raises(NonFiniteLossError, match="model site 'x'"):
        grouped.elbo.loss_and_grads(grouped.model, grouped.guide, data)
    assert len(grouped.elbo.compiled_losses) == 1


# -- fallbacks ---------------------------------------------------------------------------------


def branching_model(y: torch.Tensor) -> None:
    z = sample("z", dist.Normal(0.0, 1.0))
    shift = 1.0 if z > 0 else -1.0  # control flow on a latent value: no graph can follow it
    sample("y", dist.Normal(z + shift, 1.0), obs=y)


def gamma_model(y: torch.Tensor) -> None:
    rate = sample("rate", dist.Gamma(2.0, 1.0))
    sample("y", dist.Exponential(rate), obs=y)


def gamma_guide(y: torch.Tensor) -> None:
    concentration = pplkit.param("concentration", torch.tensor(2.0), constraint=constraints.positive)
    sample("rate", dist.Gamma(concentration, 1.0))


@pytest.mark.parametrize(
    ("model", "guide", "reason"),
    [
        (branching_model, AutoNormal(branching_model), "control flow depends on latent values"),
        (gamma_model, gamma_guide, "torch._standard_gamma"),
    ],
)
def test_a_model_that_cannot_be_compiled_runs_eagerly_with_one_warning(model, guide, reason):
    store, elbo = pplkit.ParamStore(), JitTrace_ELBO(jit_options=TRACED_ONLY)
    svi = SVI(model, guide, Adam({"lr": 0.01}), elbo, param_store=store)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        losses = svi.run(3, torch.tensor(0.7))
    jit_warnings = [w for w in record if issubclass(w.category, JitWarning)]
    assert (
        len(jit_warnings) == 1 and reason in str(jit_warnings[0].message) and "eagerly" in str(jit_warnings[0].message)
    )
    assert jit_warnings[0].filename == __file__  # the user's line, through svi.run's frames
    assert elbo.compiled_losses == [] and all(math.isfinite(x) for x in losses)
    assert McmcJitWarning is JitWarning  # one warning class, re-exported where MCMC had it


def test_an_unhashable_argument_runs_eagerly_with_a_warning():
    def model(y: torch.Tensor, options: Any) -> None:
        sample("y", dist.Normal(sample("z", dist.Normal(0.0, 1.0)), 1.0), obs=y)

    elbo = JitTrace_ELBO(jit_options=TRACED_ONLY)
    with use_param_store(pplkit.ParamStore()), pytest.warns(JitWarning, match="neither a tensor nor hashable"):
        elbo.loss_and_grads(model, AutoNormal(model), torch.tensor(0.5), {1, 2})


# -- Inductor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conjugate() -> Fitted:
    """The conjugate group-means model and AutoNormal, with the Inductor-compiled JitTrace_ELBO.

    ``max_plate_nesting`` given: guessing it would run the model once more, drawing noise.
    """
    elbo = JitTrace_ELBO(num_particles=8, vectorize_particles=True, max_plate_nesting=2)
    return Fitted(elbo, group_means_model, AutoNormal(group_means_model), (GROUP_DATA,))


@pytest.mark.slow
def test_the_inductor_graph_equals_eager_on_the_same_noise(conjugate):
    assert conjugate.elbo.compiled_losses[0].compiled
    assert_same(*conjugate.both(Trace_ELBO(num_particles=8, vectorize_particles=True, max_plate_nesting=2), 7))


@pytest.mark.slow
def test_svi_with_the_compiled_elbo_finds_the_closed_form_posterior(conjugate):
    settings = Fit()  # the settings the eager guide tests fit with
    optim = ClippedAdam({"lr": settings.lr, "lrd": settings.lrd})
    svi = SVI(conjugate.model, conjugate.guide, optim, conjugate.elbo, param_store=conjugate.store)
    pplkit.set_rng_seed(0)
    steps = conjugate.elbo.compiled_losses[0].steps
    svi.run(settings.steps, *conjugate.data)
    assert conjugate.elbo.compiled_losses[0].steps == steps + settings.steps
    with use_param_store(conjugate.store):
        mean = conjugate.guide.median(*conjugate.data)["mu"].detach()
        sd = conjugate.store["AutoNormal.scales.mu"].detach()
    expected_mean, expected_sd = group_means_posterior()
    torch.testing.assert_close(mean, expected_mean, atol=0.04, rtol=0)
    torch.testing.assert_close(sd, expected_sd, atol=0.04, rtol=0)

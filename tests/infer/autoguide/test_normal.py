"""AutoNormal against closed-form posteriors, and its params, medians, quantiles and plates."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.distributions import biject_to, constraints
from pplkit.handlers import trace
from pplkit.infer import AutoNormal
from pplkit.infer.autoguide import init_to_value
from pplkit.infer.autoguide.normal import PushforwardNormal

from .. import conjugate as cj


def test_group_means_reach_the_exact_posterior_with_one_param_per_group():
    guide = AutoNormal(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA)
    mean, sd = cj.group_means_posterior()
    store = pplkit.get_param_store()
    assert store["AutoNormal.locs.mu"].shape == (4, 1)
    # The exact posterior is in the family; measured error over seeds < 0.06 sd and 3%.
    assert torch.allclose(store["AutoNormal.locs.mu"], mean, atol=0.2 * sd[0, 0].item())
    assert torch.allclose(store["AutoNormal.scales.mu"], sd, rtol=0.08)


def test_beta_bernoulli_posterior_mean_and_sd_in_logit_space():
    guide = AutoNormal(cj.beta_bernoulli_model)
    cj.fit(cj.beta_bernoulli_model, guide, cj.FLIPS)
    mean, sd = cj.beta_moments(*cj.beta_posterior())
    q_mean, q_sd = cj.guide_moments(guide, "p", cj.FLIPS)
    # A Normal in logit space is close to, not exactly, a Beta: measured |error| < 0.03 sd
    # for the mean and 3% for the sd over seeds (the 20000-sample MC error is 0.007 sd).
    assert abs(q_mean - mean) < 0.15 * sd
    assert q_sd == pytest.approx(sd, rel=0.08)


def test_gamma_poisson_posterior_mean_and_sd_in_log_space():
    guide = AutoNormal(cj.gamma_poisson_model)
    cj.fit(cj.gamma_poisson_model, guide, cj.COUNTS)
    concentration, rate = cj.gamma_posterior()
    mean, sd = concentration / rate, concentration**0.5 / rate
    q_mean, q_sd = cj.guide_moments(guide, "rate", cj.COUNTS)
    assert abs(q_mean - mean) < 0.15 * sd  # measured < 0.04 sd over seeds
    assert q_sd == pytest.approx(sd, rel=0.08)


def test_linear_regression_mean_field_answer():
    # For a Gaussian posterior the best mean-field Gaussian has the exact mean and
    # variances 1 / diag(precision) (smaller than the marginal variances).
    x, y = cj.regression_data()
    guide = AutoNormal(cj.regression_model)
    cj.fit(cj.regression_model, guide, x, y)
    mean, covariance = cj.regression_posterior()
    sds = covariance.diagonal().sqrt()
    mean_field_sds = torch.linalg.inv(covariance).diagonal().rsqrt()
    assert torch.all((guide.median()["w"] - mean).abs() < 0.2 * sds)  # measured < 0.06 sd
    assert torch.allclose(pplkit.get_param_store()["AutoNormal.scales.w"], mean_field_sds, rtol=0.08)


def small_model(x):
    a = sample("a", dist.Normal(0.0, 10.0))
    sigma = sample("sigma", dist.Uniform(0.0, 10.0))
    with plate("data", len(x)):
        z = sample("z", dist.Normal(0.0, 1.0))
        return sample("obs", dist.Normal(a * x + z, sigma), obs=x)


X = torch.linspace(-1, 1, 20)


def test_param_names_and_shapes_are_pyros():
    AutoNormal(small_model)(X)
    shapes = {name: tuple(value.shape) for name, value in pplkit.get_param_store().items()}
    # As printed by Pyro 1.9.2 for the same model.
    assert shapes == {
        "AutoNormal.locs.a": (),
        "AutoNormal.scales.a": (),
        "AutoNormal.locs.sigma": (),
        "AutoNormal.scales.sigma": (),
        "AutoNormal.locs.z": (20,),
        "AutoNormal.scales.z": (20,),
    }
    assert list(shapes) == list(sorted(shapes, key=lambda n: (["a", "sigma", "z"].index(n.split(".")[-1]), n)))


def test_one_sample_site_per_latent_and_nothing_from_the_prototype_leaks():
    guide = AutoNormal(small_model)
    with trace() as tracer:
        result = guide(X)
    sample_sites = [n for n, m in tracer.trace.nodes.items() if m.kind is pplkit.SiteKind.SAMPLE]
    assert sample_sites == ["a", "sigma", "z"]
    assert set(result) == {"a", "sigma", "z"}
    assert "obs" not in tracer.trace.nodes


def test_median_and_quantiles_map_the_normal_onto_the_support():
    guide = AutoNormal(small_model, init_loc_fn=init_to_value(values={"sigma": torch.tensor(2.0)}))
    guide(X)
    store = pplkit.get_param_store()
    store["AutoNormal.scales.sigma"] = torch.tensor(0.5)
    median = guide.median()
    assert median["sigma"].item() == pytest.approx(2.0, rel=1e-5)
    assert median["z"].shape == (20,)
    q = guide.quantiles([0.1, 0.5, 0.9])
    assert q["a"].shape == (3,) and q["z"].shape == (3, 20)
    assert q["sigma"][1].item() == pytest.approx(2.0, rel=1e-5)
    # sigma = 10 * sigmoid(u), u ~ N(logit(0.2), 0.5): its 90% quantile is the image of u's.
    u90 = torch.logit(torch.tensor(0.2)) + 0.5 * torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.9))
    assert q["sigma"][2].item() == pytest.approx(10 * torch.sigmoid(u90).item(), rel=1e-5)


def test_batches_of_samples_under_an_outer_plate():
    guide = AutoNormal(small_model)
    guide(X)
    store = pplkit.get_param_store()
    store["AutoNormal.locs.a"] = torch.tensor(3.0)
    store["AutoNormal.scales.a"] = torch.tensor(0.5)
    with plate("samples", 4000, dim=-2):
        samples = guide(X)
    assert samples["a"].shape == (4000, 1)
    assert samples["z"].shape == (4000, 20)
    assert samples["sigma"].shape == (4000, 1)
    assert bool(((samples["sigma"] > 0) & (samples["sigma"] < 10)).all())
    # mean within 4 standard errors (0.5 / sqrt(4000) = 0.008)
    assert abs(samples["a"].mean().item() - 3.0) < 4 * 0.5 / 4000**0.5


def test_intro_style_batch_of_global_sites_with_dim_minus_one():
    def global_model():
        sample("a", dist.Normal(0.0, 1.0))
        sample("s", dist.HalfNormal(1.0))

    guide = AutoNormal(global_model)
    with plate("samples", 800, dim=-1):
        samples = guide()
    assert samples["a"].shape == (800,) and samples["s"].shape == (800,)


def test_subsampled_plate_indexes_per_element_params():
    def model(data):
        with plate("data", 100, subsample_size=10) as idx:
            sample("z", dist.Normal(0.0, 1.0))
            sample("obs", dist.Normal(0.0, 1.0), obs=data[idx])

    data = torch.randn(100)
    guide = AutoNormal(model)
    guide(data)
    store = pplkit.get_param_store()
    store["AutoNormal.locs.z"] = torch.arange(100.0)  # each element's loc is its index
    with trace() as tracer:
        guide(data)
    idx = tracer.trace.nodes["data"].value
    assert store["AutoNormal.locs.z"].shape == (100,)
    assert tracer.trace.nodes["z"].value.shape == (10,)
    assert torch.equal(tracer.trace.nodes["z"].fn.loc, idx.float())


def test_bad_inputs():
    with pytest.raises(ValueError, match="init_scale"):
        AutoNormal(small_model, init_scale=0.0)

    def discrete():
        sample("coin", dist.Bernoulli(0.5))

    with pytest.raises(ValueError, match="site 'coin'.*Bernoulli.*not continuous"):
        AutoNormal(discrete)()

    def sequential():
        for i in plate("data", 3):
            sample(f"z_{i}", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="site 'z_0'.*sequential plate 'data'"):
        AutoNormal(sequential)()

    with pytest.raises(TypeError, match="missing a required argument: 'x'") as info:
        AutoNormal(small_model).median()
    assert "pass the model's arguments" in "".join(info.value.__notes__)


@pytest.mark.parametrize(
    "support, loc_shape, event_dim",
    [(constraints.interval(0.0, 10.0), (4,), 0), (constraints.simplex, (4, 2), 1), (constraints.positive, (), 0)],
)
def test_pushforward_normal_density_is_torchs_transformed_distribution(support, loc_shape, event_dim):
    transform = biject_to(support)
    loc, scale = torch.randn(loc_shape), torch.rand(loc_shape) + 0.5
    base_event_dim = len(loc_shape) - 1 if support is constraints.simplex else 0
    fast = PushforwardNormal(loc, scale, transform.with_cache(1), base_event_dim, event_dim,
                             reshapes=support is constraints.simplex)
    reference = dist.TransformedDistribution(dist.Normal(loc, scale).to_event(base_event_dim), [transform])
    assert fast.batch_shape == reference.batch_shape and fast.event_shape == reference.event_shape
    value = reference.sample()
    assert torch.allclose(fast.log_prob(value), reference.log_prob(value), atol=1e-5)
    drawn = fast.rsample()  # scored through the cache, without inverting the bijection
    assert torch.allclose(fast.log_prob(drawn), reference.log_prob(drawn), atol=1e-4)
    expanded = fast.expand((3,) + tuple(fast.batch_shape))
    assert expanded.sample().shape == (3,) + tuple(fast.batch_shape) + tuple(fast.event_shape)


def test_simplex_site_gets_one_fewer_unconstrained_coordinate():
    def model():
        sample("w", dist.Dirichlet(torch.ones(3)))

    guide = AutoNormal(model)
    with plate("samples", 10, dim=-1):
        w = guide()["w"]
    assert w.shape == (10, 3) and torch.allclose(w.sum(-1), torch.ones(10))
    assert pplkit.get_param_store()["AutoNormal.locs.w"].shape == (2,)

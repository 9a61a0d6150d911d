"""sample, param, deterministic and factor, with and without handlers."""

from __future__ import annotations

import warnings

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.distributions import constraints
from pplkit.runtime import SiteKind


def test_sample_without_handlers_draws_or_returns_obs():
    x = pplkit.sample("x", dist.Normal(0.0, 1.0).expand([3]))
    assert x.shape == (3,)
    obs = torch.tensor([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="observe a value outside of inference at y"):  # as Pyro warns
        assert pplkit.sample("y", dist.Normal(0.0, 1.0), obs=obs) is obs


def test_sample_draws_reparameterised_values_when_possible():
    loc = torch.tensor(0.0, requires_grad=True)
    x = pplkit.sample("x", dist.Normal(loc, 1.0))
    x.backward()
    assert loc.grad == 1.0


def test_sample_converts_numeric_obs_to_a_tensor():
    tr = poutine.trace(lambda: pplkit.sample("y", dist.Normal(0.0, 1.0), obs=0.5)).get_trace()
    assert isinstance(tr["y"].value, torch.Tensor) and tr["y"].is_observed


@pytest.mark.parametrize("fn", [3.0, torch.tensor(1.0), "normal", torch.distributions.Normal])
def test_sample_rejects_a_non_distribution_and_names_the_site(fn):
    with pytest.raises(TypeError, match=r"sample\('z', fn\): fn must be a distribution"):
        pplkit.sample("z", fn)
    with pytest.raises(TypeError, match=r"sample\('z', fn\): fn must be a distribution"):
        poutine.trace(pplkit.sample).get_trace("z", fn)  # under handlers, raised when it would be drawn


def test_sample_rejects_a_non_string_name():
    with pytest.raises(TypeError, match="site name must be a string"):
        pplkit.sample(1, dist.Normal(0.0, 1.0))


def test_plain_torch_distributions_are_accepted():
    tr = poutine.trace(lambda: pplkit.sample("x", torch.distributions.Gamma(2.0, 1.0))).get_trace()
    assert tr["x"].value > 0


def test_param_is_created_once_and_init_ignored_afterwards():
    a = pplkit.param("a", torch.tensor(1.0))
    b = pplkit.param("a", torch.tensor(5.0))
    assert a.item() == b.item() == 1.0
    assert pplkit.param("lazy", lambda: torch.full((2,), 3.0)).tolist() == [3.0, 3.0]


def test_param_with_constraint_is_stored_unconstrained():
    sigma = pplkit.param("sigma", torch.tensor(2.0), constraint=constraints.positive)
    assert sigma.item() == pytest.approx(2.0)
    leaf = pplkit.get_param_store().unconstrained("sigma")
    assert leaf.is_leaf and leaf.requires_grad
    assert leaf.item() == pytest.approx(torch.log(torch.tensor(2.0)).item())


def test_param_under_trace_is_a_param_site():
    tr = poutine.trace(lambda: pplkit.param("w", torch.zeros(2))).get_trace()
    assert tr["w"].kind is SiteKind.PARAM and tr.param_nodes == ["w"]


def test_param_redeclared_with_another_shape_or_constraint_warns_and_returns_the_stored_value():
    pplkit.param("w", torch.zeros(3))
    with pytest.warns(UserWarning, match=r"param 'w' already exists with shape \(3,\).*\(4,\)"):
        assert torch.equal(pplkit.param("w", torch.zeros(4)), torch.zeros(3))
    with pytest.warns(UserWarning, match=r"param 'w' was created with constraint Real\(\).*declares GreaterThan"):
        assert torch.equal(pplkit.param("w", torch.ones(3), constraint=constraints.positive), torch.zeros(3))
    pplkit.param("iv", torch.tensor(0.5), constraint=constraints.interval(0.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pplkit.param("iv", torch.tensor(0.5), constraint=constraints.interval(0.0, 1.0))  # equal constraint: quiet
    with pytest.warns(UserWarning, match=r"param 'iv'.*Interval\(lower_bound=0.0, upper_bound=1.0\).*upper_bound=2.0"):
        value = pplkit.param("iv", torch.tensor(0.5), constraint=constraints.interval(0.0, 2.0))
    assert value.item() == pytest.approx(0.5)
    assert pplkit.get_param_store().constraint("iv").upper_bound == 1.0  # the store kept its constraint


def test_bare_param_reads_back_the_stored_constrained_value_without_warning():
    # Pyro's intro tutorial: "it returns the value from the parameter store regardless of
    # any other arguments" -- svi_part_i reads pyro.param("alpha_q").item() after training.
    pplkit.param("alpha_q", torch.tensor(15.0), constraint=constraints.positive)
    pplkit.param("probs", torch.tensor([0.2, 0.3, 0.5]), constraint=constraints.simplex)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pplkit.param("alpha_q").item() == pytest.approx(15.0)
        assert torch.allclose(pplkit.param("probs"), torch.tensor([0.2, 0.3, 0.5]))
        assert pplkit.param("probs", torch.ones(3) / 3).shape == (3,)  # same constrained shape: quiet
        site = poutine.trace(lambda: pplkit.param("alpha_q")).get_trace()["alpha_q"]
    assert site.value.item() == pytest.approx(15.0)
    assert site.kwargs["constraint"] is constraints.positive  # the trace shows the stored constraint
    assert site.value.requires_grad  # still the learnable value, not a detached copy


def test_param_init_outside_the_support_is_an_error_and_creates_nothing():
    with pytest.raises(ValueError, match=r"param 'sigma': init -1.0 is outside the support"):
        pplkit.param("sigma", torch.tensor(-1.0), constraint=constraints.positive)
    assert "sigma" not in pplkit.get_param_store()


def test_param_missing_without_init_is_a_key_error():
    with pytest.raises(KeyError, match="give an init value"):
        pplkit.param("nothing")


def test_deterministic_is_recorded_and_scores_nothing():
    def model():
        x = pplkit.sample("x", dist.Normal(0.0, 1.0))
        return pplkit.deterministic("double", 2 * x)

    tr = poutine.trace(model).get_trace()
    site = tr["double"]
    assert site.kind is SiteKind.DETERMINISTIC and site.is_observed
    assert torch.equal(site.value, 2 * tr["x"].value)
    expected = dist.Normal(0.0, 1.0).log_prob(tr["x"].value)
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_factor_adds_its_log_factor_to_the_joint():
    def model():
        x = pplkit.sample("x", dist.Normal(0.0, 1.0))
        pplkit.factor("penalty", -(x**2))

    tr = poutine.trace(model).get_trace()
    x = tr["x"].value
    assert tr["penalty"].kind is SiteKind.FACTOR
    assert "penalty" in tr.observation_nodes
    assert torch.allclose(tr.log_prob_sum(), dist.Normal(0.0, 1.0).log_prob(x) - x**2)


def test_invalid_distribution_parameters_raise_when_validation_is_on():
    pplkit.enable_validation(True)
    with pytest.raises(ValueError, match="scale"):
        dist.Normal(0.0, -1.0)
    pplkit.enable_validation(False)
    dist.Normal(0.0, -1.0)  # no check when validation is off


# -- obs_mask: observe some events, impute the rest (Pyro's <name>_unobserved site) ---------

OBS = torch.tensor([1.0, -2.0, 0.5])
OBS_MASK = torch.tensor([True, False, True])


def masked_model():
    z = pplkit.sample("z", dist.Normal(0.0, 1.0))
    with pplkit.plate("data", 3):
        return pplkit.sample("y", dist.Normal(z, 1.0), obs=OBS, obs_mask=OBS_MASK)


def test_obs_mask_splits_the_site_into_observed_unobserved_and_joined():
    tr = poutine.trace(masked_model).get_trace()
    assert [n for n in tr.nodes if n.startswith("y")] == ["y_observed", "y_unobserved", "y"]
    assert tr.nodes["y_observed"]["is_observed"] and not tr.nodes["y_unobserved"]["is_observed"]
    assert tr.stochastic_nodes == ["z", "y_unobserved"]
    joined = tr.nodes["y"]["value"]
    assert torch.equal(joined[OBS_MASK], OBS[OBS_MASK])
    assert torch.equal(joined[~OBS_MASK], tr.nodes["y_unobserved"]["value"][~OBS_MASK])
    # The log density counts each event once: observed ones from the data, the others imputed.
    tr.compute_log_prob()
    z = tr.nodes["z"]["value"]
    normal = torch.distributions.Normal(z, 1.0)
    expected = normal.log_prob(OBS)[OBS_MASK].sum() + normal.log_prob(joined)[~OBS_MASK].sum()
    got = tr.nodes["y_observed"]["log_prob"].sum() + tr.nodes["y_unobserved"]["log_prob"].sum()
    assert torch.allclose(got, expected)


def test_obs_mask_trains_with_an_autoguide_that_imputes_the_missing_event():
    from pplkit.infer import SVI, Trace_ELBO
    from pplkit.infer.autoguide import AutoNormal
    from pplkit.optim import Adam

    guide = AutoNormal(masked_model)
    svi = SVI(masked_model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    svi.step()
    assert "AutoNormal.locs.y_unobserved" in pplkit.get_param_store()


def test_obs_mask_with_event_dims_in_the_mask_names_the_site():
    data = torch.zeros(3, 2)
    bad_mask = torch.tensor([[False, False], [False, True], [True, False]])

    def model():
        with pplkit.plate("plate", 3):
            pplkit.sample("y", dist.MultivariateNormal(torch.zeros(2), torch.eye(2)), obs=data, obs_mask=bad_mask)

    with pytest.raises(ValueError, match=r"sample\('y'\): Invalid obs_mask shape \(3, 2\).*mask.all\(-1\)"):
        poutine.trace(model).get_trace()
    with pytest.raises(TypeError, match="obs_mask must be a bool tensor"):
        pplkit.sample("y", dist.Normal(0.0, 1.0), obs=torch.tensor(0.0), obs_mask=torch.tensor(1.0))


def test_infer_is_observed_false_gives_a_latent_site_a_value_as_pyro():
    def model():
        pplkit.sample("z", dist.Normal(0.0, 1.0), obs=torch.tensor(0.5), infer={"is_observed": False, "x": 1})

    site = pplkit.poutine.trace(model).get_trace().nodes["z"]
    assert not site["is_observed"] and site["value"].item() == 0.5
    assert site["infer"] == {"x": 1}  # the flag is consumed, as Pyro's sample does

"""SVI: the step-record contract, stopping, threads and stores, and known posteriors."""

from __future__ import annotations

import dataclasses
import math
import threading

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import param, plate, sample
from pplkit.distributions import constraints
from pplkit.infer import SVI, AutoNormal, StepRecord, Trace_ELBO, TraceMeanField_ELBO
from pplkit.optim import Adam, ClippedAdam

DATA = torch.tensor([1.2, 0.4, 2.1, 1.6, 0.9, 1.4, 1.1, 2.3])
PRIOR_LOC, PRIOR_SCALE, NOISE = 0.0, 2.0, 1.0


def normal_model(data):
    mu = sample("mu", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    with plate("data", len(data)):
        sample("obs", dist.Normal(mu, NOISE), obs=data)


def normal_guide(data):
    loc = param("loc", torch.tensor(0.0))
    scale = param("scale", torch.tensor(1.0), constraint=constraints.positive)
    sample("mu", dist.Normal(loc, scale))


def exact_posterior(data: torch.Tensor) -> tuple[float, float]:
    precision = 1 / PRIOR_SCALE**2 + len(data) / NOISE**2
    mean = (PRIOR_LOC / PRIOR_SCALE**2 + data.sum().item() / NOISE**2) / precision
    return mean, precision**-0.5


def _svi(**kwargs):
    return SVI(normal_model, normal_guide, Adam({"lr": 0.05}), Trace_ELBO(), **kwargs)


def test_step_record_is_a_frozen_dataclass_with_the_agreed_fields():
    fields = {f.name: f.type for f in dataclasses.fields(StepRecord)}
    assert list(fields) == ["step", "loss", "elapsed", "terms"]
    record = StepRecord(1, 2.0, 0.1, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.loss = 3.0  # type: ignore[misc]


def test_callback_sees_every_step_in_order():
    records: list[StepRecord] = []
    losses = _svi().run(5, DATA, callback=records.append)
    assert [r.step for r in records] == [1, 2, 3, 4, 5]
    assert [r.loss for r in records] == losses
    assert all(r.terms is None for r in records)
    assert all(b.elapsed >= a.elapsed >= 0 for a, b in zip(records, records[1:]))


def test_callback_returning_false_stops_after_that_step():
    calls = []

    def stop_at_three(record):
        calls.append(record.step)
        return False if record.step == 3 else None

    losses = _svi().run(10, DATA, callback=stop_at_three)
    assert calls == [1, 2, 3] and len(losses) == 3


def test_only_exactly_false_stops_the_run():
    losses = _svi().run(4, DATA, callback=lambda record: 0)
    assert len(losses) == 4


def test_terms_are_reported_when_asked_and_add_up_to_the_loss():
    records: list[StepRecord] = []
    _svi().run(3, DATA, callback=records.append, terms=True)
    for r in records:
        assert r.terms is not None and set(r.terms) == {"log_likelihood", "kl"}
        assert r.loss == pytest.approx(r.terms["kl"] - r.terms["log_likelihood"], abs=1e-4)


def test_reported_terms_are_the_kl_from_the_prior_and_the_expected_log_likelihood():
    # With TraceMeanField_ELBO the KL of this Normal guide is exact; each record's terms
    # are taken at the params before its step: the initial ones, then those after the last step.
    store = pplkit.get_param_store()
    params_before = [(0.0, 1.0)]
    records: list[StepRecord] = []

    def record(r):
        records.append(r)
        params_before.append((store["loc"].item(), store["scale"].item()))

    particles = 4000
    elbo = TraceMeanField_ELBO(num_particles=particles, vectorize_particles=True)
    SVI(normal_model, normal_guide, Adam({"lr": 0.05}), elbo).run(3, DATA, callback=record, terms=True)
    n, mean = len(DATA), DATA.mean().item()
    for r, (m, s) in zip(records, params_before):
        assert r.terms is not None
        q, prior = torch.distributions.Normal(m, s), torch.distributions.Normal(PRIOR_LOC, PRIOR_SCALE)
        assert r.terms["kl"] == pytest.approx(torch.distributions.kl_divergence(q, prior).item(), abs=1e-5)
        # log p(data | mu) = c - (sum (x - mean)^2 + n (mu - mean)^2) / (2 noise^2), mu ~ N(m, s)
        expected = -0.5 * n * math.log(2 * math.pi * NOISE**2) - (
            ((DATA - m) ** 2).sum().item() + n * s**2
        ) / (2 * NOISE**2)
        sd = n * math.sqrt(2 * s**4 + 4 * s**2 * (m - mean) ** 2) / (2 * NOISE**2)
        assert abs(r.terms["log_likelihood"] - expected) < 4 * sd / math.sqrt(particles)


def test_progress_bar_shows_the_running_loss(capsys):
    _svi().run(3, DATA, progress_bar=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "3/3" in err


def test_evaluate_loss_changes_no_param():
    svi = _svi()
    svi.step(DATA)
    before = {k: v.detach().clone() for k, v in pplkit.get_param_store().items()}
    assert math.isfinite(svi.evaluate_loss(DATA))
    for k, v in pplkit.get_param_store().items():
        assert torch.equal(v.detach(), before[k])


def test_explicit_param_store_keeps_the_default_one_empty():
    store = pplkit.ParamStore()
    _svi(param_store=store).run(3, DATA)
    assert set(store.keys()) == {"loc", "scale"}
    assert len(pplkit.get_param_store()) == 0


def test_training_in_a_background_thread_with_its_own_store():
    store = pplkit.ParamStore()
    errors = []

    def train():
        try:
            pplkit.set_rng_seed(1)
            optim = ClippedAdam({"lr": 0.05, "lrd": 0.998})
            SVI(normal_model, normal_guide, optim, Trace_ELBO(), param_store=store).run(1500, DATA)
        except Exception as e:  # pragma: no cover - surfaced below
            errors.append(e)

    thread = threading.Thread(target=train)
    thread.start()
    # Meanwhile this thread traces another model with its own handlers and the default store.
    for _ in range(50):
        with pplkit.poutine.trace() as tr:
            normal_guide(DATA)
        assert set(tr.trace.nodes) == {"loc", "scale", "mu"}
    thread.join()
    assert not errors
    mean, sd = exact_posterior(DATA)
    assert store["loc"].item() == pytest.approx(mean, abs=0.05 * sd + 0.02)
    assert pplkit.get_param_store()["loc"].item() == 0.0  # untouched by the training thread


def test_params_replaced_by_param_store_load_keep_being_trained(tmp_path):
    svi = _svi()
    svi.run(5, DATA)
    store = pplkit.get_param_store()
    store.save(tmp_path / "params.pt")
    store.load(tmp_path / "params.pt")
    loaded = store.unconstrained("loc").detach().clone()
    svi.step(DATA)
    assert not torch.equal(store.unconstrained("loc").detach(), loaded)


def test_custom_guide_reaches_the_conjugate_posterior():
    # The exact posterior N(mean, sd) is in the guide's family. With a decaying learning rate
    # the last iterate sits within the optimiser's noise; measured over seeds: up to 0.035
    # posterior sd for the mean and 2% for the sd. Tolerances: 0.1 sd and 5%.
    elbo = Trace_ELBO(num_particles=4, vectorize_particles=True)
    svi = SVI(normal_model, normal_guide, ClippedAdam({"lr": 0.05, "lrd": 0.997}), elbo)
    svi.run(1500, DATA)
    mean, sd = exact_posterior(DATA)
    store = pplkit.get_param_store()
    assert store["loc"].item() == pytest.approx(mean, abs=0.1 * sd)
    assert store["scale"].item() == pytest.approx(sd, rel=0.05)


def test_a_loss_function_instead_of_an_elbo():
    def loss(model, guide, data):
        return Trace_ELBO().differentiable_loss(model, guide, data)

    losses = SVI(normal_model, normal_guide, Adam({"lr": 0.05}), loss).run(3, DATA)
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    # The loss tensor's gradient reached the params, so Adam moved them.
    assert pplkit.get_param_store()["loc"].item() != 0.0


def test_bad_arguments_are_reported():
    with pytest.raises(TypeError, match="optim"):
        SVI(normal_model, normal_guide, {"lr": 0.1}, Trace_ELBO())
    with pytest.raises(ValueError, match="num_steps"):
        _svi().run(-1, DATA)


# Posterior means and sds of the intro model from Pyro's NUTS (the reference run).
NUTS_REFERENCE = {
    "a": (9.171, 0.145),
    "bA": (-1.824, 0.232),
    "bR": (-0.180, 0.080),
    "bAR": (0.337, 0.132),
    "sigma": (0.954, 0.051),
}


@pytest.mark.slow
def test_intro_model_with_auto_normal_matches_nuts(rugged_data_dir):
    """The tutorial's fit: AutoNormal, Adam(lr=0.02), 2000 steps, seed 0.

    At lr 0.02 the last iterate alone wanders by up to ~0.6 posterior sd between seeds
    (Pyro's AutoNormal gives the same numbers seed for seed), so the fitted means are
    the guide's medians averaged over the last 500 steps (iterate averaging). For the
    Normal sites the median is the mean; for sigma (a Normal pushed through a sigmoid)
    they differ by about 0.02 posterior sd here.
    """
    from pplkit.examples import model, rugged_data

    data = rugged_data()
    guide = AutoNormal(model)
    svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
    averaged = {name: 0.0 for name in NUTS_REFERENCE}

    def accumulate(record):
        if record.step > 1500:
            for name, value in guide.median().items():
                averaged[name] += value.item() / 500

    losses = svi.run(2000, *data, callback=accumulate)
    for name, (mean, sd) in NUTS_REFERENCE.items():
        assert abs(averaged[name] - mean) < 0.25 * sd, (name, averaged[name], mean)
    final_loss = sum(losses[-100:]) / 100
    assert 248.0 <= final_loss <= 250.0

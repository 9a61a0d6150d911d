"""AutoMessenger: params made per site on first use, shaped by the plates around them."""

from __future__ import annotations

import io

import torch

import pplkit
import pplkit.distributions as dist
from pplkit import plate, sample
from pplkit.infer import SVI, Trace_ELBO
from pplkit.infer.autoguide import AutoNormalMessenger, init_to_value
from pplkit.infer.autoguide.messenger import periodic_repeat
from pplkit.optim import Adam


def plate_model(data):
    with plate("data", 6, subsample_size=len(data)):
        z = sample("z", dist.Normal(0.0, 1.0))
        sample("obs", dist.Normal(z, 1.0), obs=data)


def test_a_particle_plate_around_the_first_call_gives_no_param_a_particle_dim():
    def model():
        sample("w", dist.Normal(0.0, 1.0).expand([3]).to_event(1))

    guide = AutoNormalMessenger(model)
    Trace_ELBO(num_particles=4, vectorize_particles=True, max_plate_nesting=0).loss(model, guide)
    store = pplkit.get_param_store()
    assert store["locs.w"].shape == (3,) and guide.trace.nodes["w"].value.shape == (4, 3)


def test_a_subsampled_plate_gets_one_param_per_element_of_the_full_plate():
    guide = AutoNormalMessenger(plate_model, init_loc_fn=init_to_value(values={"z": torch.tensor([1.0, 2.0])}))
    guide(torch.zeros(2))
    store = pplkit.get_param_store()
    # The first subsample's initial values, repeated periodically to the plate's full size.
    assert torch.equal(store["locs.z"], torch.tensor([1.0, 2.0, 1.0, 2.0, 1.0, 2.0]))
    store["locs.z"] = torch.arange(6.0)
    guide.median(torch.zeros(2))
    idx = guide.trace.nodes["data"].value
    assert torch.equal(guide.trace.nodes["z"].value, idx.float())


def test_amortized_plates_share_one_param():
    guide = AutoNormalMessenger(plate_model, amortized_plates=("data",))
    guide(torch.zeros(2))
    assert pplkit.get_param_store()["locs.z"].shape == ()


def test_periodic_repeat():
    assert torch.equal(periodic_repeat(torch.tensor([[1, 2]]), 5, -1), torch.tensor([[1, 2, 1, 2, 1]]))


def test_torch_save_round_trip_and_call_tuple():
    data = torch.tensor([0.5, 1.0])
    guide = AutoNormalMessenger(plate_model)
    svi = SVI(plate_model, guide, Adam({"lr": 0.1}), Trace_ELBO())
    for _ in range(3):
        svi.step(data)
    buffer = io.BytesIO()
    torch.save(guide, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert {k for k, _ in loaded.named_parameters()} == {k for k, _ in guide.named_parameters()}
    pplkit.set_rng_seed(0)
    expected = guide.call(data)
    pplkit.clear_param_store()  # the loaded guide's own values enter an empty store
    pplkit.set_rng_seed(0)
    actual = loaded.call(data)
    assert len(actual) == len(expected) == 2  # ("obs", "z"), sorted by name
    for a, e in zip(actual, expected):
        assert torch.equal(a, e)


def test_pyros_module_paths():
    from pplkit.infer import autoguide
    from pplkit.infer.autoguide import effect
    from pplkit.poutine.guide import GuideMessenger

    for name in effect.__all__:
        assert getattr(effect, name) is getattr(autoguide, name)
    assert issubclass(effect.AutoMessenger, GuideMessenger) and issubclass(effect.AutoMessenger, torch.nn.Module)

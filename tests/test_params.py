"""The param store: constraints, save/load round trips, failed loads that change nothing."""

from __future__ import annotations

import os
import pickle
import threading

import pytest
import torch

import pplkit
from pplkit.distributions import constraints, transform_to, transforms
from pplkit.params import ParamStore, use_param_store


def filled_store() -> ParamStore:
    store = ParamStore()
    store.get_param("loc", torch.tensor([0.5, -1.5]))
    store.get_param("scale", torch.tensor([0.1, 2.0]), constraints.positive)
    store.get_param("p", torch.tensor(0.25), constraints.interval(0.0, 1.0))
    store.get_param("probs", torch.tensor([0.2, 0.3, 0.5]), constraints.simplex)
    store.get_param("local", torch.ones(4), constraints.greater_than(-1.0), event_dim=0)
    return store


def snapshot(store: ParamStore) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in store.items()}


def test_items_give_constrained_values_in_creation_order():
    store = filled_store()
    names = [name for name, _ in store.items()]
    assert names == ["loc", "scale", "p", "probs", "local"]
    assert torch.allclose(store["probs"], torch.tensor([0.2, 0.3, 0.5]))
    assert torch.allclose(store["scale"], torch.tensor([0.1, 2.0]))


def test_save_load_round_trip_is_exact(tmp_path):
    store = filled_store()
    path = tmp_path / "params.pt"
    store.save(path)
    loaded = ParamStore()
    loaded.load(path)
    assert [n for n, _ in loaded.items()] == [n for n, _ in store.items()]
    for name in store.keys():
        assert torch.equal(loaded.unconstrained(name), store.unconstrained(name))
        assert repr(loaded.constraint(name)) == repr(store.constraint(name))
        assert loaded.event_dim(name) == store.event_dim(name)
        assert loaded.unconstrained(name).requires_grad
    assert torch.equal(loaded["p"], store["p"])
    # constraints survive as objects that still work, torch's own instances where they were
    assert loaded.constraint("local").lower_bound == -1.0
    assert loaded.constraint("scale") is constraints.positive
    assert loaded.constraint("probs") is constraints.simplex


def test_save_writes_atomically_and_leaves_no_temp_files(tmp_path):
    store = filled_store()
    path = tmp_path / "params.pt"
    store.save(path)
    store.save(path)  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["params.pt"]


def test_save_of_a_constraint_with_an_unsaveable_field_writes_nothing(tmp_path):
    class Odd(constraints.Constraint):
        def __init__(self):
            self.rule = lambda value: True  # code, which a weights_only file cannot hold
            super().__init__()

        def check(self, value):
            return torch.ones_like(value, dtype=torch.bool)

    store = ParamStore()
    store.get_param("ok", torch.tensor(1.0))
    path = tmp_path / "params.pt"
    store.save(path)
    before = path.read_bytes()
    store._constraints["ok"] = Odd()
    with pytest.raises(ValueError, match="param 'ok': cannot save field 'rule'.*Nothing was written"):
        store.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["params.pt"]


@pytest.mark.parametrize("damage", ["missing", "truncated", "foreign_tensor", "text", "code"])
def test_a_failed_load_leaves_the_store_as_it_was(tmp_path, damage):
    store = filled_store()
    before = snapshot(store)
    path = tmp_path / "params.pt"
    marker = tmp_path / "pwned"
    if damage == "truncated":
        filled_store().save(path)
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "foreign_tensor":
        torch.save({"weights": torch.zeros(3)}, path)
    elif damage == "text":
        path.write_text("not a checkpoint")
    elif damage == "code":

        class Exploit:
            def __reduce__(self):
                return (open, (str(marker), "w"))

        path.write_bytes(pickle.dumps(Exploit()))
    expected = FileNotFoundError if damage == "missing" else ValueError
    with pytest.raises(expected, match="params.pt"):
        store.load(path)
    assert not marker.exists(), "loading must never run code from the file"
    after = snapshot(store)
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)


def test_setting_a_value_keeps_the_constraint_and_rejects_values_outside_it():
    store = filled_store()
    store["scale"] = torch.tensor([3.0, 4.0])
    assert store.constraint("scale") is constraints.positive
    assert torch.allclose(store["scale"], torch.tensor([3.0, 4.0]))
    with pytest.raises(ValueError, match="param 'scale'"):
        store["scale"] = torch.tensor([-1.0, 1.0])
    assert torch.allclose(store["scale"], torch.tensor([3.0, 4.0]))


def test_pop_delete_and_clear():
    store = filled_store()
    assert torch.allclose(store.pop("loc"), torch.tensor([0.5, -1.5]))
    assert store.pop("loc") is None
    del store["p"]
    with pytest.raises(KeyError):
        del store["p"]
    store.clear()
    assert len(store) == 0


def test_use_param_store_redirects_param_in_this_thread_only():
    mine = ParamStore()
    seen_elsewhere: list[bool] = []
    with use_param_store(mine):
        pplkit.param("x", torch.tensor(1.0))

        def other_thread():
            seen_elsewhere.append(pplkit.params.current_param_store() is mine)

        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert "x" in mine and "x" not in pplkit.get_param_store()
    assert seen_elsewhere == [False]


def test_empty_override_store_is_still_used():
    empty = ParamStore()
    with use_param_store(empty):
        assert pplkit.params.current_param_store() is empty


def test_a_user_constraint_is_saved_by_value_and_loaded_weights_only(tmp_path):
    class AtMost(constraints.Constraint):
        def __init__(self, upper):
            self.upper = upper
            super().__init__()

        def check(self, value):
            return value <= self.upper

    def to_at_most(c):
        return transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(c.upper, -1.0)])

    transform_to.register(AtMost, to_at_most)
    store = ParamStore()
    store.get_param("x", torch.tensor([0.5, 1.5]), AtMost(2.0))
    store.save(tmp_path / "p.pt")
    raw = torch.load(tmp_path / "p.pt", weights_only=True)  # no pickle of the class itself
    assert raw["params"]["x"]["constraint"]["fields"] == {"upper": 2.0}
    loaded = ParamStore()
    loaded.load(tmp_path / "p.pt")
    assert type(loaded.constraint("x")) is AtMost and loaded.constraint("x").upper == 2.0
    assert torch.equal(loaded.unconstrained("x"), store.unconstrained("x"))


def test_a_registered_constraint_name_survives_a_new_module_path(tmp_path):
    from pplkit.params import _REGISTERED, register_constraint

    class Small(constraints.Constraint):
        def check(self, value):
            return value.abs() < 1

    transform_to.register(Small, lambda c: transforms.TanhTransform())
    register_constraint("small", Small)
    try:
        store = ParamStore()
        store.get_param("x", torch.tensor(0.1), Small())
        store.save(tmp_path / "p.pt")
        assert torch.load(tmp_path / "p.pt", weights_only=True)["params"]["x"]["constraint"]["class"] == "small"
        loaded = ParamStore()
        loaded.load(tmp_path / "p.pt")
        assert type(loaded.constraint("x")) is Small
    finally:
        _REGISTERED.pop("small")


def test_saved_files_get_the_umasks_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        store = ParamStore()
        store.get_param("x", torch.tensor(1.0))
        store.save(tmp_path / "p.pt")
        assert (tmp_path / "p.pt").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)


def test_setdefault_returns_what_is_stored_whatever_the_new_arguments():
    store = ParamStore()
    created = store.setdefault("s", torch.tensor([1.0, 4.0]), constraints.positive)
    assert torch.equal(created.detach(), torch.tensor([1.0, 4.0]))
    # Pyro's dict-like setdefault: neither the other init nor the default (real) constraint counts.
    again = store.setdefault("s", torch.zeros(2))
    assert torch.equal(again.detach(), torch.tensor([1.0, 4.0]))
    assert store.constraint("s") is constraints.positive
    assert torch.allclose(store.unconstrained("s").detach(), torch.tensor([1.0, 4.0]).log())


def test_setdefault_calls_a_lazy_init_only_when_creating():
    store = ParamStore()
    calls = []

    def init():
        calls.append(1)
        return torch.ones(3)

    store.setdefault("x", init)
    store.setdefault("x", init)
    assert len(calls) == 1


def test_a_scope_hides_the_outer_params_and_can_be_entered_again():
    store = ParamStore()
    with use_param_store(store):
        pplkit.param("x", torch.tensor(1.0))
        with store.scope() as inner:
            assert len(store) == 0
            pplkit.param("x", torch.tensor(2.0))
            pplkit.param("y", torch.tensor(3.0), constraint=constraints.positive)
        assert store.keys() == ["x"] and float(pplkit.param("x")) == 1.0
        with store.scope(inner) as again:
            assert again is inner
            assert store.keys() == ["x", "y"]
            assert float(pplkit.param("x")) == 2.0 and store.constraint("y") is constraints.positive
            pplkit.param("z", torch.tensor(5.0))
        assert store.keys() == ["x"]
        with store.scope(inner):  # what the second visit added was kept in the scope
            assert store.keys() == ["x", "y", "z"]


def test_the_store_answers_pyros_private_dicts():
    # Pyro's own tests (and some user code) read ParamStore._params and ._param_to_name.
    store = ParamStore()
    store.get_param("a", torch.zeros(2))
    store.get_param("b", torch.ones(1), constraints.positive)
    assert list(store._params) == ["a", "b"]
    assert store._params["b"] is store.unconstrained("b")
    assert sorted(store._param_to_name.values()) == ["a", "b"]
    assert store._param_to_name[store.unconstrained("a")] == "a"


def test_module_param_names_split_as_in_pyro():
    from pplkit.params import module_from_param_with_module_name, param_with_module_name, user_param_name

    full = param_with_module_name("net", "layer.bias")
    assert full == "net$$$layer.bias"
    assert module_from_param_with_module_name(full) == "net"
    assert user_param_name(full) == "layer.bias" and user_param_name("plain") == "plain"

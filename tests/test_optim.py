"""pplkit.optim against torch.optim itself: same arithmetic, one optimizer, params picked up late."""

from __future__ import annotations

import math

import pytest
import torch

import pplkit
import pplkit.optim as optim


def _quadratic_grad(*params: torch.Tensor) -> None:
    loss = sum(((p - 3.0) ** 2).sum() for p in params)
    loss.backward()


def _reference_adam(init: torch.Tensor, steps: int, **kwargs: float) -> torch.Tensor:
    p = init.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], **kwargs)
    for _ in range(steps):
        _quadratic_grad(p)
        opt.step()
        opt.zero_grad()
    return p.detach()


def test_adam_matches_torch_adam_per_param():
    a = torch.tensor([0.5, -1.0], requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    adam = optim.Adam({"lr": 0.1})
    for _ in range(20):
        _quadratic_grad(a, b)
        adam({"a": a, "b": b})
        a.grad = b.grad = None
    assert torch.allclose(a.detach(), _reference_adam(torch.tensor([0.5, -1.0]), 20, lr=0.1))
    assert torch.allclose(b.detach(), _reference_adam(torch.tensor(2.0), 20, lr=0.1))
    # one torch optimizer, one param group for the params that arrived together
    assert isinstance(adam.optimizer, torch.optim.Adam)
    assert len(adam.optimizer.param_groups) == 1


def test_new_params_join_as_a_new_group_and_start_fresh():
    a = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    adam = optim.Adam({"lr": 0.1})
    for step in range(10):
        params = {"a": a} if step < 5 else {"a": a, "b": b}
        _quadratic_grad(*params.values())
        adam(params)
        a.grad = b.grad = None
    assert len(adam.optimizer.param_groups) == 2
    assert torch.allclose(a.detach(), _reference_adam(torch.tensor(0.0), 10, lr=0.1))
    assert torch.allclose(b.detach(), _reference_adam(torch.tensor(0.0), 5, lr=0.1))


def test_a_key_added_to_a_dict_already_passed_is_optimised():
    a = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    adam = optim.Adam({"lr": 0.1})
    params = {"a": a}
    _quadratic_grad(a)
    adam(params)
    params["b"] = b  # the same dict object, one more param
    a.grad = None
    _quadratic_grad(a, b)
    adam(params)
    assert b.item() == pytest.approx(_reference_adam(torch.tensor(0.0), 1, lr=0.1).item())
    assert b.item() != 0.0


def test_list_of_params_is_named_from_the_param_store():
    pplkit.param("w", torch.tensor(1.0))
    w = pplkit.get_param_store().unconstrained("w")
    adam = optim.Adam({"lr": 0.1})
    _quadratic_grad(w)
    adam([w])
    assert list(adam.get_state()) == ["w"]


def test_replaced_tensor_after_param_store_load_is_optimised(tmp_path):
    store = pplkit.get_param_store()
    pplkit.param("w", torch.tensor(1.0))
    adam = optim.Adam({"lr": 0.1})
    w = store.unconstrained("w")
    _quadratic_grad(w)
    adam({"w": w})
    store.save(tmp_path / "p.pt")
    store.load(tmp_path / "p.pt")
    w2 = store.unconstrained("w")
    assert w2 is not w
    before = w2.detach().clone()
    _quadratic_grad(w2)
    adam({"w": w2})
    assert not torch.equal(w2.detach(), before)
    assert w not in adam.optimizer.state  # the old tensor's state was dropped


def test_sgd_is_plain_gradient_descent():
    p = torch.tensor(1.0, requires_grad=True)
    sgd = optim.SGD({"lr": 0.25})
    _quadratic_grad(p)  # grad = 2 * (1 - 3) = -4
    sgd({"p": p})
    assert p.item() == pytest.approx(2.0)


def test_per_param_optim_args():
    a = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    sgd = optim.SGD(lambda name: {"lr": 0.5 if name == "a" else 0.0})
    _quadratic_grad(a, b)
    sgd({"a": a, "b": b})
    assert a.item() == pytest.approx(3.0)
    assert b.item() == 0.0


def test_clipped_adam_clamps_each_gradient_element_and_decays_lr():
    p = torch.tensor([0.0, 0.0], requires_grad=True)
    opt = optim.ClippedAdam({"lr": 0.1, "clip_norm": 1.0, "lrd": 0.5})
    p.grad = torch.tensor([100.0, -0.5])
    opt({"p": p})
    # Adam's first step moves each element by lr * sign(grad); clamping leaves the sign.
    assert torch.allclose(p.detach(), torch.tensor([-0.05, 0.05]), atol=1e-6)
    assert opt.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    exp_avg = opt.optimizer.state[p]["exp_avg"]
    assert torch.allclose(exp_avg, 0.1 * torch.tensor([1.0, -0.5]))  # the clamped gradient, not 100


def test_clipped_adam_without_clipping_is_adam():
    init = torch.tensor([0.3, -2.0])
    p = init.clone().requires_grad_(True)
    opt = optim.ClippedAdam({"lr": 0.05, "clip_norm": 1e6})
    for _ in range(15):
        _quadratic_grad(p)
        opt({"p": p})
        p.grad = None
    assert torch.allclose(p.detach(), _reference_adam(init, 15, lr=0.05), atol=1e-6)


def test_clip_args_clip_the_gradient_norm_per_param():
    p = torch.tensor([3.0, 4.0], requires_grad=True)
    sgd = optim.SGD({"lr": 1.0}, {"clip_norm": 1.0})
    p.grad = torch.tensor([3.0, 4.0])  # norm 5, clipped to 1
    sgd({"p": p})
    assert torch.allclose(p.detach(), torch.tensor([3.0 - 0.6, 4.0 - 0.8]))


def test_exponential_lr_scheduler_wraps_one_optimizer():
    p = torch.tensor(0.0, requires_grad=True)
    scheduler = optim.ExponentialLR({"optimizer": torch.optim.SGD, "optim_args": {"lr": 1.0}, "gamma": 0.5})
    _quadratic_grad(p)
    scheduler({"p": p})
    for _ in range(3):
        scheduler.step()
    assert scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(0.125)
    # a param appearing after the schedule started gets the current rate
    q = torch.tensor(0.0, requires_grad=True)
    q.grad = torch.tensor(-1.0)
    scheduler({"p": p, "q": q})
    assert q.item() == pytest.approx(0.125)
    scheduler.step()
    assert [g["lr"] for g in scheduler.optimizer.param_groups] == pytest.approx([0.0625, 0.0625])


def test_scheduler_config_errors_name_the_missing_keys():
    with pytest.raises(ValueError, match="optim_args"):
        optim.StepLR({"optimizer": torch.optim.Adam, "step_size": 10})


def test_reduce_lr_on_plateau_takes_the_loss():
    p = torch.tensor(0.0, requires_grad=True)
    scheduler = optim.ReduceLROnPlateau(
        {"optimizer": torch.optim.SGD, "optim_args": {"lr": 1.0}, "patience": 0, "factor": 0.1}
    )
    _quadratic_grad(p)
    scheduler({"p": p})
    scheduler.step(1.0)
    scheduler.step(2.0)  # worse: reduce
    assert scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_state_round_trips_through_a_file(tmp_path):
    p = torch.tensor(0.0, requires_grad=True)
    adam = optim.Adam({"lr": 0.1})
    for _ in range(3):
        _quadratic_grad(p)
        adam({"p": p})
        p.grad = None
    adam.save(tmp_path / "optim.pt")
    fresh = optim.Adam({"lr": 0.1})
    fresh.load(tmp_path / "optim.pt")
    q = p.detach().clone().requires_grad_(True)
    _quadratic_grad(p)
    adam({"p": p})
    _quadratic_grad(q)
    fresh({"p": q})  # the pending state is given to the param when it appears
    assert torch.allclose(p.detach(), q.detach())
    assert fresh.optimizer.state[q]["step"].item() == 4


def test_bad_arguments_are_reported():
    with pytest.raises(TypeError, match="optim_args"):
        optim.Adam(0.01)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clip_norm"):
        optim.Adam({"lr": 0.1}, {"clip": 1.0})
    with pytest.raises(ValueError, match="lrd"):
        optim.ClippedAdamOptimizer([torch.zeros(1, requires_grad=True)], lrd=0.0)


def test_other_torch_optimizers_are_wrapped_by_name():
    p = torch.tensor(0.0, requires_grad=True)
    rms = optim.RMSprop({"lr": 0.01})
    _quadratic_grad(p)
    rms({"p": p})
    assert isinstance(rms.optimizer, torch.optim.RMSprop)
    assert math.isfinite(p.item()) and p.item() > 0


def test_fused_kernel_by_default_unless_the_user_chooses():
    p = torch.tensor(0.0, requires_grad=True)
    p.grad = torch.tensor(1.0)
    adam = optim.Adam({"lr": 0.1})
    adam({"p": p})
    assert adam.optimizer.param_groups[0]["fused"] is True
    q = torch.tensor(0.0, requires_grad=True)
    q.grad = torch.tensor(1.0)
    looped = optim.Adam({"lr": 0.1, "foreach": False})
    looped({"q": q})
    assert not looped.optimizer.param_groups[0].get("fused")
    assert p.item() == pytest.approx(q.item())


def test_every_param_group_is_fused_also_those_added_later():
    params = {name: torch.tensor(0.0, requires_grad=True) for name in "abc"}
    adam = optim.Adam(lambda name: {"lr": 0.1})  # per-param args: one group per param
    _quadratic_grad(params["a"], params["b"])
    adam({"a": params["a"], "b": params["b"]})
    _quadratic_grad(params["c"])
    adam(params)  # c arrives later, through add_param_group
    assert len(adam.optimizer.param_groups) == 3
    assert [group["fused"] for group in adam.optimizer.param_groups] == [True, True, True]

"""pplkit.optim.eager: torch's own updates, without loading torch's compiler until something compiles."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any, Callable

import pytest
import torch

from pplkit.optim import ExponentialLR
from pplkit.optim.eager import compiler_not_loaded, eager_step

Factory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]

OPTIMIZERS: dict[str, Factory] = {
    "Adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
    "Adam fused": lambda ps: torch.optim.Adam(ps, lr=0.1, fused=True),
    "Adam foreach": lambda ps: torch.optim.Adam(ps, lr=0.1, foreach=True),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
    "SGD momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01),
    "Adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
}


def _run(make: Factory, step: Callable[[torch.optim.Optimizer], Any], steps: int = 5) -> list[torch.Tensor]:
    params = [torch.tensor([0.5, -1.0], requires_grad=True), torch.tensor(2.0, requires_grad=True)]
    optimizer = make(params)
    for _ in range(steps):
        loss = sum(((p - 3.0) ** 2 * (1 + p.abs())).sum() for p in params)
        loss.backward()
        step(optimizer)
        optimizer.zero_grad()
    return [p.detach() for p in params]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_eager_step_gives_torch_steps_numbers_exactly(name: str):
    ours = _run(OPTIMIZERS[name], eager_step)
    theirs = _run(OPTIMIZERS[name], lambda opt: opt.step())
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def test_eager_step_runs_the_closure_with_gradients_and_returns_its_loss():
    p = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.25)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (p - 3.0) ** 2
        loss.backward()  # would fail under no_grad: the closure needs gradients on
        return loss

    loss = eager_step(optimizer, closure)
    assert float(loss.detach()) == 4.0
    assert float(p.detach()) == 2.0  # 1 - 0.25 * 2 * (1 - 3)


def test_eager_step_keeps_step_hooks_by_taking_torchs_own_path():
    p = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.5)
    seen: list[str] = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append("pre"))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: seen.append("post"))
    p.grad = torch.tensor(1.0)
    eager_step(optimizer)
    assert seen == ["pre", "post"]
    assert float(p.detach()) == 0.5


def test_eager_step_keeps_the_optimizer_differentiable_when_asked():
    p = torch.tensor(1.0, requires_grad=True)
    lr = torch.tensor(0.5, requires_grad=True)
    q = p.clone()  # a non-leaf, so the update itself can be differentiated
    optimizer = torch.optim.SGD([q], lr=lr, differentiable=True)
    q.grad = torch.tensor(2.0)
    eager_step(optimizer)
    assert q.requires_grad and q.grad_fn is not None
    q.backward()
    assert float(lr.grad) == -2.0  # q = p - lr * 2


def test_an_lr_scheduler_sees_the_steps_taken_eagerly():
    w = torch.zeros(2, requires_grad=True)
    scheduler = ExponentialLR({"optimizer": torch.optim.SGD, "optim_args": {"lr": 1.0}, "gamma": 0.5})
    with warnings.catch_warnings():
        # torch warns when scheduler.step() comes before any optimizer step it saw
        warnings.simplefilter("error")
        for _ in range(3):
            w.grad = torch.ones(2)
            scheduler({"w": w})
            scheduler.step()
    assert torch.equal(w.detach(), torch.full((2,), -(1.0 + 0.5 + 0.25)))


def test_compiler_not_loaded_leaves_torch_as_it_found_it():
    cached = "__dynamo_disable"
    method = torch.optim.Optimizer.add_param_group
    before = getattr(method.__wrapped__, cached, None)
    with compiler_not_loaded(torch.optim.Adam):
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    assert getattr(method.__wrapped__, cached, None) is before


FIRST_STEP = """
import sys, torch, pplkit
import pplkit.distributions as dist
from pplkit.infer import SVI, AutoNormal, Trace_ELBO
from pplkit.optim import Adam, ExponentialLR

def model(y):
    loc = pplkit.sample("loc", dist.Normal(0.0, 10.0))
    scale = pplkit.sample("scale", dist.HalfNormal(5.0))
    with pplkit.plate("data", len(y)):
        pplkit.sample("y", dist.Normal(loc, scale), obs=y)

y = torch.randn(20)
svi = SVI(model, AutoNormal(model), Adam({"lr": 0.02}), Trace_ELBO())
for _ in range(3):
    svi.step(y)
pplkit.clear_param_store()
scheduler = ExponentialLR({"optimizer": torch.optim.Adam, "optim_args": {"lr": 0.02}, "gamma": 0.9})
svi = SVI(model, AutoNormal(model), scheduler, Trace_ELBO())
svi.step(y)
scheduler.step()
print([m for m in sys.modules if m.startswith(("torch._dynamo", "torch._inductor"))])
"""


def test_svi_steps_in_a_fresh_process_load_neither_dynamo_nor_inductor():
    # Importing them is what made a fresh notebook's first SVI step take seconds.
    out = subprocess.run([sys.executable, "-c", FIRST_STEP], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_torch_compile_still_compiles_an_optimizer_step_after_eager_svi_steps():
    # The eager path must leave torch.optim as torch.compile expects it.
    code = FIRST_STEP + """
p = torch.zeros(3, requires_grad=True)
opt = torch.optim.Adam([p], lr=0.1)
reference = torch.zeros(3, requires_grad=True)
reference_opt = torch.optim.Adam([reference], lr=0.1)

@torch.compile(backend="eager")
def step(p, opt):
    ((p - 1.0) ** 2).sum().backward()
    opt.step()
    opt.zero_grad()

for _ in range(3):
    step(p, opt)
    ((reference - 1.0) ** 2).sum().backward()
    reference_opt.step()
    reference_opt.zero_grad()
import torch._dynamo
print(torch.allclose(p, reference, rtol=1e-5, atol=1e-6), torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True True"

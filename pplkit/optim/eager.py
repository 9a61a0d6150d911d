"""Run a torch optimizer without loading torch's compiler, while nothing is being compiled.

torch.optim marks its methods so that ``torch.compile`` does not trace into them: the
step is wrapped by ``_use_grad_for_differentiable``, which runs ``import torch._dynamo``
and calls ``graph_break()`` at every step; ``add_param_group``, ``zero_grad``,
``state_dict`` and ``load_state_dict`` are wrapped by ``torch._disable_dynamo``, which
imports ``torch._dynamo`` on first call to build the disabled function. In a process
that never compiles, both are no-ops, but the first import of ``torch._dynamo`` (and of
Inductor's config, which it pulls in) costs 2-7 s: a fresh notebook's first SVI step
paid that.

So, while ``torch._dynamo`` is not loaded (then nothing can be compiling), pplkit:

- builds the optimizer and adds param groups inside :func:`compiler_not_loaded`, which
  gives each ``_disable_dynamo`` wrapper its function as the "disabled" one, for that
  call only, and removes it afterwards: a later ``torch.compile`` finds torch as it was;
- steps through :func:`eager_step`, which, unless something is being compiled, calls
  the optimizer's own undecorated ``step`` under ``no_grad``: exactly what the
  decorators do outside compilation, without their per-step profiler record and
  graph breaks.

Anything else (compiling, a ``differentiable`` optimizer, step hooks, the profiler, an
optimizer whose ``step`` is not torch's usual decorated one, a step replaced on the
instance by an LR scheduler) takes torch's own path unchanged.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from torch.optim import optimizer as _torch_optimizer

__all__ = ["compiler_not_loaded", "eager_step"]

# The attribute torch's _disable_dynamo caches the disabled function in (torch/_compile.py).
_CACHE_ATTRIBUTE = "__dynamo_disable"


def _dynamo_loaded() -> bool:
    return "torch._dynamo" in sys.modules


def _disable_dynamo_wrapped(method: Any) -> Callable[..., Any] | None:
    """The function that ``torch._disable_dynamo`` wraps in ``method``, or None if it is not such a wrapper."""
    wrapped = getattr(method, "__wrapped__", None)
    code = getattr(method, "__code__", None)
    return wrapped if wrapped is not None and code is _DISABLE_DYNAMO_CODE else None


def _code_of_disable_dynamo() -> Any:
    return getattr(torch._disable_dynamo(lambda: None), "__code__", None)


_DISABLE_DYNAMO_CODE = _code_of_disable_dynamo()
_DISABLED_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


@contextmanager
def compiler_not_loaded(optimizer_class: type) -> Iterator[None]:
    """Within this block, ``optimizer_class``'s ``_disable_dynamo`` methods run without importing dynamo.

    A no-op once ``torch._dynamo`` is loaded. Each method gets its own function as its
    "disabled" version only for the block (only the ones that had none cached), so
    nothing about torch changes after it.
    """
    if _dynamo_loaded():
        yield
        return
    patched: list[Callable[..., Any]] = []
    for name in _DISABLED_METHODS:
        fn = _disable_dynamo_wrapped(getattr(optimizer_class, name, None))
        if fn is not None and getattr(fn, _CACHE_ATTRIBUTE, None) is None:
            setattr(fn, _CACHE_ATTRIBUTE, fn)
            patched.append(fn)
    try:
        yield
    finally:
        for fn in patched:
            # Leave a version cached only if dynamo really built it meanwhile.
            if getattr(fn, _CACHE_ATTRIBUTE, None) is fn:
                delattr(fn, _CACHE_ATTRIBUTE)


def _wrapper_codes() -> tuple[Any, Any]:
    """The code objects of torch's two step decorators, to recognise them on a class's ``step``."""
    profiled = torch.optim.Optimizer.profile_hook_step(lambda self: None)
    use_grad = _torch_optimizer._use_grad_for_differentiable(lambda self: None)
    return getattr(profiled, "__code__", None), getattr(use_grad, "__code__", None)


_PROFILE_CODE, _USE_GRAD_CODE = _wrapper_codes()
_undecorated: dict[type, Callable[..., Any] | None] = {}


def _undecorated_step(optimizer_class: type) -> Callable[..., Any] | None:
    """The class's ``step`` without torch's profiler and no-grad wrappers; None if it is not wrapped that way."""
    if optimizer_class in _undecorated:
        return _undecorated[optimizer_class]
    step = getattr(optimizer_class, "step", None)
    found = None
    if getattr(step, "__code__", None) is _PROFILE_CODE:
        inner = getattr(step, "__wrapped__", None)
        if getattr(inner, "__code__", None) is _USE_GRAD_CODE:
            found = getattr(inner, "__wrapped__", None)
    _undecorated[optimizer_class] = found
    return found


def _hooks_or_profiler(optimizer: torch.optim.Optimizer) -> bool:
    global_hooks = (
        getattr(_torch_optimizer, "_global_optimizer_pre_hooks", None),
        getattr(_torch_optimizer, "_global_optimizer_post_hooks", None),
    )
    own_hooks = (
        getattr(optimizer, "_optimizer_step_pre_hooks", None),
        getattr(optimizer, "_optimizer_step_post_hooks", None),
    )
    if any(hooks is None or len(hooks) for hooks in (*global_hooks, *own_hooks)):
        return True
    profiler_enabled = getattr(torch._C._autograd, "_profiler_enabled", None)
    return profiler_enabled is None or bool(profiler_enabled())  # unknown: take torch's own path


def _instance_step_is_plain(optimizer: torch.optim.Optimizer) -> bool:
    """True when ``optimizer.step`` is the class's, or only a torch LR scheduler's step counter around it."""
    own = vars(optimizer).get("step")
    if own is None:
        return True
    return getattr(own, "_wrapped_by_lr_sched", False) and getattr(own, "__wrapped__", None) is type(optimizer).step


def eager_step(optimizer: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> Any:
    """``optimizer.step(*args, **kwargs)``, without importing ``torch._dynamo`` when nothing compiles.

    Example (the same update as ``.step()``):

    >>> w = torch.tensor(1.0, requires_grad=True)
    >>> w.grad = torch.tensor(2.0)
    >>> eager_step(torch.optim.SGD([w], lr=0.5))
    >>> w.item()
    0.0
    """
    raw = _undecorated_step(type(optimizer))
    if (
        raw is None
        or torch.compiler.is_compiling()
        or optimizer.defaults.get("differentiable", False)
        or not _instance_step_is_plain(optimizer)
        or _hooks_or_profiler(optimizer)
    ):
        return optimizer.step(*args, **kwargs)
    if "step" in vars(optimizer):
        optimizer._opt_called = True  # type: ignore[attr-defined]  # what the LR scheduler's wrapper records
    with torch.no_grad():
        return raw(optimizer, *args, **kwargs)

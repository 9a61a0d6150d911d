"""``PyroOptim``: one torch optimizer over the params a model creates as it runs.

A Pyro-style program creates its params while it runs, so the optimizer cannot be
given them up front. ``PyroOptim`` is built from a torch optimizer class and its
arguments; each call ``optim(params)`` adds the params it has not seen (as a new
param group of one torch optimizer, so Adam's state stays per param) and takes one
step. Pyro keeps one optimizer per param; one optimizer over all of them does the same
arithmetic with one Python loop (or one fused kernel) instead of one per param.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Iterable, Mapping

import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_

from ..params import current_param_store
from .eager import compiler_not_loaded, eager_step

__all__ = ["PyroOptim"]

OptimArgs = dict[str, Any] | Callable[[str], dict[str, Any]]
Params = Mapping[str, torch.Tensor] | Iterable[torch.Tensor]


class PyroOptim:
    """A torch optimizer that picks up new params as they appear.

    Args:
        optim_constructor: a torch optimizer class, e.g. ``torch.optim.Adam``.
        optim_args: its keyword arguments, e.g. ``{"lr": 0.01}``; or a function
            ``param_name -> dict`` giving each param its own arguments.
        clip_args: optional ``{"clip_norm": c}`` and/or ``{"clip_value": v}``; each
            param's gradient is clipped on its own before the step, as in Pyro. Also a
            function ``param_name -> dict``.

    Example::

        optim = PyroOptim(torch.optim.Adam, {"lr": 0.01})
        optim({"w": w})          # creates Adam's state for w and steps
    """

    def __init__(
        self,
        optim_constructor: Callable[..., torch.optim.Optimizer],
        optim_args: OptimArgs,
        clip_args: OptimArgs | None = None,
    ) -> None:
        if not (isinstance(optim_args, dict) or callable(optim_args)):
            raise TypeError(
                f"optim_args must be a dict such as {{'lr': 0.01}} or a function param_name -> dict, "
                f"got {type(optim_args).__name__}"
            )
        if clip_args is not None and not (isinstance(clip_args, dict) or callable(clip_args)):
            raise TypeError(f"clip_args must be a dict such as {{'clip_norm': 10.0}}, got {type(clip_args).__name__}")
        if isinstance(clip_args, dict):
            _check_clip_args(clip_args)
        self.pt_optim_constructor = optim_constructor
        self.pt_optim_args = optim_args
        self.pt_clip_args = clip_args or {}
        self.optimizer: torch.optim.Optimizer | None = None
        self._params: dict[str, torch.Tensor] = {}  # name -> leaf tensor being optimised
        self._clip: dict[str, dict[str, float]] = {}  # name -> its clip args, when it has any
        self._pending_state: dict[str, dict[str, Any]] = {}  # from set_state, for params not seen yet

    # -- the step ---------------------------------------------------------------------

    def __call__(self, params: Params, *args: Any, **kwargs: Any) -> None:
        """Take one step on ``params``: a dict name -> leaf tensor, or an iterable of leaf tensors.

        Params seen for the first time get fresh state; a name whose tensor was
        replaced (``ParamStore.load``) starts afresh on the new tensor.
        """
        self._register(params)
        if self._clip:
            for name, clip in self._clip.items():
                _clip_grad(self._params[name], **clip)
        assert self.optimizer is not None
        eager_step(self.optimizer, *args, **kwargs)

    def step(self, params: Params, *args: Any, **kwargs: Any) -> None:
        """Pyro's name for a step on ``params`` (a set of leaf tensors from a trace, say): same as calling.

        Example::

            params = {site["value"].unconstrained() for site in param_capture.trace.nodes.values()}
            optimizer.step(params)
        """
        self(params, *args, **kwargs)

    # -- bookkeeping for new and replaced params -------------------------------------------

    def _register(self, params: Params) -> None:
        # Runs at every step, so the usual case (every param already held) is one dict
        # lookup and one identity test per param.
        held_params = self._params
        new: list[tuple[str, torch.Tensor]] = []
        for name, tensor in _named(params).items():
            held = held_params.get(name)
            if held is tensor:
                continue
            if held is not None:
                self._replace(name, held, tensor)
            else:
                new.append((name, tensor))
        if new:
            self._add(new)

    def _add(self, new: list[tuple[str, torch.Tensor]]) -> None:
        if callable(self.pt_optim_args):
            groups = [{"params": [t], **_checked_args(self.pt_optim_args(name), name)} for name, t in new]
        else:
            groups = [{"params": [t for _, t in new], **self.pt_optim_args}]
        optimizer_class = self.pt_optim_constructor if isinstance(self.pt_optim_constructor, type) else type(None)
        with compiler_not_loaded(optimizer_class):
            if self.optimizer is None:
                self.optimizer = _create(self.pt_optim_constructor, groups)
                self._on_optimizer_created(self.optimizer)
            else:
                for group in groups:
                    self.optimizer.add_param_group(_fused_if_possible(self.pt_optim_constructor, group))
                    self._on_group_added(self.optimizer.param_groups[-1])
        for name, tensor in new:
            self._params[name] = tensor
            clip = self.pt_clip_args(name) if callable(self.pt_clip_args) else self.pt_clip_args
            if clip:
                self._clip[name] = _check_clip_args(clip)
            pending = self._pending_state.pop(name, None)
            if pending is not None:
                self._load_param_state(name, pending)

    def _replace(self, name: str, old: torch.Tensor, new: torch.Tensor) -> None:
        assert self.optimizer is not None
        for group in self.optimizer.param_groups:
            for i, p in enumerate(group["params"]):
                if p is old:
                    group["params"][i] = new
        self.optimizer.state.pop(old, None)
        self._params[name] = new

    def _on_optimizer_created(self, optimizer: torch.optim.Optimizer) -> None:
        """Hook for subclasses that wrap the optimizer (learning-rate schedulers)."""

    def _on_group_added(self, group: dict[str, Any]) -> None:
        """Hook for subclasses: a param group was added after the optimizer was created."""

    # -- state ------------------------------------------------------------------------------

    def get_state(self) -> dict[str, dict[str, Any]]:
        """Each param's optimizer state and hyperparameters, by param name."""
        state: dict[str, dict[str, Any]] = dict(self._pending_state)
        if self.optimizer is None:
            return state
        for name, tensor in self._params.items():
            group = next(g for g in self.optimizer.param_groups if any(p is tensor for p in g["params"]))
            state[name] = {
                "state": {k: _clone(v) for k, v in self.optimizer.state.get(tensor, {}).items()},
                "group": {k: v for k, v in group.items() if k != "params"},
            }
        return state

    def set_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Restore state from :meth:`get_state`; params not seen yet receive it when they appear."""
        for name, record in state.items():
            if name in self._params:
                self._load_param_state(name, record)
            else:
                self._pending_state[name] = dict(record)

    def _load_param_state(self, name: str, record: Mapping[str, Any]) -> None:
        assert self.optimizer is not None
        tensor = self._params[name]
        self.optimizer.state[tensor] = {k: _clone(v) for k, v in record.get("state", {}).items()}
        for group in self.optimizer.param_groups:
            if any(p is tensor for p in group["params"]) and len(group["params"]) == 1:
                group.update({k: v for k, v in record.get("group", {}).items() if k != "params"})

    def save(self, filename: str | os.PathLike[str]) -> None:
        """Write :meth:`get_state` to ``filename``."""
        torch.save(self.get_state(), filename)

    def load(self, filename: str | os.PathLike[str], map_location: Any = None) -> None:
        """Read a file written by :meth:`save` (``weights_only``, so it cannot run code)."""
        self.set_state(torch.load(filename, map_location=map_location, weights_only=True))

    def __repr__(self) -> str:
        name = getattr(self.pt_optim_constructor, "__name__", repr(self.pt_optim_constructor))
        return f"{type(self).__name__}({name}, {self.pt_optim_args!r})"


def _create(
    constructor: Callable[..., torch.optim.Optimizer], groups: list[dict[str, Any]]
) -> torch.optim.Optimizer:
    """Build the torch optimizer, its groups fused where torch has a fused kernel and the user did not choose.

    SVI steps on many small tensors, where the per-tensor Python loop of torch's default
    implementation dominates: fused Adam does the same update in one kernel call, about
    3x faster for the ten scalars of the intro tutorial's guide.
    """
    fused = [_fused_if_possible(constructor, group) for group in groups]
    if any(f is not g for f, g in zip(fused, groups)):
        try:
            return constructor(fused)
        except (RuntimeError, ValueError, TypeError):
            pass  # e.g. a dtype or device the fused kernel does not take
    return constructor(groups)


def _fused_if_possible(constructor: Callable[..., torch.optim.Optimizer], group: dict[str, Any]) -> dict[str, Any]:
    # Per group, since a group added later (a param created later) gets the constructor's
    # default, unfused, otherwise.
    return {**group, "fused": True} if _can_fuse(constructor, group) else group


def _can_fuse(constructor: Callable[..., torch.optim.Optimizer], group: dict[str, Any]) -> bool:
    if "fused" in group or "foreach" in group or group.get("differentiable"):
        return False
    try:
        accepts_fused = "fused" in inspect.signature(constructor).parameters
    except (TypeError, ValueError):
        return False
    return accepts_fused and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") and not p.is_sparse for p in group["params"]
    )


def _named(params: Params) -> Mapping[str, torch.Tensor]:
    if isinstance(params, Mapping):
        return params
    tensors = list(params)
    store_names = {id(t): n for n, t in current_param_store().named_parameters()}
    return {store_names.get(id(t), f"<unnamed param {id(t):#x}>"): t for t in tensors}


def _checked_args(args: Any, name: str) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise TypeError(f"optim_args({name!r}) must return a dict such as {{'lr': 0.01}}, got {args!r}")
    return args


_CLIP_KEYS = {"clip_norm", "clip_value"}


def _check_clip_args(clip: dict[str, Any]) -> dict[str, Any]:
    unknown = set(clip) - _CLIP_KEYS
    if unknown:
        raise ValueError(f"clip_args: unknown key(s) {sorted(unknown)}; use 'clip_norm' and/or 'clip_value'")
    return clip


def _clip_grad(param: torch.Tensor, clip_norm: float | None = None, clip_value: float | None = None) -> None:
    if param.grad is None:
        return
    if clip_norm is not None:
        clip_grad_norm_(param, clip_norm)
    if clip_value is not None:
        clip_grad_value_(param, clip_value)


def _clone(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, torch.Tensor) else value

"""A step's random draws as inputs of a compiled graph, so that each step draws fresh noise.

A compiled ELBO must not bake the guide's samples into its graph, and its loss should
equal the eager loss for the same noise. So the torch calls that draw noise
(``torch.empty(shape).normal_()`` inside ``Normal.rsample``, ``torch.rand`` inside
``Uniform``, a subsampled plate's indices) are recorded once, in order,
as :class:`Draw` recipes. At each step the recipes run eagerly, in the same order and
from the same generator as an eager step would, and :class:`SupplyDraws` hands their
results to the traced program in place of the calls. With the same seed, a compiled
step therefore sees exactly the noise an eager step sees.

A draw whose noise depends on tensor values (``torch.bernoulli(probs)``,
``torch._standard_gamma(concentration)``) cannot be drawn ahead of the graph;
:class:`RecordDraws` names it and the ELBO stays eager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["Draw", "RecordDraws", "SupplyDraws"]

# In-place fills: only the shape, dtype and device of ``self`` matter.
_FILLS = {
    torch.Tensor.normal_,
    torch.Tensor.uniform_,
    torch.Tensor.exponential_,
    torch.Tensor.cauchy_,
    torch.Tensor.log_normal_,
    torch.Tensor.geometric_,
    torch.Tensor.random_,
    torch.Tensor.bernoulli_,
}
# Factories: no tensor argument (``torch.normal(0.0, 1.0, size)``).
_FACTORIES = {torch.randn, torch.rand, torch.randint, torch.randperm, torch.normal}
# ``*_like``: only the first argument's shape, dtype and device matter.
_LIKES = {torch.randn_like, torch.rand_like, torch.randint_like}
# Draws whose distribution depends on the values of their tensor arguments.
_VALUE_DEPENDENT = {
    torch.bernoulli,
    torch.multinomial,
    torch.poisson,
    torch.binomial,
    torch._standard_gamma,
    torch._sample_dirichlet,
    torch.Tensor.bernoulli,
    torch.Tensor.multinomial,
}
_RANDOM = _FILLS | _FACTORIES | _LIKES | _VALUE_DEPENDENT


@dataclass(frozen=True)
class Draw:
    """One random torch call of a step, replayable eagerly: ``draw()`` gives fresh noise."""

    func: Callable[..., Any]
    args: tuple[Any, ...]  # the first one None for a fill or a ``*_like``: a fresh tensor goes there
    kwargs: dict[str, Any]
    like: tuple[torch.Size, torch.dtype, torch.device] | None  # the tensor whose shape is drawn

    def draw(self) -> torch.Tensor:
        if self.like is None:
            return self.func(*self.args, **self.kwargs)
        shape, dtype, device = self.like
        target = torch.empty(shape, dtype=dtype, device=device)
        result = self.func(target, *self.args[1:], **self.kwargs)
        return target if self.func in _FILLS else result


def _has_tensor(values: Sequence[Any]) -> bool:
    return any(isinstance(v, torch.Tensor) for v in values)


class RecordDraws(TorchFunctionMode):
    """Run a step eagerly while recording its random calls as :class:`Draw` recipes.

    ``unsupported`` names the first draw that cannot be replayed ahead of a graph
    ("torch.bernoulli with tensor arguments"), or is "" when every draw can.
    """

    def __init__(self) -> None:
        super().__init__()
        self.draws: list[Draw] = []
        self.unsupported = ""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if _is_random(func):
            self._record(func, args, kwargs)
        return func(*args, **kwargs)

    def _record(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rest = args[1:] if func in _FILLS or func in _LIKES else args
        if func in _VALUE_DEPENDENT or _has_tensor(rest) or _has_tensor(list(kwargs.values())):
            if not self.unsupported:
                self.unsupported = f"{_name(func)} with tensor arguments"
            return
        if func in _FILLS or func in _LIKES:
            first = args[0]
            self.draws.append(Draw(func, (None, *rest), dict(kwargs), (first.shape, first.dtype, first.device)))
        else:
            self.draws.append(Draw(func, tuple(args), dict(kwargs), None))


class SupplyDraws(TorchFunctionMode):
    """Answer a step's random calls, in order, with the given tensors (graph inputs while tracing)."""

    def __init__(self, noise: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.noise = noise
        self.used = 0

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if not _is_random(func):
            return func(*args, **kwargs)
        if self.used >= len(self.noise):
            raise RuntimeError(
                f"the step drew more random numbers than its first step did ({_name(func)} after "
                f"{len(self.noise)} draws): its structure changed"
            )
        value = self.noise[self.used]
        self.used += 1
        if func in _FILLS:
            return args[0].copy_(value)
        return value


def _is_random(func: Any) -> bool:
    # ``pplkit.util.one_random_draw`` marks pplkit's own draws (a plate's subsample indices).
    return func in _RANDOM or getattr(func, "pplkit_one_draw", False)


def _name(func: Any) -> str:
    owner = "torch.Tensor" if getattr(func, "__objclass__", None) is not None else "torch"
    return f"{owner}.{getattr(func, '__name__', repr(func))}"

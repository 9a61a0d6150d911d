"""The maps from unconstrained reals to a site's support, made cheap to evaluate.

``biject_to(support)`` gives a torch transform, often a ``ComposeTransform`` (for
``positive``: exp, then an affine map by ``0 + 1 * y``). Called as is, it goes through
caching logic and, for the Jacobian, evaluates every part a second time. NUTS calls it
at every gradient, so each latent site's transform is compiled once into a short chain
of steps: identity parts vanish, affine maps with fixed parameters skip their Jacobian
(a constant, and HMC needs the potential energy only up to an additive constant),
``exp`` reuses its input as its log-Jacobian, and the sigmoid's takes three ops.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.distributions import transforms
from torch.distributions.transforms import Transform

__all__ = ["Constrain", "compile_transform", "constrain_exactly", "is_identity"]

# x (unconstrained) -> (constrained value, log|det J| summed or elementwise, or None when constant)
Constrain = Callable[[torch.Tensor], "tuple[torch.Tensor, torch.Tensor | None]"]
_Step = Callable[[torch.Tensor], "tuple[torch.Tensor, torch.Tensor | None]"]


def _parts(transform: Transform) -> list[Transform]:
    """The elementary transforms of ``transform``, in the order they apply."""
    if isinstance(transform, transforms.ComposeTransform):
        return [p for part in transform.parts for p in _parts(part)]
    if isinstance(transform, transforms.IndependentTransform):
        # Only changes how the Jacobian is summed; the potential sums all of it anyway.
        return _parts(transform.base_transform)
    return [transform]


def _is_fixed(value: Any) -> bool:
    return not (isinstance(value, torch.Tensor) and value.requires_grad)


def _equals(value: Any, constant: float) -> bool:
    if isinstance(value, torch.Tensor):
        return bool((value == constant).all())
    return value == constant


def is_identity(transform: Transform) -> bool:
    """True when ``transform`` leaves its input unchanged (the support is all reals)."""
    return all(p is transforms.identity_transform or _is_trivial_affine(p) for p in _parts(transform))


def _is_trivial_affine(part: Transform) -> bool:
    return (
        isinstance(part, transforms.AffineTransform)
        and _is_fixed(part.loc)
        and _is_fixed(part.scale)
        and _equals(part.loc, 0.0)
        and _equals(part.scale, 1.0)
    )


def _exp_step(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.exp(), x


def _sigmoid_step(part: Transform) -> _Step:
    def step(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # log(s (1 - s)) = log s(x) + log s(-x) = 2 log s(x) - x: three ops, stable at both ends.
        return part(x), 2.0 * torch.nn.functional.logsigmoid(x) - x

    return step


def _affine_step(loc: Any, scale: Any) -> _Step:
    """``loc + scale * x`` with fixed ``loc`` and ``scale``: its Jacobian is a constant, left out."""
    skip_scale = _equals(scale, 1.0)
    skip_loc = _equals(loc, 0.0)

    def step(x: torch.Tensor) -> tuple[torch.Tensor, None]:
        if not skip_scale:
            x = x * scale
        if not skip_loc:
            x = x + loc
        return x, None

    return step


def _generic_step(part: Transform) -> _Step:
    def step(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = part(x)
        return y, part.log_abs_det_jacobian(x, y)

    return step


def _chain(steps: list[_Step]) -> Constrain:
    if not steps:
        return lambda x: (x, None)
    if len(steps) == 1:
        return steps[0]

    def constrain(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        log_det: torch.Tensor | None = None
        for step in steps:
            x, term = step(x)
            if term is not None:
                term = term.sum() if term.dim() else term
                log_det = term if log_det is None else log_det + term
        return x, log_det

    return constrain


def compile_transform(transform: Transform) -> Constrain:
    """A fast equivalent of ``transform`` that also returns its log-Jacobian, up to a constant.

    Example::

        constrain = compile_transform(biject_to(constraints.positive))
        value, log_det = constrain(torch.tensor(0.3))  # (exp(0.3), 0.3)
    """
    steps: list[_Step] = []
    for part in _parts(transform):
        if part is transforms.identity_transform or _is_trivial_affine(part):
            continue
        if isinstance(part, transforms.ExpTransform):
            steps.append(_exp_step)
        elif isinstance(part, transforms.SigmoidTransform):
            steps.append(_sigmoid_step(part))
        elif isinstance(part, transforms.AffineTransform) and _is_fixed(part.loc) and _is_fixed(part.scale):
            steps.append(_affine_step(part.loc, part.scale))
        else:
            steps.append(_generic_step(part))
    return _chain(steps)


def constrain_exactly(transform: Transform, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Apply ``transform`` to ``x`` and return the full log-Jacobian, constants included.

    Used for supports that move with other latent values, whose affine scale is not a constant.
    """
    return _chain([_generic_step(p) for p in _parts(transform) if p is not transforms.identity_transform])(x)

"""Pyro's ClippedAdam: Adam with each gradient element clipped and a decaying learning rate."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import torch

__all__ = ["ClippedAdamOptimizer"]


class ClippedAdamOptimizer(torch.optim.Optimizer):
    """Adam that clamps every gradient element to ``[-clip_norm, clip_norm]`` and multiplies
    the learning rate by ``lrd`` at every step.

    The clipping is element-wise, as in Pyro (despite the argument's name), so one
    huge gradient element cannot throw a param far in the first steps of SVI.

    Args:
        params: the tensors to optimise, or param-group dicts.
        lr: the initial learning rate.
        betas: decay rates of the running means of the gradient and its square.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty.
        clip_norm: the largest absolute value a gradient element may have.
        lrd: learning-rate decay factor per step (1.0: no decay).
        centered_variance: track the variance of the gradient around its running mean.

    Example::

        opt = ClippedAdamOptimizer([w], lr=0.01, clip_norm=5.0, lrd=0.999)
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float = 10.0,
        lrd: float = 1.0,
        centered_variance: bool = False,
    ) -> None:
        if not lr >= 0.0:
            raise ValueError(f"ClippedAdam: lr must be >= 0, got {lr}")
        if not clip_norm > 0.0:
            raise ValueError(f"ClippedAdam: clip_norm must be > 0, got {clip_norm}")
        if not 0.0 < lrd <= 1.0:
            raise ValueError(f"ClippedAdam: lrd must be in (0, 1], got {lrd}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            clip_norm=clip_norm, lrd=lrd, centered_variance=centered_variance,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            group["lr"] *= group["lrd"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.clamp(-group["clip_norm"], group["clip_norm"])
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                spread = grad - exp_avg if group["centered_variance"] else grad
                exp_avg_sq.mul_(beta2).addcmul_(spread, spread, value=1 - beta2)
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                step_size = group["lr"] * math.sqrt(bias2) / bias1
                p.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(group["eps"]), value=-step_size)
        return loss

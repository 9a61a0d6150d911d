"""An inverse autoregressive flow (IAF) over a vector, built from a masked network (MADE).

The network reads ``x`` and returns, for each element ``i``, a shift and a log-scale
that depend only on the elements before ``i`` in a fixed order (the masks enforce
it). The affine step ``y = shift(x) + exp(log_scale(x)) * x`` is then a bijection with a
triangular Jacobian, so its log-determinant is the sum of the log-scales. Sampling
(noise to ``y``) is one pass of the network; inverting it takes one pass per element,
and is needed only to score a value the flow did not draw itself (the transform caches
its last draw, so the ELBO never inverts).

The weights are plain tensors handed in at each call (the guide reads them as params),
so the flow holds no state of its own.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch.distributions import Transform, constraints

__all__ = ["AffineAutoregressive", "init_made_weights", "made_masks"]


def made_masks(permutation: torch.Tensor, hidden_dims: Sequence[int]) -> list[torch.Tensor]:
    """The masks of a MADE network over ``len(permutation)`` inputs, one per layer (input side first).

    Input ``i`` gets the degree ``1 + position of i in permutation``; a hidden unit of
    degree ``k`` may see inputs of degree at most ``k``; an output of degree ``d`` sees
    only hidden units of degree below ``d``. The last mask has ``2 * dim`` rows: the
    shifts, then the log-scales, each output with the degree of its input.
    """
    dim = len(permutation)
    in_degree = torch.empty(dim, dtype=torch.long)
    in_degree[permutation] = torch.arange(1, dim + 1)
    masks = []
    previous = in_degree
    for width in hidden_dims:
        # Degrees 1..dim-1, cycled: no hidden unit may see every input (dim - 1 is the most).
        degree = torch.arange(width) % max(1, dim - 1) + 1
        masks.append((degree[:, None] >= previous[None, :]).to(torch.get_default_dtype()))
        previous = degree
    out_degree = torch.cat([in_degree, in_degree])
    masks.append((out_degree[:, None] > previous[None, :]).to(torch.get_default_dtype()))
    return masks


def init_made_weights(dim: int, hidden_dims: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) per layer, drawn as ``torch.nn.Linear`` draws them (uniform in +-1/sqrt(fan_in))."""
    sizes = [dim, *hidden_dims, 2 * dim]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        weight = torch.empty(fan_out, fan_in).uniform_(-bound, bound)
        bias = torch.empty(fan_out).uniform_(-bound, bound)
        layers.append((weight, bias))
    return layers


class AffineAutoregressive(Transform):
    """``y = shift(x) + exp(log_scale(x)) * x``, with (shift, log_scale) from a MADE network.

    Args:
        layers: (weight, bias) per layer, as from :func:`init_made_weights`.
        masks: the matching masks, from :func:`made_masks`.
        log_scale_min_clip, log_scale_max_clip: bounds on the log-scale, which keep the
            first steps of training from blowing the flow up (Pyro's defaults).
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True
    sign = +1

    def __init__(
        self,
        layers: Sequence[tuple[torch.Tensor, torch.Tensor]],
        masks: Sequence[torch.Tensor],
        log_scale_min_clip: float = -5.0,
        log_scale_max_clip: float = 3.0,
    ) -> None:
        super().__init__(cache_size=1)
        self.layers = [(weight * mask, bias) for (weight, bias), mask in zip(layers, masks)]
        self.clip = (log_scale_min_clip, log_scale_max_clip)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (x, log_scale at x)

    def _shift_log_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x
        for weight, bias in self.layers[:-1]:
            h = torch.relu(h @ weight.T + bias)
        weight, bias = self.layers[-1]
        shift, log_scale = (h @ weight.T + bias).chunk(2, dim=-1)
        return shift, log_scale.clamp(*self.clip)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        shift, log_scale = self._shift_log_scale(x)
        self._last = (x, log_scale)
        return shift + log_scale.exp() * x

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        # Each pass fixes one more element, in the network's order: dim passes give x exactly.
        x = torch.zeros_like(y)
        for _ in range(y.shape[-1]):
            shift, log_scale = self._shift_log_scale(x)
            x = (y - shift) * torch.exp(-log_scale)
        self._last = (x, self._shift_log_scale(x)[1])
        return x

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self._last is not None and self._last[0] is x:
            log_scale = self._last[1]
        else:
            log_scale = self._shift_log_scale(x)[1]
        return log_scale.sum(-1)

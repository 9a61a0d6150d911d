"""Adding up a model's log density in as few torch ops as possible.

A torch op costs microseconds however small its tensors, so at the scale of a
teaching model the potential energy's cost is mostly the number of ops it runs,
forwards and backwards, and NUTS pays it at every leapfrog step. The sites' log
densities are therefore collected here and summed with these savings:

* a Normal site's log density is summed in closed form,
  ``-z.z / 2 - sum(log scale) - n log(2 pi) / 2`` with ``z = (x - loc) / scale``,
  which takes fewer ops than torch's elementwise ``log_prob`` followed by a sum;
* scalar Normal sites (typically a model's priors) are scored together, as one
  stacked vector, instead of one op sequence per site;
* terms that cannot change with the latent values are left out, since HMC needs the
  potential energy only up to an additive constant: the Normal's ``log(2 pi)`` terms,
  ``log(scale)`` of a fixed scale, and the density of a latent Uniform site with
  fixed bounds (its value lies inside them by construction).

Every other site is scored by its own ``log_prob``, scaled and masked as usual.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import distributions as torch_dist

from ...distributions import Independent, Normal, Uniform
from ...distributions.util import scale_and_mask

__all__ = ["LogDensitySum"]

_NORMALS = (Normal, torch_dist.Normal)
_INDEPENDENTS = (Independent, torch_dist.Independent)
_UNIFORMS = (Uniform, torch_dist.Uniform)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_density_sum(
    loc: torch.Tensor, scale: torch.Tensor, value: torch.Tensor, keep_constants: bool = True
) -> torch.Tensor:
    """The sum of ``Normal(loc, scale).log_prob(value)`` over all elements, in a few ops.

    With ``keep_constants=False`` the terms that do not depend on ``loc``, ``scale`` or
    ``value`` through autograd are left out: ``n log(2 pi) / 2``, and ``sum(log scale)``
    when the scale is fixed (it does not require grad).
    """
    z = (value - loc) / scale
    flat = z if z.dim() == 1 else z.reshape(-1)
    total = -0.5 * flat.dot(flat)  # one op where z.pow(2).sum() takes two
    if keep_constants or scale.requires_grad:
        # Each element of scale serves n / scale.numel() elements of the broadcast z.
        repeats = z.numel() / scale.numel()
        log_scales = scale.log().sum()
        total = total - (log_scales if repeats == 1 else log_scales * repeats)
    if keep_constants:
        total = total - z.numel() * _HALF_LOG_2PI
    return total


class LogDensitySum:
    """Collects the log densities of a model's sites as they run, then adds them up.

    Args:
        drop_constants: leave out terms that cannot change with the latent values: the
            Normal's ``log(2 pi)`` terms, ``log(scale)`` for fixed scales, and the density
            of a latent Uniform site whose bounds are fixed (its value is always inside).

    Example::

        total = LogDensitySum()
        total.add(dist.Normal(0.0, 1.0), torch.tensor(0.5))
        total.add(dist.Gamma(2.0, 1.0), torch.tensor(1.5))
        total.sum()  # Normal(0, 1).log_prob(0.5) + Gamma(2, 1).log_prob(1.5)
    """

    def __init__(self, drop_constants: bool = False) -> None:
        self.keep_constants = not drop_constants
        self.terms: list[torch.Tensor] = []
        self._scalar_normals: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def add(
        self,
        fn: Any,
        value: torch.Tensor,
        scale: float | torch.Tensor = 1.0,
        mask: torch.Tensor | bool | None = None,
        latent_with_fixed_support: bool = False,
    ) -> None:
        """Add the log density of ``value`` under ``fn``, times ``scale``, where ``mask`` holds."""
        plain = mask is None and isinstance(scale, float) and scale == 1.0
        base = fn
        while type(base) in _INDEPENDENTS:  # only changes how the terms are summed: all of them are
            base = base.base_dist
        if plain and type(base) in _NORMALS:
            if base.batch_shape or value.dim():
                self.terms.append(normal_log_density_sum(base.loc, base.scale, value, self.keep_constants))
            else:
                self._scalar_normals.append((base.loc, base.scale, value))
            return
        if plain and latent_with_fixed_support and not self.keep_constants and type(base) in _UNIFORMS:
            return
        log_p = fn.log_prob(value)
        if not plain:
            log_p = scale_and_mask(log_p, scale, mask)
        self.terms.append(log_p.sum() if log_p.dim() else log_p)

    def sum(self) -> torch.Tensor:
        """The total of everything added so far."""
        terms = self.terms
        normals = self._scalar_normals
        if normals:
            dtypes = {t.dtype for site in normals for t in site}
            if len(normals) > 1 and len(dtypes) == 1:
                locs, scales, values = zip(*normals)
                normals = [(torch.stack(locs), torch.stack(scales), torch.stack(values))]
            terms = [*terms, *(normal_log_density_sum(*site, self.keep_constants) for site in normals)]
        if not terms:
            return torch.zeros(())
        return torch.stack(terms).sum() if len(terms) > 1 else terms[0]

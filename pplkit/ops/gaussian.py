"""``Gaussian``: an unnormalised Gaussian log density in information form (a piece of Pyro's ``pyro.ops.gaussian``).

The log density of ``x`` in R^n is

    log_normalizer + info_vec . x - x^T precision x / 2,

so ``info_vec = precision @ mean``. Information form allows a precision with zero
eigenvalues (a likelihood that pins down only some directions), and conditioning on the
trailing coordinates is then a slice and a matrix-vector product. Only what exact-posterior
checks need is here: ``log_density``, ``condition``, ``marginalize`` and ``event_logsumexp``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["Gaussian"]


def _matvec(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


class Gaussian:
    """A batch of unnormalised Gaussian log densities over R^n, in information form.

    Args:
        log_normalizer: the log density's constant, shape ``batch_shape``.
        info_vec: ``precision @ mean``, shape ``batch_shape + (n,)``.
        precision: symmetric positive semi-definite, shape ``batch_shape + (n, n)``.

    Example::

        >>> import torch
        >>> g = Gaussian(torch.zeros(()), torch.zeros(2), torch.eye(2))
        >>> round(g.event_logsumexp().item(), 4)   # log of the integral of exp(-|x|^2 / 2) = log(2 pi)
        1.8379
    """

    def __init__(self, log_normalizer: torch.Tensor, info_vec: torch.Tensor, precision: torch.Tensor) -> None:
        if info_vec.dim() < 1 or precision.shape[-2:] != info_vec.shape[-1:] * 2:
            raise ValueError(
                f"Gaussian: precision must end in (n, n) for an info_vec ending in n; got info_vec of shape "
                f"{tuple(info_vec.shape)} and precision of shape {tuple(precision.shape)}"
            )
        self.log_normalizer = log_normalizer
        self.info_vec = info_vec
        self.precision = precision

    def dim(self) -> int:
        return self.info_vec.size(-1)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.broadcast_shapes(self.log_normalizer.shape, self.info_vec.shape[:-1], self.precision.shape[:-2])

    def log_density(self, value: torch.Tensor) -> torch.Tensor:
        """The unnormalised log density at ``value`` (shape ``... + (n,)``)."""
        quadratic = (_matvec(self.precision, value) * value).sum(-1)
        return self.log_normalizer + (self.info_vec * value).sum(-1) - 0.5 * quadratic

    def condition(self, value: torch.Tensor) -> Gaussian:
        """The Gaussian over the leading coordinates with the trailing ones fixed to ``value``.

        The density of ``value`` stays in the log normalizer, so that
        ``g.condition(x[..., n:]).log_density(x[..., :n]) == g.log_density(x)``.
        """
        n = self.dim() - value.size(-1)
        if n < 0:
            raise ValueError(f"Gaussian.condition: value has {value.size(-1)} coordinates, the Gaussian {self.dim()}")
        p_aa, p_ab, p_bb = self.precision[..., :n, :n], self.precision[..., :n, n:], self.precision[..., n:, n:]
        info_a, info_b = self.info_vec[..., :n], self.info_vec[..., n:]
        log_normalizer = self.log_normalizer + (info_b * value).sum(-1) - 0.5 * (_matvec(p_bb, value) * value).sum(-1)
        return Gaussian(log_normalizer, info_a - _matvec(p_ab, value), p_aa)

    def marginalize(self, left: int = 0, right: int = 0) -> Gaussian:
        """Integrate out the ``left`` leading or the ``right`` trailing coordinates (one side at a time)."""
        if left and right:
            raise NotImplementedError("Gaussian.marginalize: integrate out one side at a time")
        if not left and not right:
            return self
        n = self.dim()
        keep = slice(left, n - right)
        drop = slice(None, left) if left else slice(n - right, None)
        chol = torch.linalg.cholesky(self.precision[..., drop, drop])
        # Completing the square in the dropped block: with P_bb = L L^T,
        # the kept block's precision loses P_ab P_bb^-1 P_ba, its info vec P_ab P_bb^-1 info_b.
        half_cross = torch.linalg.solve_triangular(chol, self.precision[..., drop, keep], upper=False)
        half_info = torch.linalg.solve_triangular(chol, self.info_vec[..., drop].unsqueeze(-1), upper=False)
        precision = self.precision[..., keep, keep] - half_cross.transpose(-1, -2) @ half_cross
        info_vec = self.info_vec[..., keep] - (half_cross.transpose(-1, -2) @ half_info).squeeze(-1)
        log_normalizer = (
            self.log_normalizer
            + 0.5 * (left + right) * math.log(2 * math.pi)
            - chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
            + 0.5 * half_info.squeeze(-1).square().sum(-1)
        )
        return Gaussian(log_normalizer, info_vec, precision)

    def event_logsumexp(self) -> torch.Tensor:
        """The log of the density's integral over R^n (the precision must be positive definite)."""
        chol = torch.linalg.cholesky(self.precision)
        half_info = torch.linalg.solve_triangular(chol, self.info_vec.unsqueeze(-1), upper=False).squeeze(-1)
        return (
            self.log_normalizer
            + 0.5 * self.dim() * math.log(2 * math.pi)
            + 0.5 * half_info.square().sum(-1)
            - chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        )

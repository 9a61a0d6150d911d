"""Pyro's ``pyro.ops.gaussian.Gaussian``: an unnormalised Gaussian in information form.

``log_density(x) = log_normalizer + info_vec . x - x^T precision x / 2``, batched over
leading dims. Conditioning on some coordinates and integrating all of them out are
closed-form, which is what exact answers for linear-Gaussian models need (Pyro's tests
build the joint density of a model this way and compare an ELBO with its log evidence).
Only that core is here; Pyro's message-passing helpers (``matrix_and_mvn_to_gaussian``,
``gaussian_tensordot`` ...) are not.
"""

from __future__ import annotations

import math

import torch

__all__ = ["Gaussian"]


class Gaussian:
    """``exp(log_normalizer + info_vec . x - x^T precision x / 2)``.

    Args:
        log_normalizer: shape ``batch_shape``.
        info_vec: shape ``batch_shape + (n,)``.
        precision: symmetric positive definite, shape ``batch_shape + (n, n)``.

    Example::

        >>> g = Gaussian(torch.zeros(()), torch.zeros(2), torch.tensor([[2.0, -1.0], [-1.0, 1.0]]))
        >>> round(float(g.condition(torch.tensor([1.0])).event_logsumexp()), 4)  # -1/2 + 1/4 + log(2 pi)/2 - log(2)/2
        0.3224
    """

    def __init__(self, log_normalizer: torch.Tensor, info_vec: torch.Tensor, precision: torch.Tensor) -> None:
        if precision.shape[-2:] != (info_vec.size(-1), info_vec.size(-1)):
            raise ValueError(
                f"Gaussian: precision must be square with the size of info_vec ({info_vec.size(-1)}), "
                f"got shape {tuple(precision.shape)}"
            )
        self.log_normalizer = log_normalizer
        self.info_vec = info_vec
        self.precision = precision

    def dim(self) -> int:
        """The number of coordinates ``n``."""
        return self.info_vec.size(-1)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.broadcast_shapes(self.log_normalizer.shape, self.info_vec.shape[:-1], self.precision.shape[:-2])

    def log_density(self, value: torch.Tensor) -> torch.Tensor:
        """The unnormalised log density at ``value`` (shape ``batch_shape + (n,)``)."""
        quadratic = (value.unsqueeze(-2) @ self.precision @ value.unsqueeze(-1)).squeeze(-1).squeeze(-1)
        return self.log_normalizer + (self.info_vec * value).sum(-1) - 0.5 * quadratic

    def condition(self, value: torch.Tensor) -> Gaussian:
        """Fix the trailing ``value.size(-1)`` coordinates at ``value``; the density of those is kept.

        ``g.log_density(x) == g.condition(x[..., n:]).log_density(x[..., :n])``.
        """
        n = self.dim() - value.size(-1)
        if n < 0:
            raise ValueError(f"Gaussian.condition: value has {value.size(-1)} coordinates, the Gaussian {self.dim()}")
        p_ab = self.precision[..., :n, n:]
        p_bb = self.precision[..., n:, n:]
        info_vec = self.info_vec[..., :n] - (p_ab @ value.unsqueeze(-1)).squeeze(-1)
        log_normalizer = (
            self.log_normalizer
            + (self.info_vec[..., n:] * value).sum(-1)
            - 0.5 * ((p_bb @ value.unsqueeze(-1)).squeeze(-1) * value).sum(-1)
        )
        return Gaussian(log_normalizer, info_vec, self.precision[..., :n, :n])

    def event_logsumexp(self) -> torch.Tensor:
        """``log`` of the integral over all coordinates: the log normaliser of the density."""
        n = self.dim()
        cholesky = torch.linalg.cholesky(self.precision)
        # info^T P^-1 info = |L^-1 info|^2 for P = L L^T.
        whitened = torch.linalg.solve_triangular(cholesky, self.info_vec.unsqueeze(-1), upper=False).squeeze(-1)
        half_log_det = cholesky.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return self.log_normalizer + 0.5 * whitened.pow(2).sum(-1) + 0.5 * n * math.log(2 * math.pi) - half_log_det

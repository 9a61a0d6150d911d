"""``AutoLaplaceApproximation``: MAP in unconstrained space, then a Gaussian from the curvature.

Fit it like :class:`AutoDelta` (a point mass, here over the packed unconstrained
vector); then ``laplace_approximation(*args)`` returns an
:class:`AutoMultivariateNormal` centred at the MAP point whose covariance is the
inverse Hessian of the negative log joint there.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Distribution, constraints

from ... import distributions as dist
from ...handlers import block, substitute
from ...primitives import param
from ..elbo import Trace_ELBO
from .continuous import AutoContinuous
from .multivariate_normal import AutoMultivariateNormal

__all__ = ["AutoLaplaceApproximation"]


class AutoLaplaceApproximation(AutoContinuous):
    """A point mass over the packed unconstrained latent vector, for the Laplace approximation.

    Params, named as Pyro's: ``AutoLaplaceApproximation.loc``.

    Example::

        delta_guide = AutoLaplaceApproximation(model)
        SVI(model, delta_guide, Adam({"lr": 0.05}), Trace_ELBO()).run(1000, data)
        guide = delta_guide.laplace_approximation(data)   # an AutoMultivariateNormal
    """

    def _loc(self, read: Any) -> torch.Tensor:
        return read(f"{self.prefix}.loc", self._loc_init, constraints.real)

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        return dist.Delta(self._loc(param), event_dim=1)

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        # A point mass has no spread; quantiles are the point itself.
        loc = self._loc(self._stored)
        return loc, torch.full_like(loc, 1e-12)

    def laplace_approximation(self, *args: Any, **kwargs: Any) -> AutoMultivariateNormal:
        """A Gaussian guide at the fitted point, with covariance ``H^-1`` (``H`` the Hessian of -log p).

        Args are the model's; the returned guide's params are fixed tensors, not
        param-store entries.
        """
        self._require_setup(args, kwargs, "laplace_approximation")
        loc = self._loc(self._stored).detach()
        name = f"{self.prefix}.loc"

        def neg_log_joint(u: torch.Tensor) -> torch.Tensor:
            # -ELBO of the point mass at u: log q is only the Delta's Jacobian terms, so this
            # is -log p in unconstrained space.
            with block(), substitute(data={name: u}):
                return Trace_ELBO().differentiable_loss(self.model, self, *args, **kwargs)

        hessian = torch.autograd.functional.hessian(neg_log_joint, loc)
        try:
            cov = torch.linalg.inv(hessian)
            scale = cov.diagonal().sqrt()
            correlation = cov / scale[:, None] / scale[None, :]
            scale_tril = torch.linalg.cholesky(correlation)
        except RuntimeError as e:
            raise ValueError(
                "laplace_approximation: the Hessian of -log p at the fitted point is not positive definite, so the "
                "point is not a mode; train the AutoLaplaceApproximation guide longer (or with a smaller learning "
                "rate) first"
            ) from e
        if not bool(torch.isfinite(scale).all()):
            raise ValueError(
                "laplace_approximation: the curvature gives non-finite scales; train the guide longer first"
            )
        gaussian = AutoMultivariateNormal(self.model, init_loc_fn=self.init_loc_fn)
        gaussian._adopt_prototype(self)
        gaussian._fixed = (loc, scale.detach(), scale_tril.detach())
        return gaussian


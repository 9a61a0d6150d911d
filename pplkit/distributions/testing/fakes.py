"""Reparameterisable families with their reparameterisation switched off.

For teaching and testing the score-function (REINFORCE) estimator: a guide that
samples from ``NonreparameterizedBeta`` gets its gradient from the score-function
term, exactly as a discrete site's would, while the density stays the Beta's.

Example::

    from pplkit.distributions.testing.fakes import NonreparameterizedBeta
    pyro.sample("f", NonreparameterizedBeta(alpha_q, beta_q), infer={"baseline": {...}})
"""

from __future__ import annotations

from ..torch import Beta, Dirichlet, Gamma, Normal

__all__ = [
    "NonreparameterizedBeta",
    "NonreparameterizedDirichlet",
    "NonreparameterizedGamma",
    "NonreparameterizedNormal",
]


class NonreparameterizedBeta(Beta):
    """A Beta whose samples carry no pathwise gradient."""

    has_rsample = False


class NonreparameterizedDirichlet(Dirichlet):
    """A Dirichlet whose samples carry no pathwise gradient."""

    has_rsample = False


class NonreparameterizedGamma(Gamma):
    """A Gamma whose samples carry no pathwise gradient."""

    has_rsample = False


class NonreparameterizedNormal(Normal):
    """A Normal whose samples carry no pathwise gradient."""

    has_rsample = False

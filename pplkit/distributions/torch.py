"""torch.distributions families with Pyro's conveniences mixed in.

Each class is torch's own class plus :class:`TorchDistributionMixin`: densities,
samplers, ``expand`` and ``kl_divergence`` are torch's, unchanged, and ``help()``
shows torch's documentation of the family.
"""

from __future__ import annotations

from torch import distributions as _torch

from .mixin import TorchDistributionMixin

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ContinuousBernoulli",
    "Dirichlet",
    "Exponential",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "StudentT",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
]


class Bernoulli(TorchDistributionMixin, _torch.Bernoulli):
    pass


class Beta(TorchDistributionMixin, _torch.Beta):
    pass


class Binomial(TorchDistributionMixin, _torch.Binomial):
    pass


class Categorical(TorchDistributionMixin, _torch.Categorical):
    pass


class Cauchy(TorchDistributionMixin, _torch.Cauchy):
    pass


class Chi2(TorchDistributionMixin, _torch.Chi2):
    pass


class ContinuousBernoulli(TorchDistributionMixin, _torch.ContinuousBernoulli):
    pass


class Dirichlet(TorchDistributionMixin, _torch.Dirichlet):
    pass


class Exponential(TorchDistributionMixin, _torch.Exponential):
    pass


class FisherSnedecor(TorchDistributionMixin, _torch.FisherSnedecor):
    pass


class Gamma(TorchDistributionMixin, _torch.Gamma):
    pass


class GeneralizedPareto(TorchDistributionMixin, _torch.GeneralizedPareto):
    pass


class Geometric(TorchDistributionMixin, _torch.Geometric):
    pass


class Gumbel(TorchDistributionMixin, _torch.Gumbel):
    pass


class HalfCauchy(TorchDistributionMixin, _torch.HalfCauchy):
    pass


class HalfNormal(TorchDistributionMixin, _torch.HalfNormal):
    pass


class Independent(TorchDistributionMixin, _torch.Independent):
    pass


class InverseGamma(TorchDistributionMixin, _torch.InverseGamma):
    pass


class Kumaraswamy(TorchDistributionMixin, _torch.Kumaraswamy):
    pass


class LKJCholesky(TorchDistributionMixin, _torch.LKJCholesky):
    pass


class Laplace(TorchDistributionMixin, _torch.Laplace):
    pass


class LogNormal(TorchDistributionMixin, _torch.LogNormal):
    pass


class LogisticNormal(TorchDistributionMixin, _torch.LogisticNormal):
    pass


class LowRankMultivariateNormal(TorchDistributionMixin, _torch.LowRankMultivariateNormal):
    pass


class MixtureSameFamily(TorchDistributionMixin, _torch.MixtureSameFamily):
    pass


class Multinomial(TorchDistributionMixin, _torch.Multinomial):
    pass


class MultivariateNormal(TorchDistributionMixin, _torch.MultivariateNormal):
    pass


class NegativeBinomial(TorchDistributionMixin, _torch.NegativeBinomial):
    pass


class Normal(TorchDistributionMixin, _torch.Normal):
    pass


class OneHotCategorical(TorchDistributionMixin, _torch.OneHotCategorical):
    pass


class OneHotCategoricalStraightThrough(TorchDistributionMixin, _torch.OneHotCategoricalStraightThrough):
    pass


class Pareto(TorchDistributionMixin, _torch.Pareto):
    pass


class Poisson(TorchDistributionMixin, _torch.Poisson):
    pass


class RelaxedBernoulli(TorchDistributionMixin, _torch.RelaxedBernoulli):
    pass


class RelaxedOneHotCategorical(TorchDistributionMixin, _torch.RelaxedOneHotCategorical):
    pass


class StudentT(TorchDistributionMixin, _torch.StudentT):
    pass


class TransformedDistribution(TorchDistributionMixin, _torch.TransformedDistribution):
    pass


class Uniform(TorchDistributionMixin, _torch.Uniform):
    pass


class VonMises(TorchDistributionMixin, _torch.VonMises):
    pass


class Weibull(TorchDistributionMixin, _torch.Weibull):
    pass


class Wishart(TorchDistributionMixin, _torch.Wishart):
    pass

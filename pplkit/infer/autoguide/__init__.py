"""Automatic guides: variational families built by tracing the model once.

``AutoNormal`` (mean-field, readable params per site), ``AutoDelta`` (MAP),
``AutoDiagonalNormal``, ``AutoMultivariateNormal`` and
``AutoLowRankMultivariateNormal`` (one packed vector of all latents), ``AutoGaussian``
(a joint Gaussian with the model's sparsity),
``AutoIAFNormal`` (a normalizing flow over that vector), ``AutoStructured`` (a chosen
conditional per site, sites shifted by others), ``AutoLaplaceApproximation``
and ``AutoGuideList`` (parts for parts of the model); ``AutoDiscreteParallel`` for
discrete sites, enumerated by ``TraceEnum_ELBO``. The messenger guides
(``AutoNormalMessenger``, ``AutoHierarchicalNormalMessenger``, ``AutoRegressiveMessenger``)
run the model themselves and swap each prior for a posterior built from it.
Each is called like the model and returns a dict of constrained samples; each has ``median()`` and ``quantiles(qs)``.
"""

from .base import AutoGuide, LatentSite
from .continuous import AutoContinuous
from .delta import AutoDelta
from .diagonal_normal import AutoDiagonalNormal
from .discrete_parallel import AutoDiscreteParallel
from .gaussian import AutoGaussian
from .guide_list import AutoCallable, AutoGuideList
from .iaf_normal import AutoIAFNormal
from .initialization import (
    InitMessenger,
    init_to_feasible,
    init_to_mean,
    init_to_median,
    init_to_sample,
    init_to_uniform,
    init_to_value,
)
from .laplace import AutoLaplaceApproximation
from .low_rank import AutoLowRankMultivariateNormal
from .messenger import AutoMessenger
from .multivariate_normal import AutoMultivariateNormal
from .normal import AutoNormal
from .normal_messenger import AutoHierarchicalNormalMessenger, AutoNormalMessenger
from .regressive_messenger import AutoRegressiveMessenger
from .structured import AutoStructured

__all__ = [
    "AutoCallable",
    "AutoContinuous",
    "AutoDelta",
    "AutoDiagonalNormal",
    "AutoDiscreteParallel",
    "AutoGaussian",
    "AutoGuide",
    "AutoGuideList",
    "AutoHierarchicalNormalMessenger",
    "AutoIAFNormal",
    "AutoLaplaceApproximation",
    "AutoLowRankMultivariateNormal",
    "AutoMessenger",
    "AutoMultivariateNormal",
    "AutoNormal",
    "AutoNormalMessenger",
    "AutoRegressiveMessenger",
    "AutoStructured",
    "InitMessenger",
    "LatentSite",
    "init_to_feasible",
    "init_to_mean",
    "init_to_median",
    "init_to_sample",
    "init_to_uniform",
    "init_to_value",
]

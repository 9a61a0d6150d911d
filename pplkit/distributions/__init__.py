"""Distributions for pplkit models, usually imported as ``dist``.

``dist.Normal``, ``dist.Gamma`` and the other families are torch.distributions with
Pyro's helpers (``.to_event``, ``.expand_by``, ``.mask``); ``Delta`` and ``Unit`` back
``deterministic`` and ``factor``. Transforms, ``biject_to`` / ``transform_to`` and
``kl_divergence`` are torch's.
"""

from torch.distributions import Distribution, biject_to, kl_divergence, register_kl, transform_to, transforms

from . import constraints, testing, util
from .delta import Delta, Unit
from .empirical import Empirical
from .masked import MaskedDistribution
from .mixin import TorchDistributionMixin
from .projected_normal import ProjectedNormal
from .stable import Stable
from .torch import *  # noqa: F401,F403
from .torch import __all__ as _torch_families
from .util import scale_and_mask, sum_rightmost

__all__ = [
    "Delta",
    "Distribution",
    "Empirical",
    "MaskedDistribution",
    "ProjectedNormal",
    "Stable",
    "TorchDistributionMixin",
    "Unit",
    "biject_to",
    "constraints",
    "kl_divergence",
    "register_kl",
    "scale_and_mask",
    "sum_rightmost",
    "transform_to",
    "testing",
    "transforms",
    "util",
    *_torch_families,
]

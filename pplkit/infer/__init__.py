"""Inference: stochastic variational inference, guides, prediction and MCMC.

The autoguides are also importable from here: pplkit only; in Pyro, and in portable
code, import them from ``pplkit.infer.autoguide`` (``pyro.infer.autoguide``).
"""

from . import autoguide, util
from .arviz import to_arviz
from .autoguide import (
    AutoDelta,
    AutoDiagonalNormal,
    AutoGuide,
    AutoGuideList,
    AutoLaplaceApproximation,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
    AutoNormal,
)
from .discrete import infer_discrete
from .elbo import ELBO, NonFiniteLossError, Trace_ELBO
from .energy_distance import EnergyDistance
from .enum import config_enumerate
from .importance import EmpiricalMarginal, Importance
from .jit_elbo import JitTrace_ELBO, JitTraceEnum_ELBO, JitTraceGraph_ELBO, JitTraceMeanField_ELBO
from .mcmc import HMC, MCMC, NUTS
from .predictive import Predictive
from .svi import SVI, StepRecord
from .trace_mean_field_elbo import TraceMeanField_ELBO
from .trace_tail_adaptive_elbo import TraceTailAdaptive_ELBO
from .traceenum_elbo import TraceEnum_ELBO
from .tracegraph_elbo import TraceGraph_ELBO
from .tracetmc_elbo import TraceTMC_ELBO
from .weighed_predictive import MHResampler, WeighedPredictive, WeighedPredictiveResults

__all__ = [
    "ELBO",
    "HMC",
    "MCMC",
    "NUTS",
    "SVI",
    "AutoDelta",
    "AutoDiagonalNormal",
    "AutoGuide",
    "AutoGuideList",
    "AutoLaplaceApproximation",
    "AutoLowRankMultivariateNormal",
    "AutoMultivariateNormal",
    "AutoNormal",
    "EmpiricalMarginal",
    "EnergyDistance",
    "Importance",
    "JitTraceEnum_ELBO",
    "JitTraceGraph_ELBO",
    "JitTraceMeanField_ELBO",
    "JitTrace_ELBO",
    "MHResampler",
    "NonFiniteLossError",
    "Predictive",
    "StepRecord",
    "TraceEnum_ELBO",
    "TraceGraph_ELBO",
    "TraceTMC_ELBO",
    "TraceMeanField_ELBO",
    "TraceTailAdaptive_ELBO",
    "Trace_ELBO",
    "WeighedPredictive",
    "WeighedPredictiveResults",
    "autoguide",
    "config_enumerate",
    "infer_discrete",
    "to_arviz",
    "util",
]

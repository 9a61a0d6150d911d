"""pplkit: a compact probabilistic programming language on PyTorch, for teaching.

The public names match Pyro's, so a model written here moves to Pyro by changing
the imports::

    import pplkit as pyro
    import pplkit.distributions as dist
"""

# Last, as in Pyro after `import pyro`: `pyro.infer.SVI` and `pyro.optim.Adam` need no extra import.
from . import distributions, handlers, infer, nn, optim, poutine
from .handlers import condition, do, markov
from .inspect import render_model
from .nn import module
from .nn.module import random_module
from .params import ParamStore, clear_param_store, get_param_store, use_param_store
from .plate import plate, plate_stack, subsample
from .primitives import deterministic, factor, param, sample
from .runtime import Message, PlateFrame, SiteKind
from .trace import Trace
from .util import enable_validation, is_validation_enabled, set_rng_seed, validation_enabled

__version__ = "0.1.0"

__all__ = [
    "Message",
    "ParamStore",
    "PlateFrame",
    "SiteKind",
    "Trace",
    "clear_param_store",
    "condition",
    "deterministic",
    "distributions",
    "do",
    "enable_validation",
    "factor",
    "get_param_store",
    "handlers",
    "infer",
    "is_validation_enabled",
    "markov",
    "module",
    "nn",
    "optim",
    "param",
    "plate",
    "plate_stack",
    "poutine",
    "random_module",
    "render_model",
    "sample",
    "set_rng_seed",
    "subsample",
    "use_param_store",
    "validation_enabled",
]

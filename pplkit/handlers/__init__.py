"""Effect handlers: each one a small class, usable as ``with h(...):`` or ``h(model, ...)``.

Also importable as ``pplkit.poutine``, Pyro's name for this module. The name
``pplkit.handlers`` is pplkit only; in Pyro, and in portable code: ``pplkit.poutine``
(``pyro.poutine``).
"""

from .block import block
from .broadcast import broadcast
from .condition import condition, uncondition
from .do import do
from .enum import enum
from .equalize import equalize
from .escape import NonlocalExit, escape
from .infer_config import infer_config
from .lift import lift
from .markov import markov
from .queue import queue
from .reparam import reparam
from .replay import replay
from .scale import mask, scale
from .seed import seed
from .substitute import substitute
from .trace import trace

__all__ = [
    "NonlocalExit",
    "block",
    "broadcast",
    "condition",
    "do",
    "enum",
    "equalize",
    "escape",
    "infer_config",
    "lift",
    "markov",
    "mask",
    "queue",
    "reparam",
    "replay",
    "scale",
    "seed",
    "substitute",
    "trace",
    "uncondition",
]

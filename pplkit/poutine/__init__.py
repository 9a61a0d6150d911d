"""Pyro's ``poutine``, with Pyro's module layout, over pplkit's handlers.

``from pplkit import poutine`` gives the lowercase handlers (``poutine.trace``,
``poutine.condition``, ...), ``poutine.Trace``, and the modules Pyro code imports
from: ``poutine.runtime`` (``effectful``, ``apply_stack``, ``am_i_wrapped``,
``get_mask``), ``poutine.messenger.Messenger`` (pplkit's ``Handler``, the one
handler base class), ``poutine.util``, ``poutine.guide`` (``GuideMessenger``), and
the ``*_messenger`` modules with Pyro's classes (``TraceMessenger``,
``ConditionMessenger``, ...), each a pplkit handler built without a function and
taking Pyro's arguments.
"""

from ..handlers import *  # noqa: F401,F403
from ..handlers import __all__ as _handlers
from ..trace import Trace
from . import (
    block_messenger,
    broadcast_messenger,
    condition_messenger,
    do_messenger,
    equalize_messenger,
    escape_messenger,
    guide,
    handlers,
    infer_config_messenger,
    lift_messenger,
    mask_messenger,
    messenger,
    plate_messenger,
    reparam_messenger,
    replay_messenger,
    runtime,
    scale_messenger,
    seed_messenger,
    substitute_messenger,
    trace_messenger,
    uncondition_messenger,
    util,
)
from .runtime import get_mask

__all__ = [
    *_handlers,
    "Trace",
    "get_mask",
    "block_messenger",
    "broadcast_messenger",
    "condition_messenger",
    "do_messenger",
    "equalize_messenger",
    "escape_messenger",
    "guide",
    "handlers",
    "infer_config_messenger",
    "lift_messenger",
    "mask_messenger",
    "messenger",
    "plate_messenger",
    "reparam_messenger",
    "replay_messenger",
    "runtime",
    "scale_messenger",
    "seed_messenger",
    "substitute_messenger",
    "trace_messenger",
    "uncondition_messenger",
    "util",
]

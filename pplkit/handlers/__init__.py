"""Effect handlers: each one a small class, usable as ``with h(...):`` or ``h(model, ...)``.

Also importable as ``pplkit.poutine``, Pyro's name for this module. The name
``pplkit.handlers`` is pplkit only; in Pyro, and in portable code: ``pplkit.poutine``
(``pyro.poutine``).
"""

from .block import block
from .condition import condition, uncondition
from .do import do
from .replay import replay
from .scale import mask, scale
from .seed import seed
from .substitute import substitute
from .trace import trace

__all__ = ["block", "condition", "do", "mask", "replay", "scale", "seed", "substitute", "trace", "uncondition"]

"""Constraints on values and parameters: torch's ``constraints`` module, re-exported.

``import pplkit.distributions.constraints as constraints`` mirrors Pyro's import.
"""

from torch.distributions.constraints import *  # noqa: F401,F403
from torch.distributions.constraints import __all__  # noqa: F401

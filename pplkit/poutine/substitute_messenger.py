"""Pyro's ``poutine.substitute_messenger``."""

from ..handlers import substitute
from .messenger import pyro_messenger

SubstituteMessenger = pyro_messenger(substitute, "SubstituteMessenger", ("data", "substitute_fn"))

__all__ = ["SubstituteMessenger"]

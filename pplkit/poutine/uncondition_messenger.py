"""Pyro's ``poutine.uncondition_messenger``."""

from ..handlers import uncondition
from .messenger import pyro_messenger

UnconditionMessenger = pyro_messenger(uncondition, "UnconditionMessenger", ())

__all__ = ["UnconditionMessenger"]

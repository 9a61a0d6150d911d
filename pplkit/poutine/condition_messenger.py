"""Pyro's ``poutine.condition_messenger``."""

from ..handlers import condition
from .messenger import pyro_messenger

ConditionMessenger = pyro_messenger(condition, "ConditionMessenger", ("data",))

__all__ = ["ConditionMessenger"]

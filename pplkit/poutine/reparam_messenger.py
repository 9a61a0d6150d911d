"""Pyro's ``poutine.reparam_messenger``."""

from ..handlers import reparam
from .messenger import pyro_messenger

ReparamMessenger = pyro_messenger(reparam, "ReparamMessenger", ("config",))

__all__ = ["ReparamMessenger"]

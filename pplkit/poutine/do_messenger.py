"""Pyro's ``poutine.do_messenger``."""

from ..handlers import do
from .messenger import pyro_messenger

DoMessenger = pyro_messenger(do, "DoMessenger", ("data",))

__all__ = ["DoMessenger"]

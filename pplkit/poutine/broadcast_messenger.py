"""Pyro's ``poutine.broadcast_messenger``."""

from ..handlers import broadcast
from .messenger import pyro_messenger

BroadcastMessenger = pyro_messenger(broadcast, "BroadcastMessenger", ())

__all__ = ["BroadcastMessenger"]

"""Pyro's ``poutine.lift_messenger``."""

from ..handlers import lift
from .messenger import pyro_messenger

LiftMessenger = pyro_messenger(lift, "LiftMessenger", ("prior",))

__all__ = ["LiftMessenger"]

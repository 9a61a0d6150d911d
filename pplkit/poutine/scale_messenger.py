"""Pyro's ``poutine.scale_messenger``."""

from ..handlers import scale
from .messenger import pyro_messenger

ScaleMessenger = pyro_messenger(scale, "ScaleMessenger", ("scale",))

__all__ = ["ScaleMessenger"]

"""Pyro's ``poutine.equalize_messenger``."""

from ..handlers import equalize
from .messenger import pyro_messenger

EqualizeMessenger = pyro_messenger(equalize, "EqualizeMessenger", ("sites", "type", "keep_dist"))

__all__ = ["EqualizeMessenger"]

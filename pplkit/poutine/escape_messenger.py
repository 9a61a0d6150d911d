"""Pyro's ``poutine.escape_messenger``."""

from ..handlers import escape
from .messenger import pyro_messenger

EscapeMessenger = pyro_messenger(escape, "EscapeMessenger", ("escape_fn",))

__all__ = ["EscapeMessenger"]

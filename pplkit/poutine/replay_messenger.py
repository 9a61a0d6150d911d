"""Pyro's ``poutine.replay_messenger``."""

from ..handlers import replay
from .messenger import pyro_messenger

ReplayMessenger = pyro_messenger(replay, "ReplayMessenger", ("trace", "params"))

__all__ = ["ReplayMessenger"]

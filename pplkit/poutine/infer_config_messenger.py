"""Pyro's ``poutine.infer_config_messenger``."""

from ..handlers import infer_config
from .messenger import pyro_messenger

InferConfigMessenger = pyro_messenger(infer_config, "InferConfigMessenger", ("config_fn",))

__all__ = ["InferConfigMessenger"]

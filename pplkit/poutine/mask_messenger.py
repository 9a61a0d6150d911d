"""Pyro's ``poutine.mask_messenger``."""

from ..handlers import mask
from .messenger import pyro_messenger

MaskMessenger = pyro_messenger(mask, "MaskMessenger", ("mask",))

__all__ = ["MaskMessenger"]

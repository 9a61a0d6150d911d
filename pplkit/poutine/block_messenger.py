"""Pyro's ``poutine.block_messenger``."""

from ..handlers import block
from .messenger import pyro_messenger

BlockMessenger = pyro_messenger(
    block, "BlockMessenger", ("hide_fn", "expose_fn", "hide", "expose", "hide_types", "expose_types")
)

__all__ = ["BlockMessenger"]

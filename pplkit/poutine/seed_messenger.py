"""Pyro's ``poutine.seed_messenger``."""

from ..handlers import seed
from .messenger import pyro_messenger

SeedMessenger = pyro_messenger(seed, "SeedMessenger", ("rng_seed",))

__all__ = ["SeedMessenger"]

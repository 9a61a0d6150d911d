"""Distributions for testing inference, as Pyro's ``pyro.distributions.testing``."""

from . import fakes

__all__ = ["fakes"]

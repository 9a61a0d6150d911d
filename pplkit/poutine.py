"""Pyro's name for :mod:`pplkit.handlers`: ``from pplkit import poutine`` works as in Pyro."""

from .handlers import *  # noqa: F401,F403
from .handlers import __all__  # noqa: F401

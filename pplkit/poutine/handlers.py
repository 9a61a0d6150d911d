"""Pyro's ``poutine.handlers``: the lowercase handlers, as in :mod:`pplkit.handlers`."""

from ..handlers import *  # noqa: F401,F403
from ..handlers import __all__  # noqa: F401

"""The path tutorial 02 and the README import; the module is :mod:`widgets.training.convergence`."""

from __future__ import annotations

from .training.convergence import MIN_WINDOW, Convergence, assess

__all__ = ["Convergence", "assess", "MIN_WINDOW"]

"""Numerical helpers at Pyro's paths (``pyro.ops``)."""

from . import stats

__all__ = ["stats"]

"""Numerical helpers at Pyro's paths (``pyro.ops``)."""

from . import indexing, stats

__all__ = ["indexing", "stats"]

"""Numerical helpers at Pyro's paths (``pyro.ops``)."""

from . import gaussian, indexing, stats

__all__ = ["gaussian", "indexing", "stats"]

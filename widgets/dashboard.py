"""The path the Voila demo and docs/classroom.md import; the module is :mod:`widgets.explorer.dashboard`."""

from __future__ import annotations

from .explorer.dashboard import PageWatch, dashboard

__all__ = ["PageWatch", "dashboard"]

"""Fixtures for the autoguide tests."""

from __future__ import annotations

from ..conjugate import single_torch_thread  # noqa: F401  (autouse)

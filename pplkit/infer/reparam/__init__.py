"""Reparameterisers for ``poutine.reparam``: the same model, written in other coordinates."""

from .loc_scale import LocScaleReparam
from .reparam import Reparam, ReparamMessage, ReparamResult

__all__ = ["LocScaleReparam", "Reparam", "ReparamMessage", "ReparamResult"]

"""Reparameterisers for ``poutine.reparam``: the same model, written in other coordinates."""

from .loc_scale import LocScaleReparam
from .projected_normal import ProjectedNormalReparam
from .reparam import Reparam, ReparamMessage, ReparamResult
from .stable import LatentStableReparam

__all__ = [
    "LatentStableReparam",
    "LocScaleReparam",
    "ProjectedNormalReparam",
    "Reparam",
    "ReparamMessage",
    "ReparamResult",
]

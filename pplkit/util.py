"""Global switches: validation and random seeds."""

from __future__ import annotations

import random

import torch
from torch.distributions import Distribution

__all__ = ["enable_validation", "is_validation_enabled", "set_rng_seed"]

_VALIDATION = {"enabled": True}


def enable_validation(is_validate: bool = True) -> None:
    """Check distribution parameters and sample supports (on by default, as in Pyro).

    Turning it off saves a little time per step once a model is known to be right.
    """
    _VALIDATION["enabled"] = bool(is_validate)
    Distribution.set_default_validate_args(bool(is_validate))


def is_validation_enabled() -> bool:
    return _VALIDATION["enabled"]


def set_rng_seed(rng_seed: int) -> None:
    """Seed torch, Python's ``random`` and (if installed) NumPy."""
    torch.manual_seed(rng_seed)
    random.seed(rng_seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(rng_seed % 2**32)

"""Global switches: validation and random seeds."""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager
from typing import Iterator

import torch
from torch.distributions import Distribution

__all__ = ["enable_validation", "is_validation_enabled", "set_rng_seed", "validation_disabled"]

_VALIDATION = {"enabled": True}


class _ValidationOverride(threading.local):
    value: bool | None = None


_OVERRIDE = _ValidationOverride()


def enable_validation(is_validate: bool = True) -> None:
    """Check distribution parameters and sample supports (on by default, as in Pyro).

    Turning it off saves a little time per step once a model is known to be right.
    """
    _VALIDATION["enabled"] = bool(is_validate)
    Distribution.set_default_validate_args(bool(is_validate))


def is_validation_enabled() -> bool:
    return _VALIDATION["enabled"]


@contextmanager
def validation_disabled() -> Iterator[None]:
    """Skip distribution argument and support checks in this thread, inside the block.

    MCMC uses it (its trajectories may pass points where a check would raise, and the
    checks are a noticeable share of each gradient), and so does drawing a model. The
    switch is per thread, so a sampler in a widget's background thread never turns
    the checks off for the notebook's own thread. It covers pplkit's distributions;
    classes taken straight from ``torch.distributions`` follow torch's global setting.
    """
    saved = _OVERRIDE.value
    _OVERRIDE.value = False
    try:
        yield
    finally:
        _OVERRIDE.value = saved


def default_validate_args() -> bool:
    """Whether a new pplkit distribution checks its arguments in this thread."""
    value = _OVERRIDE.value
    return bool(Distribution._validate_args) if value is None else value


def set_rng_seed(rng_seed: int) -> None:
    """Seed torch, Python's ``random`` and (if installed) NumPy."""
    torch.manual_seed(rng_seed)
    random.seed(rng_seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(rng_seed % 2**32)

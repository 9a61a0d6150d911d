"""Global switches (validation and random seeds), writing a file atomically, and Pyro's ``pyro.util`` names."""

from __future__ import annotations

import functools
import math
import os
import random
import secrets
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import torch
from torch.distributions import Distribution

__all__ = [
    "check_model_guide_match",
    "enable_validation",
    "is_validation_enabled",
    "optional",
    "set_rng_seed",
    "validation_disabled",
    "validation_enabled",
    "write_atomically",
]

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
    """Whether validation is on. pplkit only at this path; in Pyro: ``pyro.infer.util.is_validation_enabled``."""
    return _VALIDATION["enabled"]


@contextmanager
def validation_enabled(is_validate: bool = True) -> Iterator[None]:
    """Turn validation on (or off) inside the block, as ``enable_validation`` does, then restore it.

    Pyro's context manager of the same name; it sets the global switch, so it affects
    every thread while the block runs (``validation_disabled`` is the per-thread one).

    Example::

        with validation_enabled(False):
            svi.step(data)
    """
    saved_pplkit, saved_torch = _VALIDATION["enabled"], bool(Distribution._validate_args)
    enable_validation(is_validate)
    try:
        yield
    finally:
        _VALIDATION["enabled"] = saved_pplkit
        Distribution.set_default_validate_args(saved_torch)


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


F = TypeVar("F", bound=Callable[..., Any])


def one_random_draw(fn: F) -> F:
    """Mark ``fn``, which draws random tensors from non-tensor arguments, as one draw.

    A compiled ELBO (:mod:`pplkit.infer.random_draws`) then draws it whole, eagerly,
    ahead of its graph, instead of tracing the torch calls inside it (a subsample's
    ``unique`` and its top-up loop have data-dependent shapes no graph can hold). Outside
    a torch function mode it is ``fn`` itself, at the cost of one check.
    """

    @functools.wraps(fn)
    def draw(*args: Any, **kwargs: Any) -> Any:
        if torch._C._is_torch_function_mode_enabled():
            return torch.overrides.handle_torch_function(draw, (), *args, **kwargs)
        return fn(*args, **kwargs)

    draw.pplkit_one_draw = True  # type: ignore[attr-defined]
    return draw  # type: ignore[return-value]


def set_rng_seed(rng_seed: int) -> None:
    """Seed torch, Python's ``random`` and (if installed) NumPy."""
    torch.manual_seed(rng_seed)
    random.seed(rng_seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(rng_seed % 2**32)


def check_model_guide_match(model_trace: Any, guide_trace: Any, max_plate_nesting: float = math.inf) -> None:
    """Raise ValueError where a model's and a guide's traces disagree on a site's event dims or shape.

    Pyro's ``pyro.util.check_model_guide_match``; the checks live in
    :mod:`pplkit.infer.model_guide_match` (imported here on call: ``infer`` imports this module).

    Example::

        check_model_guide_match(poutine.trace(model).get_trace(), poutine.trace(guide).get_trace())
    """
    # Absolute: this module is also reached as ``pyro.util`` when pplkit stands in for Pyro.
    from pplkit.infer.model_guide_match import check_model_guide_match as check

    check(model_trace, guide_trace, max_plate_nesting)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of one.

    The bytes go to a temporary file in the same folder (a rename within one file system
    is atomic), reach the disk (fsync), and the file then replaces ``path``. It is created
    with mode 0o666 less the umask, like any file a program writes, not the private 0o600
    of ``tempfile.mkstemp``. On any error the temporary file is removed and ``path`` is
    left as it was.

    Example::

        write_atomically("model.gv", digraph.source.encode())
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write into a file that someone else made; O_BINARY: no newline translation on Windows.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    handle = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class optional:
    """Enter ``context_manager`` only when ``condition`` is true, as ``pyro.util.optional``.

    Example::

        with optional(plate("data", 3), batched):
            sample("x", dist.Normal(0.0, 1.0))   # in the plate only when batched
    """

    def __init__(self, context_manager: Any, condition: bool) -> None:
        self.context_manager = context_manager
        self.condition = condition

    def __enter__(self) -> Any:
        return self.context_manager.__enter__() if self.condition else None

    def __exit__(self, *exc: Any) -> Any:
        return self.context_manager.__exit__(*exc) if self.condition else None


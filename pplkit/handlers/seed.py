"""``seed``: run with a fixed random seed, restoring the global RNG state afterwards."""

from __future__ import annotations

import random
from typing import Any, Callable

import torch

from ..runtime import Handler
from ..util import set_rng_seed


class seed(Handler):
    """Seed torch, ``random`` and NumPy on entry; restore their previous states on exit.

    Example::

        with seed(rng_seed=0):
            x = model()
    """

    def __init__(self, fn: Callable[..., Any] | None = None, rng_seed: int | None = None) -> None:
        super().__init__(fn)
        if not isinstance(rng_seed, int):
            raise TypeError(f"seed needs rng_seed= as an int, got {rng_seed!r}")
        self.rng_seed = rng_seed
        self._saved: tuple[Any, ...] = ()

    def __enter__(self) -> seed:
        self._saved = (torch.get_rng_state(), random.getstate(), _numpy_state())
        set_rng_seed(self.rng_seed)
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        torch_state, py_state, np_state = self._saved
        torch.set_rng_state(torch_state)
        random.setstate(py_state)
        if np_state is not None:
            import numpy as np

            np.random.set_state(np_state)


def _numpy_state() -> Any:
    try:
        import numpy as np
    except ImportError:
        return None
    return np.random.get_state()

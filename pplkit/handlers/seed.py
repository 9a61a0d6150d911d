"""``seed``: run with a fixed random seed, restoring the global RNG state afterwards."""

from __future__ import annotations

import random
from typing import Any, Callable

import torch

from ..runtime import Handler


class seed(Handler):
    """Seed torch, ``random`` and NumPy on entry; restore their previous states on exit.

    Torch's draws inside the block are those after ``pplkit.set_rng_seed(rng_seed)``. The
    block seeds and restores the CPU generator, and the CUDA generators when CUDA is
    initialised on entry (for seeded CUDA draws, start CUDA first, e.g. by moving the
    data there). It does not call ``torch.manual_seed``: before CUDA starts, that queues
    the seed for it with a formatted stack trace, which costs more than drawing a small model.

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
        # CUDA's generators exist only once CUDA is initialised; until then no draw can use them.
        cuda = torch.cuda.is_initialized()
        np = _numpy()
        self._saved = (
            torch.default_generator.get_state(),
            torch.cuda.get_rng_state_all() if cuda else None,
            random.getstate(),
            np.random.get_state() if np is not None else None,
        )
        torch.default_generator.manual_seed(self.rng_seed)
        if cuda:
            torch.cuda.manual_seed_all(self.rng_seed)
        random.seed(self.rng_seed)
        if np is not None:
            np.random.seed(self.rng_seed % 2**32)
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        cpu_state, cuda_states, py_state, np_state = self._saved
        torch.default_generator.set_state(cpu_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        random.setstate(py_state)
        if np_state is not None:
            _numpy().random.set_state(np_state)  # type: ignore[union-attr]


def _numpy() -> Any:
    try:
        import numpy as np
    except ImportError:
        return None
    return np

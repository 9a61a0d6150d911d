"""``LatentStableReparam`` at Pyro's path, not implemented in pplkit (it has no ``Stable`` distribution)."""

from __future__ import annotations

from typing import Any

__all__ = ["LatentStableReparam"]


class LatentStableReparam:
    """Not implemented in pplkit: raises ``NotImplementedError``, so Pyro code naming it still imports."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "LatentStableReparam is not implemented in pplkit, which has no Stable distribution; "
            "run models with Stable likelihoods under Pyro itself"
        )

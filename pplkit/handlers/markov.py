"""``markov``: a chain whose step ``t`` depends only on the ``history`` steps before it.

Inside ``for t in markov(range(T)):``, an enumerated site of step ``t`` may reuse the
enumeration dim of a site of step ``t - history - 1``, which no later step can see, so
a chain of any length needs only ``history + 1`` dims per site, as in Pyro. Used as
``with markov():`` it marks one step.

Note: ``TraceEnum_ELBO`` in pplkit sums enumerated dims out by a plate-aware
contraction that needs one dim per variable; it refuses traces where two variables
share a dim, rather than give a wrong answer.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from ..runtime import Handler

__all__ = ["markov"]


class markov(Handler):
    """Mark a Markov chain so that enumeration reuses dims across steps.

    Args:
        fn: an iterable of steps (``markov(range(T))``) or None for a context.
        history: how many earlier steps a step depends on.

    Example::

        for t in markov(range(len(data))):
            x = sample(f"x_{t}", dist.Categorical(probs[x]), infer={"enumerate": "parallel"})
    """

    def __init__(
        self, fn: Iterable[Any] | Callable[..., Any] | None = None, history: int = 1, keep: bool = False
    ) -> None:
        if not isinstance(history, int) or history < 0:
            raise ValueError(f"markov: history must be a non-negative int, got {history!r}")
        iterable = None if fn is None or callable(fn) else fn
        super().__init__(fn if callable(fn) else None)
        self.iterable = iterable
        self.history = history
        self.keep = keep
        self.step = 0
        self._dims: dict[tuple[int, int], list[int]] = {}  # (enum handler id, step) -> dims it allocated
        self._reused: dict[tuple[int, int], int] = {}  # how many of an old step's dims this step took

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("markov(...) is iterable only when given an iterable, e.g. markov(range(T))")
        for step, item in enumerate(self.iterable):
            self.step = step
            with self:
                yield item

    def reusable_dim(self, owner: object) -> int | None:
        """A dim allocated ``history + 1`` steps ago by ``owner`` and not yet reused this step."""
        if self.keep:
            return None
        old = (id(owner), self.step - self.history - 1)
        dims = self._dims.get(old, [])
        taken = self._reused.get((id(owner), self.step), 0)
        if taken < len(dims):
            self._reused[(id(owner), self.step)] = taken + 1
            self._dims.setdefault((id(owner), self.step), []).append(dims[taken])
            return dims[taken]
        return None

    def record_dim(self, owner: object, dim: int) -> None:
        self._dims.setdefault((id(owner), self.step), []).append(dim)

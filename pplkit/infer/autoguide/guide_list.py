"""``AutoGuideList``: one guide made of parts, each covering some of the model's latent sites.

Each part is an autoguide of the model with the other sites blocked (or any callable
guide, wrapped in :class:`AutoCallable`). The list draws the model's plates once per
call and lends them to its parts, so that two parts inside one subsampled plate see
the same subsample. Parts are submodules ``0``, ``1``, ...; their params are named
``AutoGuideList.0.loc`` and so on, as Pyro's.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterator, Sequence

import torch

from ...runtime import SiteKind
from .base import AutoGuide

__all__ = ["AutoCallable", "AutoGuideList"]


class AutoCallable(AutoGuide):
    """An autoguide wrapper around a plain guide function, so that it can be a part of a list.

    Args:
        model: the model.
        guide: a guide function; its return value (a dict of samples, or None) is the result.
        median: optionally, a function returning the guide's medians.
    """

    def __init__(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        median: Callable[..., dict[str, torch.Tensor]] | None = None,
    ) -> None:
        super().__init__(model)
        self._guide = (guide,)  # in a tuple: a guide that is itself a module stays out of the tree
        self._median = median

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        result = self._guide[0](*args, **kwargs)
        return {} if result is None else result

    forward = __call__

    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        return {} if self._median is None else self._median(*args, **kwargs)

    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        return {}


class AutoGuideList(AutoGuide):
    """A guide made of parts: each an autoguide (or guide function) for some of the latent sites.

    Example::

        guide = AutoGuideList(model)
        guide.append(AutoDiagonalNormal(block(model, hide=["z"])))
        guide.append(AutoDelta(block(model, expose=["z"])))
        guide[0]                # the first part
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    """

    def __init__(self, model: Callable[..., Any], *, create_plates: Any = None) -> None:
        super().__init__(model, create_plates=create_plates)
        self._parts: list[AutoGuide] = []

    def __setattr__(self, name: str, value: Any) -> None:
        # As in Pyro, `guides.custom = SomeGuide(model)` adds a part named "custom".
        if isinstance(value, AutoGuide) and "_parts" in self.__dict__ and not name.startswith("_"):
            self._add_part(name, value)
        else:
            super().__setattr__(name, value)

    def append(self, part: AutoGuide | Callable[..., Any]) -> None:
        """Add a guide for part of the model; no two parts may sample the same site."""
        self._add_part(str(len(self._parts)), part)

    def _add_part(self, name: str, part: AutoGuide | Callable[..., Any]) -> None:
        if not isinstance(part, AutoGuide):
            part = AutoCallable(self.model, part)
        if any(part is p for p in self._parts) or part._pyro_name != type(part).__name__:
            raise RuntimeError(f"{type(part).__name__} is already a part of an AutoGuideList")
        if part.prototype_trace is not None:
            raise RuntimeError(
                f"{type(part).__name__} has already run, so its params are named {part.prefix}.*; append a fresh "
                "guide, whose params are then named after its place in the list"
            )
        self.add_module(name, part)  # renames the part: AutoGuideList.<name>
        part._parent = (self,)
        self._parts.append(part)

    def add(self, part: AutoGuide | Callable[..., Any]) -> None:
        """Deprecated alias for :meth:`append`, as in Pyro."""
        warnings.warn("AutoGuideList.add is deprecated; use append", DeprecationWarning, stacklevel=2)
        self.append(part)

    def __getitem__(self, index: int) -> AutoGuide:
        return self._parts[index]

    def __len__(self) -> int:
        return len(self._parts)

    def __iter__(self) -> Iterator[AutoGuide]:
        return iter(self._parts)

    def _setup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # The list needs only the model's plates; its parts describe the sites (some may be discrete).
        with self._setup_lock:
            if self.prototype_trace is not None:
                return
            prototype = self._trace_model_once(args, kwargs)
            self._plate_frames = {
                f.name: f
                for msg in prototype.nodes.values()
                if msg.kind is SiteKind.SAMPLE and not msg.is_observed
                for f in msg.cond_indep_stack
                if f.dim is not None
            }
            self.prototype_trace = prototype

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        with self._pyro_context:  # shared with the parts: PyroSamples are drawn once per call
            if self.prototype_trace is None:
                self._setup(args, kwargs)
            plates = self._create_plates(args, kwargs)
            result: dict[str, torch.Tensor] = {}
            for part in self._parts:
                part._shared_plates = plates
                try:
                    result.update(part(*args, **kwargs))
                finally:
                    part._shared_plates = None
            return result

    forward = __call__

    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The posterior medians of all parts."""
        result: dict[str, torch.Tensor] = {}
        for part in self._parts:
            result.update(part.median(*args, **kwargs))
        return result

    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """The posterior quantiles of all parts."""
        result: dict[str, torch.Tensor] = {}
        for part in self._parts:
            result.update(part.quantiles(quantiles, *args, **kwargs))
        return result

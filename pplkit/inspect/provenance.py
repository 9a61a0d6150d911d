"""Provenance tracking: which sites' values flowed into a tensor.

While a model runs for drawing, every site's value is handed to the model as a
:class:`ProvenanceTensor` carrying the set ``{site name}``. Each torch op on such
tensors returns a ProvenanceTensor carrying the union of its inputs' sets, so a
distribution built from ``a + b * x`` holds tensors that remember ``{"a", "b"}``.
Those sets are the edges of the model's graph: they come from what the program
actually computed, not from names or shapes.

Only direct dependencies are recorded: a site's own value is re-tagged with just its
name, so ``c ~ Normal(b, 1)`` with ``b ~ Normal(a, 1)`` gives ``b -> c``, not ``a -> c``.

Example::

    a = tag(torch.tensor(1.0), "a")
    b = tag(torch.tensor(2.0), "b")
    assert provenance_of(a * b + 3.0) == {"a", "b"}
"""

from __future__ import annotations

from typing import Any

import torch
from torch._C import DisableTorchFunctionSubclass
from torch.distributions import Distribution
from torch.distributions.constraints import Constraint
from torch.distributions.transforms import Transform

__all__ = ["ProvenanceTensor", "provenance_of", "tag", "untag"]

_NOTHING: frozenset[str] = frozenset()

# Ops that only read metadata: answered without the bookkeeping below, since
# distribution code asks for shapes far more often than it computes.
_METADATA_OPS = frozenset(
    {
        torch.Tensor.shape.__get__,  # type: ignore[attr-defined]
        torch.Tensor.dtype.__get__,  # type: ignore[attr-defined]
        torch.Tensor.device.__get__,  # type: ignore[attr-defined]
        torch.Tensor.ndim.__get__,  # type: ignore[attr-defined]
        torch.Tensor.dim,
        torch.Tensor.size,
        torch.Tensor.numel,
        torch.Tensor.__len__,
    }
)


class ProvenanceTensor(torch.Tensor):
    """A tensor that carries ``provenance``: the names of the sites it was computed from.

    Create one with :func:`tag`; read the set with :func:`provenance_of`.
    """

    provenance: frozenset[str]

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        with DisableTorchFunctionSubclass():
            out = func(*args, **kwargs)
        if func in _METADATA_OPS:
            return out
        sources = _collect(args, _collect(kwargs.values(), _NOTHING))
        if not sources:
            return out
        if out is None or (args and out is args[0]):
            # An in-place op (x.add_(y), x[i] = y) writes into its first argument.
            first = args[0] if args else None
            if isinstance(first, ProvenanceTensor):
                first.provenance = first.provenance | sources
            return out
        return _attach(out, sources)

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        with DisableTorchFunctionSubclass():
            text = torch.Tensor.__repr__(self)
        return f"{text} (from {sorted(self.provenance)})"


def _collect(items: Any, sources: frozenset[str]) -> frozenset[str]:
    """``sources`` plus the provenance of the tensors among ``items`` (one list level deep)."""
    for item in items:
        if isinstance(item, ProvenanceTensor):
            sources = sources | item.provenance
        elif isinstance(item, (list, tuple)):
            for inner in item:
                if isinstance(inner, ProvenanceTensor):
                    sources = sources | inner.provenance
    return sources


def _attach(out: Any, sources: frozenset[str]) -> Any:
    if isinstance(out, torch.Tensor):
        # A view of a ProvenanceTensor may come back as one without the attribute set.
        earlier = getattr(out, "provenance", _NOTHING)
        tagged = out.as_subclass(ProvenanceTensor)
        tagged.provenance = sources | earlier
        return tagged
    if isinstance(out, list):
        return [_attach(x, sources) for x in out]
    if isinstance(out, tuple):
        items = [_attach(x, sources) for x in out]
        # torch.return_types (from max, sort, ...) rebuild from a list; plain tuples too.
        return type(out)(items) if type(out) is not tuple else tuple(items)
    return out


def tag(value: torch.Tensor, name: str) -> ProvenanceTensor:
    """``value`` as a ProvenanceTensor that comes from site ``name`` alone."""
    tagged = untag(value).as_subclass(ProvenanceTensor)
    tagged.provenance = frozenset((name,))
    return tagged


def untag(value: torch.Tensor) -> torch.Tensor:
    """``value`` as a plain tensor (the same storage), forgetting its provenance."""
    if isinstance(value, ProvenanceTensor):
        return value.as_subclass(torch.Tensor)
    return value


def provenance_of(obj: Any, _depth: int = 0) -> frozenset[str]:
    """The names of the sites that ``obj`` was computed from.

    ``obj`` may be a tensor, a distribution (its parameters, base distributions and
    transforms are searched), a transform, a constraint, or a list, tuple or dict of
    these. Anything else has no provenance.
    """
    if isinstance(obj, torch.Tensor):
        return obj.provenance if isinstance(obj, ProvenanceTensor) else _NOTHING
    if _depth > 12:  # distributions nest a few levels; this only stops cycles
        return _NOTHING
    if isinstance(obj, (Distribution, Transform, Constraint)):
        return _union(vars(obj).values(), _depth)
    if isinstance(obj, (list, tuple)):
        return _union(obj, _depth)
    if isinstance(obj, dict):
        return _union(obj.values(), _depth)
    return _NOTHING


def _union(items: Any, depth: int) -> frozenset[str]:
    sources = _NOTHING
    for item in items:
        if isinstance(item, (torch.Tensor, Distribution, Transform, Constraint, list, tuple, dict)):
            sources = sources | provenance_of(item, depth + 1)
    return sources

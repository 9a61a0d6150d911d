"""Pyro's ``poutine.plate_messenger``: ``PlateMessenger`` (pplkit's ``plate``) and ``block_plate``."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..plate import plate
from ..runtime import get_handler_stack, handlers_removed

__all__ = ["PlateMessenger", "block_plate"]

PlateMessenger = plate


@contextmanager
def block_plate(name: str | None = None, dim: int | None = None, *, strict: bool = True) -> Iterator[None]:
    """Step outside one enclosing plate for a block, as Pyro's ``block_plate``.

    Args:
        name: the plate's name, or
        dim: its (negative) dim; give exactly one of the two.
        strict: raise ValueError when no enclosing plate matches.

    Sites in the block are outside that plate: a global drawn lazily inside a plate,
    say::

        with plate("data", len(data)):
            with block_plate("data"):
                scale = sample("scale", dist.LogNormal(0.0, 1.0))   # one value, not one per row
            sample("x", dist.Normal(loc, scale), obs=data)
    """
    if (name is None) == (dim is None):
        raise ValueError("block_plate: give exactly one of name= or dim=, e.g. block_plate('data')")
    if dim is not None and (not isinstance(dim, int) or dim >= 0):
        raise ValueError(f"block_plate: dim must be a negative int, got {dim!r}")
    matched = [
        h
        for h in get_handler_stack()
        if isinstance(h, plate) and (h.name == name if name is not None else h.dim == dim)
    ]
    if not matched and strict:
        active = [h.name for h in get_handler_stack() if isinstance(h, plate)]
        what = f"name={name!r}" if name is not None else f"dim={dim}"
        # Pyro's words ("block_plate matched 0 messengers") first, then what is there.
        raise ValueError(
            f"block_plate matched 0 messengers: no enclosing plate has {what} (the enclosing plates are "
            f"{active or 'none'}); call block_plate inside that plate, or pass strict=False"
        )
    with handlers_removed(matched):
        yield

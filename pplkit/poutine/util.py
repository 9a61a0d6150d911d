"""Pyro's ``poutine.util``: helpers on traces."""

from __future__ import annotations

from ..runtime import Message, SiteKind
from ..trace import Trace

__all__ = ["prune_subsample_sites", "site_is_subsample"]


def site_is_subsample(site: Message) -> bool:
    """True for a plate's subsample draw (Pyro files these as sample sites)."""
    return site.kind is SiteKind.PLATE


def prune_subsample_sites(trace: Trace) -> Trace:
    """A copy of ``trace`` without the plates' subsample sites.

    Example::

        tr = prune_subsample_sites(poutine.trace(model).get_trace(x))
        list(tr.nodes)      # sample and param sites only
    """
    pruned = trace.copy()
    pruned.nodes = {name: site for name, site in pruned.nodes.items() if not site_is_subsample(site)}
    return pruned

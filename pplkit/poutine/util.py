"""Pyro's ``poutine.util``: helpers on traces."""

from __future__ import annotations

from ..runtime import Message, SiteKind
from ..trace import Trace

__all__ = ["all_escape", "discrete_escape", "prune_subsample_sites", "site_is_subsample"]


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


def all_escape(trace: Trace, msg: Message) -> bool:
    """For ``escape(fn, escape_fn=functools.partial(all_escape, trace))``: stop at a latent site not in ``trace``.

    Pyro uses it (with ``queue``) to run a model once per extension of a partial trace.
    """
    return msg.kind is SiteKind.SAMPLE and not msg.is_observed and msg.name not in trace


def discrete_escape(trace: Trace, msg: Message) -> bool:
    """As :func:`all_escape`, for discrete latent sites only (those with ``enumerate_support``)."""
    return all_escape(trace, msg) and bool(getattr(msg.fn, "has_enumerate_support", False))

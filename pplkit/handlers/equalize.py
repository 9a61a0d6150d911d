"""``equalize``: make several sites share one value, the value of the first of them."""

from __future__ import annotations

import re
from typing import Any, Callable

import torch

from ..distributions import Delta
from ..runtime import Handler, Message, SiteKind

__all__ = ["equalize"]

_KINDS = {"sample": SiteKind.SAMPLE, "param": SiteKind.PARAM}


class equalize(Handler):
    """Give every site whose name matches ``sites`` the value of the first such site, as Pyro's.

    Args:
        sites: a name or a list of names; each is a regular expression matched against
            the whole site name.
        type: ``"sample"`` (default) or ``"param"``: which kind of site to equalize.
        keep_dist: for sample sites, keep the later sites' distributions and observe
            them at the shared value (conditioning on equality) instead of replacing
            them by an unscored point mass.

    Example::

        shared_std = equalize(model, ".+_std")                 # one std for every category
        same_xy = equalize(model, ["x", "y"], keep_dist=True)   # condition on x == y
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        sites: str | list[str] | None = None,
        type: str = "sample",
        keep_dist: bool = False,
    ) -> None:
        super().__init__(fn)
        if sites is None:
            raise TypeError("equalize needs sites= as a site name or a list of names (regular expressions)")
        if type not in _KINDS:
            raise ValueError(f"equalize: type must be 'sample' or 'param', got {type!r}")
        self.patterns = [re.compile(s) for s in ([sites] if isinstance(sites, str) else sites)]
        self.kind = _KINDS[type]
        self.keep_dist = keep_dist
        self.value: torch.Tensor | None = None

    def __enter__(self) -> equalize:
        self.value = None  # each run shares the value of its own first site
        return super().__enter__()

    def _matches(self, msg: Message) -> bool:
        return msg.kind is self.kind and any(p.fullmatch(msg.name) for p in self.patterns)

    def process(self, msg: Message) -> None:
        if self.value is None or not self._matches(msg):
            return
        msg.value = self.value
        if msg.kind is SiteKind.SAMPLE:
            msg.is_observed = True
            if not self.keep_dist:
                # A copy, not a random variable: a point mass that adds nothing to the density.
                msg.fn = Delta(self.value, event_dim=len(msg.fn.event_shape)).mask(False)
                msg.infer = {"_deterministic": True}
        else:
            msg.done = True

    def postprocess(self, msg: Message) -> None:
        if self.value is None and self._matches(msg):
            self.value = msg.value

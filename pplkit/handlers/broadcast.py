"""``broadcast``: expand sites' distributions to the sizes of the plates they sit in."""

from __future__ import annotations

from ..plate import broadcast_to_plates
from ..runtime import Handler, Message, SiteKind


class broadcast(Handler):
    """Expand each sample site's distribution to its vectorised plates' sizes.

    pplkit's plates already do this for the sites inside them (as Pyro's do), so
    ``broadcast`` matters only for a distribution that a handler between the plates
    and ``broadcast`` replaced. It is here so that Pyro code using it runs unchanged.

    Example::

        with broadcast(), plate("data", 3):
            x = sample("x", dist.Normal(0.0, 1.0))   # x.shape == (3,)
    """

    def process(self, msg: Message) -> None:
        if msg.kind is SiteKind.SAMPLE and msg.fn is not None and hasattr(msg.fn, "expand"):
            broadcast_to_plates(msg)

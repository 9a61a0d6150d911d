"""``reparam``: rewrite chosen sample sites with a reparameteriser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..runtime import Handler, Message, SiteKind

if TYPE_CHECKING:
    from ..infer.reparam import Reparam

Config = Mapping[str, "Reparam"] | Callable[[Message], "Reparam | None"]


class reparam(Handler):
    """Give the sample sites named in ``config`` a reparameteriser, e.g. ``LocScaleReparam``.

    Args:
        config: a dict of site name -> reparameteriser, or a function of the site's
            message returning one (or None to leave the site alone).

    Example::

        from pplkit.infer.reparam import LocScaleReparam
        noncentred = reparam(model, config={"theta": LocScaleReparam(centered=0)})
    """

    def __init__(self, fn: Callable[..., Any] | None = None, config: Config | None = None) -> None:
        super().__init__(fn)
        if not (isinstance(config, Mapping) or callable(config)):
            raise TypeError(f"reparam needs config= as a dict of site name -> Reparam, or a function; got {config!r}")
        self.config = config
        self._applying = False

    def process(self, msg: Message) -> None:
        # The auxiliary sites a reparameteriser draws pass through here too; they are
        # already in the new coordinates, so a config function matching every site must
        # not rewrite them again.
        if msg.kind is not SiteKind.SAMPLE or self._applying:
            return
        chosen = self.config.get(msg.name) if isinstance(self.config, Mapping) else self.config(msg)
        if chosen is None:
            return
        self._applying = True
        try:
            result = chosen.apply({"name": msg.name, "fn": msg.fn, "value": msg.value, "is_observed": msg.is_observed})
        finally:
            self._applying = False
        msg.fn, msg.value, msg.is_observed = result["fn"], result["value"], result["is_observed"]

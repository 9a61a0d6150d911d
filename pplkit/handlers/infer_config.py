"""``infer_config``: add inference options to sites' ``infer`` dicts from a function."""

from __future__ import annotations

from typing import Any, Callable

from ..runtime import Handler, Message, SiteKind


class infer_config(Handler):
    """Update each sample and param site's ``msg.infer`` with ``config_fn(msg)``.

    The same as writing ``infer={...}`` at each site, without editing the model.

    Example::

        def config(msg):
            return {"enumerate": "parallel"} if msg.name == "assignment" else {}

        configured = infer_config(model, config_fn=config)
    """

    def __init__(
        self, fn: Callable[..., Any] | None = None, config_fn: Callable[[Message], dict[str, Any]] | None = None
    ) -> None:
        super().__init__(fn)
        if not callable(config_fn):
            raise TypeError(f"infer_config needs config_fn= as a function of the site's message, got {config_fn!r}")
        self.config_fn = config_fn

    def process(self, msg: Message) -> None:
        if msg.kind is SiteKind.EFFECT:
            return
        config = self.config_fn(msg)
        if config:
            msg.infer.update(config)

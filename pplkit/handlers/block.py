"""``block``: hide sites from the handlers outside it."""

from __future__ import annotations

from typing import Any, Callable, Collection

from ..runtime import Handler, Message, SiteKind


class block(Handler):
    """Hide sites from outer handlers (an outer ``trace`` does not record them).

    Give at most one rule; with none, every site is hidden.

    Args:
        hide: names to hide.
        expose: names to show; every other site is hidden.
        hide_types / expose_types: the same by site type: ``"sample"``, ``"param"``,
            or one of pplkit's finer kinds (``"deterministic"``, ``"factor"``, ``"plate"``).
        hide_fn / expose_fn: a predicate on the message.

    Example::

        with block(hide=["z"]):
            model()
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        hide: Collection[str] | None = None,
        expose: Collection[str] | None = None,
        hide_types: Collection[str] | None = None,
        expose_types: Collection[str] | None = None,
        hide_fn: Callable[[Message], bool] | None = None,
        expose_fn: Callable[[Message], bool] | None = None,
    ) -> None:
        super().__init__(fn)
        rules = {
            "hide": hide,
            "expose": expose,
            "hide_types": hide_types,
            "expose_types": expose_types,
            "hide_fn": hide_fn,
            "expose_fn": expose_fn,
        }
        given = [k for k, v in rules.items() if v is not None]
        if len(given) > 1:
            raise ValueError(f"block: give one of {', '.join(rules)}; got {given}")
        for key, types in (("hide_types", hide_types), ("expose_types", expose_types)):
            for t in types or ():
                if t not in _TYPE_NAMES:
                    raise ValueError(f"block: unknown site type {t!r} in {key}; use one of {sorted(_TYPE_NAMES)}")
        self._hides = _make_rule(hide, expose, hide_types, expose_types, hide_fn, expose_fn)

    def process(self, msg: Message) -> None:
        if self._hides(msg):
            msg.stop = True


_TYPE_NAMES = {"sample", "param"} | {k.value for k in SiteKind}


def _make_rule(
    hide: Collection[str] | None,
    expose: Collection[str] | None,
    hide_types: Collection[str] | None,
    expose_types: Collection[str] | None,
    hide_fn: Callable[[Message], bool] | None,
    expose_fn: Callable[[Message], bool] | None,
) -> Callable[[Message], bool]:
    def of_type(msg: Message, types: Collection[str]) -> bool:
        return msg.type in types or msg.kind.value in types

    if hide is not None:
        hidden = set(hide)
        return lambda msg: msg.name in hidden
    if expose is not None:
        shown = set(expose)
        return lambda msg: msg.name not in shown
    if hide_types is not None:
        return lambda msg: of_type(msg, hide_types)
    if expose_types is not None:
        return lambda msg: not of_type(msg, expose_types)
    if hide_fn is not None:
        return hide_fn
    if expose_fn is not None:
        return lambda msg: not expose_fn(msg)
    return lambda msg: True

"""``block``: hide sites from the handlers outside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection

from ..runtime import Handler, Message, SiteKind


class block(Handler):
    """Hide sites from outer handlers (an outer ``trace`` does not record them).

    The rules combine as in Pyro: a site is hidden when it is named in ``hide``, or its
    type is in ``hide_types``, or when ``hide_all`` holds and it is neither named in
    ``expose`` nor of a type in ``expose_types``. Giving ``expose`` or ``expose_types``
    turns ``hide_all`` on; giving ``hide`` or ``hide_types`` turns it off. With no rule,
    every site is hidden. ``hide_fn`` or ``expose_fn`` (one of them) replaces all of this.

    Args:
        hide: names to hide.
        expose: names to show; every other site is hidden.
        hide_types / expose_types: the same by site type: ``"sample"`` (latent or observed),
            ``"observe"`` (observed samples, deterministic sites and factors, as in Pyro),
            ``"param"``, or one of pplkit's finer kinds (``"deterministic"``, ``"factor"``, ``"plate"``).
        hide_fn / expose_fn: a predicate on the message.
        hide_all / expose_all: hide (or show) the sites no other rule names.

    Example::

        with block(hide=["z"]):
            model()
        block(model, hide_types=["observe"])   # show only the latent sites and params
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        hide_fn: Callable[[Message], bool | None] | None = None,
        expose_fn: Callable[[Message], bool | None] | None = None,
        hide_all: bool = True,
        expose_all: bool = False,
        hide: Collection[str] | None = None,
        expose: Collection[str] | None = None,
        hide_types: Collection[str] | None = None,
        expose_types: Collection[str] | None = None,
    ) -> None:
        super().__init__(fn)
        if hide_fn is not None and expose_fn is not None:
            raise ValueError("block: give hide_fn or expose_fn, not both")
        for key, types in (("hide_types", hide_types), ("expose_types", expose_types)):
            for t in types or ():
                if t not in _TYPE_NAMES:
                    raise ValueError(f"block: unknown site type {t!r} in {key}; use one of {sorted(_TYPE_NAMES)}")
        if hide_fn is not None:
            self._hides: Callable[[Message], bool | None] = hide_fn
        elif expose_fn is not None:
            self._hides = lambda msg: not expose_fn(msg)
        else:
            self._hides = _make_rule(hide_all, expose_all, hide, expose, hide_types, expose_types)

    def process(self, msg: Message) -> None:
        if self._hides(msg):
            msg.stop = True


_TYPE_NAMES = {"sample", "observe", "param"} | {k.value for k in SiteKind}


def _types_of(msg: Message) -> tuple[str, ...]:
    """Every type name a message answers to: Pyro's ("sample"/"observe"/"param") and pplkit's kind."""
    if msg.kind is SiteKind.PARAM:
        return ("param",)
    # Pyro records deterministic sites and factors as observed sample sites.
    pyro_type = "observe" if msg.is_observed else "sample"
    return ("sample", pyro_type, msg.kind.value)


def _make_rule(
    hide_all: bool,
    expose_all: bool,
    hide: Collection[str] | None,
    expose: Collection[str] | None,
    hide_types: Collection[str] | None,
    expose_types: Collection[str] | None,
) -> Callable[[Message], bool]:
    if expose_all:
        hide_all = False
    if hide is not None or hide_types is not None:
        hide_all = False
    if expose is not None or expose_types is not None:
        hide_all = True
    hidden, shown = set(hide or ()), set(expose or ())
    hidden_types, shown_types = set(hide_types or ()), set(expose_types or ())
    for what, both in (("site", hidden & shown), ("site type", hidden_types & shown_types)):
        if both:
            raise ValueError(f"block: {what}(s) {sorted(both)} are both hidden and exposed; name each in one list")

    return _Rule(hide_all, hidden, shown, hidden_types, shown_types)


@dataclass(frozen=True)
class _Rule:
    """Whether block hides a message: a class, not a closure, so that a blocked model pickles (torch.save)."""

    hide_all: bool
    hidden: set[str]
    shown: set[str]
    hidden_types: set[str]
    shown_types: set[str]

    def __call__(self, msg: Message) -> bool:
        if not (self.hidden or self.shown or self.hidden_types or self.shown_types):
            return self.hide_all  # block() itself: MCMC and Importance use it on every run
        if msg.name in self.hidden or (self.hidden_types and not self.hidden_types.isdisjoint(_types_of(msg))):
            return True
        exposed = msg.name in self.shown or (self.shown_types and not self.shown_types.isdisjoint(_types_of(msg)))
        return self.hide_all and not exposed

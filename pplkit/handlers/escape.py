"""``escape``: leave the model at the first site that matches, with that site in hand."""

from __future__ import annotations

from typing import Any, Callable

from ..runtime import Handler, Message, get_handler_stack


class NonlocalExit(Exception):
    """Raised by ``escape`` to leave a run early; ``.site`` is the message it stopped at."""

    def __init__(self, site: Message, *args: Any) -> None:
        super().__init__(*args or (f"escaped at site '{site.name}'",))
        self.site = site

    def reset_stack(self) -> None:
        """Let the active handlers forget the abandoned run (an outer trace starts afresh).

        Walks outwards from the innermost handler and stops at a ``block`` that hides
        the site: the handlers beyond it never saw the run's sites.
        """
        from .block import block

        for handler in reversed(get_handler_stack()):
            handler._reset()
            if isinstance(handler, block) and handler._hides(self.site):
                break


class escape(Handler):
    """Stop the run at the first sample site for which ``escape_fn(msg)`` is true.

    The site is not sampled: the handlers inside ``escape`` finish with it, then a
    :class:`NonlocalExit` carrying the message leaves the model. ``queue`` builds
    breadth-first enumeration on this.

    Example::

        try:
            escape(model, escape_fn=lambda msg: msg.name == "z")()
        except NonlocalExit as e:
            print(e.site.fn)        # the distribution of z, never sampled
    """

    def __init__(
        self, fn: Callable[..., Any] | None = None, escape_fn: Callable[[Message], bool] | None = None
    ) -> None:
        super().__init__(fn)
        if not callable(escape_fn):
            raise TypeError(f"escape needs escape_fn= as a predicate on the site's message, got {escape_fn!r}")
        self.escape_fn = escape_fn

    def process(self, msg: Message) -> None:
        if not msg.kind.is_sample_like or not self.escape_fn(msg):
            return
        msg.done = True
        msg.stop = True
        msg.continuation = _exit_at


def _exit_at(msg: Message) -> None:
    raise NonlocalExit(msg)

"""The explorer alone, for a live demo served by Voila (``make demo``).

A teacher projects the explorer; the page must show a picture at once. So nothing is
fitted while the notebook executes: :class:`PageWatch`, an invisible widget beside the
explorer, tells the kernel when a browser has drawn the page, and only then does the first
fit start. Its heartbeat also tells the kernel when the tab is gone: the fit is stopped,
the kernel falls quiet, and the server's culler (``demo/voila.json``) shuts it down.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

import anywidget
import traitlets

from .explorer import ModelExplorer

__all__ = ["PageWatch", "dashboard"]

_HERE = Path(__file__).parent


class PageWatch(anywidget.AnyWidget):
    """Calls ``on_shown()`` once a browser has drawn it, and ``on_gone()`` when its heartbeat stops.

    Args:
        on_shown: called (in the kernel's thread) the first time a view renders.
        on_gone: called (in a watchdog thread) when no view has beaten for ``gone_after_s``.
        heartbeat_s: how often an open page says it is there.
        gone_after_s: silence after which the page counts as closed.

    Example::

        watch = PageWatch(on_shown=explorer.start, on_gone=explorer.stop)
        display(explorer, watch)
    """

    _esm = _HERE / "dashboard.js"

    heartbeat_s = traitlets.Float(5.0, help="Seconds between two 'still open' messages of the page.").tag(sync=True)
    shown = traitlets.Bool(False, help="Whether a browser has drawn the page (set by the page).")

    def __init__(self, on_shown: Callable[[], None], on_gone: Callable[[], None] | None = None,
                 heartbeat_s: float = 5.0, gone_after_s: float = 15.0, **kwargs: Any) -> None:
        super().__init__(heartbeat_s=heartbeat_s, **kwargs)
        self._on_shown, self._on_gone, self.gone_after_s = on_shown, on_gone, gone_after_s
        self.last_beat = time.monotonic()
        self._closed = threading.Event()
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        self.last_beat = time.monotonic()
        if content.get("event") == "shown" and not self.shown:
            self.shown = True
            if self._on_gone is not None:
                threading.Thread(target=self._watch, name="pplkit-page-watch", daemon=True).start()
            self._on_shown()

    def _watch(self) -> None:
        while time.monotonic() - self.last_beat < self.gone_after_s:
            if self._closed.wait(min(1.0, self.heartbeat_s)):
                return
        assert self._on_gone is not None
        self._on_gone()

    def close(self) -> None:
        self._closed.set()
        super().close()


def dashboard(model: Callable[..., Any], *args: Any, **kwargs: Any) -> ModelExplorer:
    """Show the explorer of ``model`` and fit it once the page is on screen; see :class:`ModelExplorer`.

    Keyword arguments go to :class:`ModelExplorer` when it takes them, else to the model.

    Example::

        explorer = dashboard(model, is_cont_africa, ruggedness, log_gdp, guide="AutoNormal")
    """
    from IPython.display import display

    explorer = ModelExplorer(model, *args, blocking=False, **kwargs)
    watch = PageWatch(on_shown=explorer.start, on_gone=explorer.stop)
    display(explorer, watch)
    return explorer

"""How the widgets appear outside a live kernel, and where training runs.

A notebook saved or exported without its widget state would show ``HBox(children=...)``;
every pplkit widget therefore puts a static SVG picture of itself next to the widget
view in its mime bundle, and re-publishes that picture when a run finishes, so the
saved notebook holds the final curve rather than the empty one it started with.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from .runner import _kernel_parent

__all__ = ["StaticPicture", "default_blocking", "in_kernel"]


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget can be shown), False in scripts and tests."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def default_blocking() -> bool:
    """Whether training should run in the caller's thread when the caller does not say.

    Blocking outside a kernel (nothing else would run the loop) and when the ``CI``
    environment variable is set: nbclient runs cells one after the other, so a later
    cell must see a finished fit. ``PPLKIT_WIDGETS_BLOCKING=1`` asks for the same without
    ``CI``, whose presence makes the tutorials take their short test settings
    (``scripts/render_tutorials.py`` renders them at their own settings that way).
    """
    return not in_kernel() or _set("CI") or _set("PPLKIT_WIDGETS_BLOCKING")


def _set(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() not in ("", "0", "false", "no")


class StaticPicture:
    """Mixin for widgets: an ``image/svg+xml`` copy in the mime bundle, refreshed on demand.

    Subclasses implement :meth:`static_svg`. Displaying the widget records a display id;
    :meth:`refresh_static_picture` (called by the widgets when a run stops or finishes)
    republishes the bundle under that id, which replaces the saved picture in place.
    """

    _display_id: str | None = None
    _shown_in: str | None = None  # the kernel request that last displayed this widget

    def static_svg(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["image/svg+xml"] = self.static_svg()
        return data, metadata

    def _ipython_display_(self) -> None:
        from IPython.display import display

        # widgets.explore(...) both shows the widget and returns it; as the last line of a
        # cell the returned widget would be shown a second time.
        request = _current_request_id()
        if self._repr_mimebundle_ is None or (request is not None and request == self._shown_in):
            return  # closed (ipywidgets removes the method then), or already shown by this cell
        self._shown_in = request
        if self._display_id is None:
            self._display_id = f"pplkit-{uuid.uuid4().hex}"
        data, metadata = self._repr_mimebundle_()
        display(data, metadata=metadata, raw=True, display_id=self._display_id)

    def refresh_static_picture(self) -> None:
        """Re-publish the widget's bundle under its display id (no-op if it was never displayed)."""
        if self._display_id is None or self._repr_mimebundle_ is None or not in_kernel():
            return
        from IPython.display import update_display

        data, metadata = self._repr_mimebundle_()
        update_display(data, metadata=metadata, raw=True, display_id=self._display_id)


def _current_request_id() -> str | None:
    """The id of the kernel request being answered (one cell's execution), if in a kernel."""
    parent = _kernel_parent()
    return parent.get("header", {}).get("msg_id") if isinstance(parent, dict) else None

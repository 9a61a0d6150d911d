"""A widget that shows an SVG drawn in Python and reports clicks on its parts.

The model graph (graphviz's SVG) and the explorer's plots are drawn in the kernel;
this widget only displays them. Elements whose ``id`` is a key of ``targets`` are
clickable: a click sets ``selected`` to the target's name, in Python too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .display import StaticPicture

__all__ = ["SvgView"]

_HERE = Path(__file__).parent


class SvgView(StaticPicture, anywidget.AnyWidget):
    """Shows ``svg``; clicking an element whose id is in ``targets`` selects that target.

    Args:
        svg: the picture, a complete ``<svg>`` element.
        targets: element id -> the name ``selected`` takes when it is clicked.

    Example::

        view = SvgView(svg=digraph.pipe(format="svg").decode(), targets={"node:a": "a"})
        view.observe(lambda change: print(change["new"]), names="selected")
    """

    _esm = _HERE / "svg_view.js"
    _css = _HERE / "svg_view.css"

    svg = traitlets.Unicode("", help="The picture: a complete <svg> element.").tag(sync=True)
    targets = traitlets.Dict(
        value_trait=traitlets.Unicode(), help="Clickable element ids -> the name each selects."
    ).tag(sync=True)
    selected = traitlets.Unicode("", help="The name of the clicked target ('' for none).").tag(sync=True)
    placeholder = traitlets.Unicode("", help="Shown while there is no picture.").tag(sync=True)
    busy = traitlets.Bool(False, help="Dims the picture while a new one is being made.").tag(sync=True)

    def __init__(self, svg: str = "", targets: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(svg=svg, targets=targets or {}, **kwargs)

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict[str, Any]) -> str:
        name = proposal["value"]
        if name and name not in self.targets.values():
            raise traitlets.TraitError(
                f"cannot select {name!r}: it is not one of the clickable names {sorted(set(self.targets.values()))}"
            )
        return name

    def static_svg(self) -> str:
        return self.svg or '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'

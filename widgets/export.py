"""Notebooks that keep their pictures when shared: executed, with static pictures and no widget state.

Every pplkit widget puts an ``image/svg+xml`` picture of itself beside its widget view
(see :mod:`widgets.plots.display`). A notebook that also stores the widget state makes
``jupyter nbconvert --to html`` (and nbviewer) prefer the widget view, whose scripts
come from a CDN and cannot load offline: the export shows blank space. Without the
state, every exporter and viewer falls back to the static picture. This module runs a
notebook and keeps only the pictures::

    python -m widgets.export tutorials/02_live_svi.ipynb --html build/02_live_svi.html
    python -m widgets.export tutorials/02_live_svi.ipynb --ipynb build/02_live_svi.ipynb

Training runs in the cell (``CI=1``, as under the test suite), so each picture shows the
finished run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["WIDGET_STATE", "WIDGET_VIEW", "execute_static", "static_only", "to_html"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def static_only(notebook: Any) -> Any:
    """Drop the widget state and the widget views, keeping each output's static picture (in place).

    Example::

        nb = nbformat.read("executed.ipynb", as_version=4)
        nbformat.write(static_only(nb), "shareable.ipynb")
    """
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_VIEW in data and len(data) > 1:  # a widget with a picture beside it
                del data[WIDGET_VIEW]
    return notebook


def execute_static(path: str | os.PathLike[str], timeout: int = 600) -> Any:
    """Run the notebook at ``path`` in a fresh kernel (``CI=1``) and return it with static pictures only."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=dict(os.environ, CI="1"))
    return static_only(notebook)


def to_html(notebook: Any) -> str:
    """The notebook as one HTML page (nbconvert's lab template), readable offline."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(notebook)
    return html


def main(argv: list[str] | None = None) -> None:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--html", type=Path, help="write the executed notebook as HTML here")
    parser.add_argument("--ipynb", type=Path, help="write the executed notebook (static pictures only) here")
    args = parser.parse_args(argv)
    if not (args.html or args.ipynb):
        parser.error("give --html and/or --ipynb")
    notebook = execute_static(args.notebook)
    if args.ipynb:
        args.ipynb.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, args.ipynb)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(to_html(notebook), encoding="utf-8")


if __name__ == "__main__":
    main()

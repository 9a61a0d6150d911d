#!/usr/bin/env python3
"""Run the tutorials and save them with their outputs, so a reader sees every picture without running them.

``make tutorials`` runs this. Each notebook in ``tutorials/`` runs top to bottom in a fresh
kernel, at its own settings (not the test suite's short ``CI=1`` runs), and is written back
with its outputs. GitHub's notebook viewer, nbviewer and ``jupyter nbconvert`` then show
every picture, the widgets' included:

* each pplkit widget puts a static ``image/svg+xml`` picture of itself beside its widget
  view (:mod:`widgets.plots.display`); the views and the widget state are dropped, because a
  viewer that finds them prefers the view, whose scripts cannot load there (a blank space);
* widgets train in the cell (``PPLKIT_WIDGETS_BLOCKING=1``), so each picture shows the
  finished fit, and a section's frozen picture shows that section's moment;
* a progress bar (tqdm's, as MCMC shows) is dropped: it is a widget with no picture, and
  its saved text would be the bar's first moment ("0/1500"); any other widget without a
  picture stops the render.

The notebook's metadata records what the outputs were made from (``pplkit_render``): a
hash of the notebook's cells and one of pplkit's and the widgets' Python sources.
``tests/scripts/test_render_tutorials.py`` fails when either no longer matches: run
``make tutorials`` again. Learners get the notebooks without these outputs
(``scripts/workspace.py``), so they see their own run, not the render's.

Usage: ``scripts/render_tutorials.py [NOTEBOOK ...]`` (default: every tutorial);
``--check`` only says which rendered notebooks are stale (exit status 1 if any).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
SOURCE_PACKAGES = ("pplkit", "widgets")  # their .py files draw every picture; .js/.css only the live views
STAMP = "pplkit_render"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PICTURES = ("image/svg+xml", "image/png")
CELL_TIMEOUT_S = 900
RENDER_ENV = {
    "PPLKIT_WIDGETS_BLOCKING": "1",
    "OMP_NUM_THREADS": "1",  # one thread: the same float sums on any machine, no stalls on a busy one
    "PYTHONHASHSEED": "0",
}
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")
_PROGRESS_BAR = re.compile(r"^[^\n]*\d+%\|.*\| *\d+/\d+ \[")  # tqdm's text: "Warmup:  0%|   | 0/1500 [00:00<?"


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def inputs_hash(notebook: dict[str, Any]) -> str:
    """SHA-256 of what the reader can edit: each cell's type and source, and the kernelspec.

    Example::

        >>> cell = {"cell_type": "code", "source": "1 + 1", "outputs": []}
        >>> inputs_hash({"cells": [cell]}) == inputs_hash({"cells": [dict(cell, outputs=["2"])]})
        True
    """
    cells = [[cell.get("cell_type"), _source(cell)] for cell in notebook.get("cells", [])]
    kernelspec = notebook.get("metadata", {}).get("kernelspec")
    return hashlib.sha256(json.dumps([cells, kernelspec], sort_keys=True).encode()).hexdigest()


def sources_hash(root: Path = ROOT) -> str:
    """SHA-256 of the Python files of pplkit and the widgets (their paths and contents)."""
    digest = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stale_reasons(notebook: dict[str, Any], root: Path = ROOT) -> list[str]:
    """Why the notebook's saved outputs may not be what its code makes now ([] when fresh)."""
    stamp = notebook.get("metadata", {}).get(STAMP)
    if not stamp:
        return ["it was never rendered"]
    reasons = []
    if stamp.get("inputs") != inputs_hash(notebook):
        reasons.append("its cells changed since it was rendered")
    if stamp.get("sources") != sources_hash(root):
        reasons.append("pplkit's or the widgets' sources changed since it was rendered")
    return reasons


def keep_static_pictures(notebook: Any, name: str) -> None:
    """Drop the widget views and state, keeping each widget's picture; refuse a widget without one."""
    notebook.metadata.pop("widgets", None)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.outputs if not _is_progress_bar(o)]
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                if not any(kind in data for kind in PICTURES):
                    raise RuntimeError(
                        f"{name}, cell {index}: a widget output with no static picture ({data.get('text/plain')!r}); "
                        "give the widget a static_svg (widgets.plots.display.StaticPicture) or do not display it"
                    )
                del data[WIDGET_VIEW]
            if "text/plain" in data and any(kind in data for kind in PICTURES):
                # the repr behind a picture is never shown; its memory address would change every render
                data["text/plain"] = _ADDRESS.sub(">", _source({"source": data["text/plain"]}))


def _is_progress_bar(output: Any) -> bool:
    data = output.get("data", {})
    return WIDGET_VIEW in data and data.keys() <= {WIDGET_VIEW, "text/plain"} and bool(
        _PROGRESS_BAR.match(_source({"source": data.get("text/plain", "")})))


def render(path: Path) -> Any:
    """Run the notebook at ``path`` in its folder and return it with static pictures and its stamp."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    language_info = notebook.metadata.get("language_info")
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", store_widget_state=False,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    env = {key: value for key, value in os.environ.items() if key != "CI"}  # CI would shorten every run
    # This checkout's pplkit and widgets, whose sources the stamp hashes, even where another is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    client.execute(env={**env, **RENDER_ENV})
    keep_static_pictures(notebook, path.name)
    if language_info is not None:
        notebook.metadata["language_info"] = language_info  # not the render machine's Python version
    notebook.metadata[STAMP] = {
        "inputs": inputs_hash(notebook),
        "sources": sources_hash(),
        "command": "make tutorials (scripts/render_tutorials.py)",
    }
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in tutorials/")
    parser.add_argument("--check", action="store_true", help="only report stale notebooks; run nothing")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(TUTORIALS.glob("*.ipynb"))
    if args.check:
        stale = {path: stale_reasons(json.loads(path.read_text(encoding="utf-8"))) for path in paths}
        for path, reasons in stale.items():
            print(f"{path.name}: {'; '.join(reasons) or 'fresh'}")
        return 1 if any(stale.values()) else 0
    import nbformat

    for path in paths:
        print(f"rendering {path} ...", flush=True)
        nbformat.write(render(path), path)
        print(f"  {path.stat().st_size / 1024:.0f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

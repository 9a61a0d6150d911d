#!/usr/bin/env python3
"""Seed the learner's working copy of the tutorials, never overwriting the learner's work.

``make lab`` opens JupyterLab on ``workspace/`` (gitignored), not on ``tutorials/``:
JupyterLab autosaves outputs into whatever notebook is open, and a learner who runs
every tutorial must still leave ``git status`` clean.

Each tutorial is copied once, without the outputs ``make tutorials`` saved in it for readers
of the repository: a learner sees their own run, not a picture of someone else's. A
re-render that changed only those outputs is therefore no change for the learner. A
pristine copy of what was seeded is kept in ``workspace/.seeded/``, so a later run can
tell the two kinds of change apart:

* the tutorial changed upstream (``git pull``) and the learner never saved their copy:
  the copy is updated;
* the learner saved their copy: it is kept as it is, and a line says how to get the
  new version (delete the copy and run ``make lab`` again).

Usage: ``scripts/workspace.py [SOURCE] [DEST]`` (default ``tutorials workspace``).
Standard library only: it runs before any virtual environment exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SEEDED = ".seeded"  # what was last copied from SOURCE, to tell learner edits from upstream ones
RENDER_STAMP = "pplkit_render"  # scripts/render_tutorials.py: what the saved outputs were made from


def learner_copy(notebook: Path) -> bytes:
    """The notebook without outputs, execution counts or render stamp, written as nbformat writes it.

    A file that is not a notebook is copied as it is.

    Example::

        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a.ipynb"
        >>> cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [{"text": "2"}],
        ...         "source": "1 + 1"}
        >>> _ = path.write_text(json.dumps({"cells": [cell], "metadata": {RENDER_STAMP: {}}}))
        >>> copy = json.loads(learner_copy(path))
        >>> copy["cells"][0]["outputs"], copy["cells"][0]["execution_count"], copy["metadata"]
        ([], None, {})
    """
    raw = notebook.read_bytes()
    try:
        content = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(content, dict):
        return raw
    content.get("metadata", {}).pop(RENDER_STAMP, None)
    content.get("metadata", {}).pop("widgets", None)
    for cell in content.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return (json.dumps(content, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _same(a: Path, b: Path | bytes) -> bool:
    if isinstance(b, Path):
        return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
    return a.is_file() and a.read_bytes() == b


def seed(source: Path, dest: Path) -> list[str]:
    """Copy the notebooks of ``source`` (without outputs) into ``dest`` without losing a learner's edits.

    Returns one line per notebook that was added, updated or kept despite an upstream change.

    Example::

        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "tutorials").mkdir(); _ = (root / "tutorials" / "a.ipynb").write_text("{}")
        >>> seed(root / "tutorials", root / "workspace")
        ['added a.ipynb']
        >>> seed(root / "tutorials", root / "workspace")
        []
    """
    seeded_dir = dest / SEEDED
    seeded_dir.mkdir(parents=True, exist_ok=True)
    report = []
    for notebook in sorted(source.glob("*.ipynb")):
        copy, seeded, fresh = dest / notebook.name, seeded_dir / notebook.name, learner_copy(notebook)
        if not copy.exists():
            copy.write_bytes(fresh)
            seeded.write_bytes(fresh)
            report.append(f"added {notebook.name}")
        elif _same(seeded, fresh):
            continue  # nothing new upstream; the learner's copy, edited or not, stays
        elif _same(copy, seeded) or _same(copy, fresh):
            copy.write_bytes(fresh)
            seeded.write_bytes(fresh)
            report.append(f"updated {notebook.name}")
        else:
            report.append(
                f"kept your {copy}: {notebook} has changed since it was copied; "
                f"to get the new version, rename or delete your copy and run `make lab` again"
            )
    return report


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else Path("tutorials")
    dest = Path(argv[2]) if len(argv) > 2 else Path("workspace")
    if not source.is_dir():
        print(f"workspace: no folder {source} to copy the tutorials from", file=sys.stderr)
        return 2
    for line in seed(source, dest):
        print(f"workspace: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Every probe of the bad-input catalogue: a clear error (site or argument, and the fix) or a right answer.

After an error nothing may be lost: the param store holds what it held, the files in
the scratch folder are unchanged, and no handler is left on the stack.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pplkit.runtime import get_handler_stack

from .bad_inputs import CHECKPOINT, ENTRIES, BadInput, _scratch_folders, message_of, render, store_contents

REPO_ROOT = Path(__file__).resolve().parent.parent


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.area}: {e.title}" for e in ENTRIES])
def test_bad_input(entry: BadInput, tmp_path: Path) -> None:
    state = entry.setup(tmp_path)
    store_before, files_before = store_contents(), _files(tmp_path)
    CHECKPOINT.contents = None
    if entry.error is None:
        said = entry.act(tmp_path, state)
        assert isinstance(said, str) and said
        return
    with pytest.raises(entry.error) as caught:
        entry.act(tmp_path, state)
    message = message_of(caught.value).replace(str(tmp_path), "<folder>")
    for fragment in entry.names:
        assert fragment in message, f"the message does not name {fragment!r}:\n{message}"
    for fragment in entry.fix:
        assert fragment in message, f"the message does not suggest {fragment!r}:\n{message}"
    assert get_handler_stack() == []
    if CHECKPOINT.contents is not None:  # the probe trained first: compare with the store before the failing call
        store_before = CHECKPOINT.contents
    store_after = store_contents()
    assert store_after.keys() == store_before.keys()
    for name, (u, constraint, event_dim) in store_before.items():
        u2, constraint2, event_dim2 = store_after[name]
        assert torch.equal(u, u2) and constraint == constraint2 and event_dim == event_dim2, name
    assert _files(tmp_path) == files_before


def test_every_entry_names_the_fault_and_the_fix() -> None:
    for entry in ENTRIES:
        if entry.error is not None:
            assert entry.names and entry.fix, entry.title


def test_the_catalogue_in_the_docs_is_up_to_date(tmp_path: Path) -> None:
    committed = (REPO_ROOT / "docs" / "bad-inputs.md").read_text()
    generated = render(_scratch_folders(tmp_path))
    assert committed == generated, (
        "docs/bad-inputs.md is out of date: run `python -m tests.bad_inputs --write docs/bad-inputs.md`"
    )

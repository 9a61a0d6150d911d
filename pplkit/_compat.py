"""What pplkit needs from Python 3.11+, also on 3.10.

``BaseException.add_note`` (PEP 678) is 3.11+. On 3.10 the fallback keeps the same
``__notes__`` list, which the helpers here and the tests read, and which 3.11's
traceback printing shows; 3.10's traceback ignores it, so the fallback also appends
the note to the message of the exceptions pplkit re-raises (their ``args[0]``).
"""

from __future__ import annotations

import sys

__all__ = ["add_note", "notes_of"]


def add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)`` where Python has it; an equivalent on 3.10.

    Example::

        >>> e = ValueError("bad value")
        >>> add_note(e, "pplkit: at site 'x'")
        >>> notes_of(e)
        ["pplkit: at site 'x'"]
    """
    if sys.version_info >= (3, 11):
        error.add_note(note)
        return
    _add_note_fallback(error, note)


def _add_note_fallback(error: BaseException, note: str) -> None:
    notes = getattr(error, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        try:
            error.__notes__ = notes  # type: ignore[attr-defined]
        except (AttributeError, TypeError):  # an exception type with __slots__: keep the message only
            pass
    notes.append(note)
    # 3.10 prints only str(error): put the note there too, when the message is a plain string.
    if error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]}\n{note}", *error.args[1:])


def notes_of(error: BaseException) -> list[str]:
    """The notes added to ``error`` (empty when none)."""
    return list(getattr(error, "__notes__", None) or [])

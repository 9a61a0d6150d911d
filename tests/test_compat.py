"""add_note on every supported Python: the 3.11 method, and the fallback 3.10 takes."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

import pplkit
import pplkit.distributions as dist
from pplkit import _compat
from pplkit._compat import add_note, notes_of


def test_add_note_keeps_the_note_where_python_shows_it():
    error = ValueError("bad value")
    add_note(error, "pplkit: at site 'x'")
    assert notes_of(error) == ["pplkit: at site 'x'"]
    if sys.version_info < (3, 11):  # the fallback also puts it in the message, which 3.10 prints
        assert "pplkit: at site 'x'" in str(error)


def test_the_fallback_adds_notes_and_puts_them_in_the_message():
    error = KeyError("sigma")
    _compat._add_note_fallback(error, "first")
    _compat._add_note_fallback(error, "second")
    assert notes_of(error) == ["first", "second"]
    assert error.args[0] == "sigma\nfirst\nsecond"


def test_the_fallback_survives_an_exception_without_a_string_message():
    error = ValueError(3)
    _compat._add_note_fallback(error, "note")
    assert notes_of(error) == ["note"] and error.args == (3,)


def test_a_model_error_inside_trace_keeps_its_type_with_the_fallback(monkeypatch):
    # What 3.10 does: no BaseException.add_note, so every call site must go through the helper.
    monkeypatch.setattr(_compat, "sys", SimpleNamespace(version_info=(3, 10, 13)))

    def model():
        pplkit.sample("z", dist.Normal(0.0, 1.0))
        raise ZeroDivisionError("in the model")

    with pytest.raises(ZeroDivisionError, match="in the model") as caught:
        pplkit.poutine.trace(model).get_trace()
    assert "after site 'z'" in notes_of(caught.value)[0]
    assert "after site 'z'" in str(caught.value)  # what 3.10's traceback prints

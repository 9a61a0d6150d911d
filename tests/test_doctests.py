"""The docstring examples written as ``>>>`` sessions, run as doctests: they must print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pplkit
import widgets


def _modules(package) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules(pplkit) + _modules(widgets)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in finder.find(module, name):
        if test.examples:
            runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} of {attempted} docstring examples in {name} print something else (see above)"


def test_the_examples_are_found() -> None:
    # The examples this suite exists for; were they not found, every test above would pass vacuously.
    found = 0
    for name in ("pplkit.infer.mcmc.adaptation", "widgets.training.history", "pplkit.params", "pplkit.trace"):
        module = importlib.import_module(name)
        found += sum(len(t.examples) for t in doctest.DocTestFinder().find(module, name))
    assert found >= 12

"""Make ``import pyro`` (and every ``pyro.x.y``) give pplkit's module of the same name.

Imported by the notebook runner's first cell; also usable alone::

    import pyro_shim; pyro_shim.install()
    import pyro.poutine as poutine      # pplkit.poutine
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The pplkit module is already imported; aliasing runs nothing."""


class PyroToPplkit(importlib.abc.MetaPathFinder):
    """``pyro`` -> ``pplkit``, ``pyro.a.b`` -> ``pplkit.a.b``: one module under two names, not a copy."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pyro" and not fullname.startswith("pyro."):
            return None
        mapped = "pplkit" + fullname[len("pyro") :]
        if importlib.util.find_spec(mapped) is None:
            return None  # ImportError names the pyro module the notebook asked for
        return importlib.util.spec_from_loader(fullname, _Alias(mapped))


def install() -> None:
    """Put the alias finder first, and drop any real Pyro already imported."""
    for name in [n for n in sys.modules if n == "pyro" or n.startswith("pyro.")]:
        del sys.modules[name]
    if not any(isinstance(f, PyroToPplkit) for f in sys.meta_path):
        sys.meta_path.insert(0, PyroToPplkit())

"""The tutorials' model-and-inference code runs on pplkit and, with the imports swapped, on Pyro.

The README promises that a model written with pplkit moves to Pyro by changing its
imports. This test holds every tutorial to it: it takes each notebook's code cells,
rewrites only the import lines (``import pplkit`` -> ``import pyro as pplkit``,
``from pplkit.infer import SVI`` -> ``from pyro.infer import SVI``, ...) and runs them
on the installed pyro-ppl; it runs the same cells on pplkit too. Both must run.

Kept out, and said so in the output:

* cells that use the widget layer (``widgets``): it sits above pplkit and has no Pyro
  counterpart; and cells that need a name only such a cell defines;
* ``pplkit.datasets`` stays as it is: loading the tutorial's data is no part of the
  model. ``pplkit.examples`` (the intro models, written with pplkit) is ported with the
  same import swap, as a user would port it.

Tutorials 01 and 04 must use Pyro's spelling as they are. The other notebooks may still
use a pplkit-only import path listed in docs/moving-to-pyro.md; the swap translates it
to Pyro's path and the test reports it.

To stay fast (CI smoke settings, well under a minute of CPU for both libraries), MCMC
runs are capped at 50 warm-up steps and 50 samples, and each SVI object takes at most
100 steps (later ``step`` calls return the last loss). This test checks that the code
runs on both libraries; the tutorials' own tests check their numbers.
Run by hand: ``python tests/test_portability.py pyro tutorials/04_shapes_and_plates.ipynb``.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((REPO_ROOT / "tutorials").glob("[0-9]*.ipynb"))
MUST_BE_PORTABLE_AS_WRITTEN = {"01_introduction.ipynb", "04_shapes_and_plates.ipynb"}
MCMC_CAP = 50
SVI_CAP = 100

# pplkit-only import paths (documented in docs/moving-to-pyro.md) and where Pyro keeps each name.
PYRO_PATH_OF = {
    ("pplkit.infer", "AutoDelta"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoDiagonalNormal"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoGuide"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoLaplaceApproximation"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoLowRankMultivariateNormal"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoMultivariateNormal"): "pyro.infer.autoguide",
    ("pplkit.infer", "AutoNormal"): "pyro.infer.autoguide",
    ("pplkit", "handlers"): "pyro.poutine",
}
KEPT_MODULES = {"pplkit.datasets", "pplkit.examples"}  # data loading; the intro models, ported below


# -- what to run ---------------------------------------------------------------------------


def code_cells(notebook: Path) -> list[tuple[int, str]]:
    """(index, source) of each code cell, in order."""
    cells = json.loads(notebook.read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"]


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Names a cell binds at top level, and names it reads."""
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound, read


# pplkit-only conveniences a tutorial may show, each marked as such in its text, with Pyro's way.
PPLKIT_ONLY = {"to_arviz": "arviz.from_pyro(mcmc)"}

_WIDGET_IMPORT = re.compile(r"^\s*(import widgets\b.*|from widgets\b.*)$", re.M)


def plan(cells: list[tuple[int, str]]) -> list[tuple[int, str, str | None]]:
    """Each cell (without its ``import widgets`` lines) with the reason it is skipped, or None when it runs."""
    planned = []
    from_skipped: set[str] = set()
    for index, source in cells:
        widget_imports = _WIDGET_IMPORT.findall(source)
        if widget_imports:
            from_skipped |= _names(ast.parse("\n".join(line.strip() for line in widget_imports)))[0]
            source = _WIDGET_IMPORT.sub("", source)
        bound, read = _names(ast.parse(source))
        reason = None
        if "widgets" in read:
            reason = "uses the widget layer, which has no Pyro counterpart"
        elif read & PPLKIT_ONLY.keys():
            name = sorted(read & PPLKIT_ONLY.keys())[0]
            reason = f"uses pplkit-only {name} (in Pyro: {PPLKIT_ONLY[name]})"
        elif read & from_skipped:
            reason = f"needs {sorted(read & from_skipped)} from a skipped cell"
        if reason:
            from_skipped |= bound
        else:
            from_skipped -= bound
        planned.append((index, source, reason))
    return planned


_IMPORT = re.compile(r"^(?P<indent>\s*)import pplkit(?P<sub>\.[\w.]+)?(?: as (?P<alias>\w+))?\s*$")
_FROM = re.compile(r"^(?P<indent>\s*)from (?P<module>pplkit(?:\.[\w.]+)?) import (?P<names>.+)$")


def to_pyro(source: str) -> tuple[str, list[str]]:
    """Swap pplkit's imports for Pyro's in ``source``; also return the pplkit-only paths it translated."""
    out: list[str] = []
    translated: list[str] = []
    for line in source.splitlines():
        if m := _IMPORT.match(line):
            sub, alias = m["sub"] or "", m["alias"]
            target = "pyro" + sub
            if sub:  # ``import pplkit.distributions as dist``; without an alias it binds ``pplkit``
                line = f"{m['indent']}import {target}" + (f" as {alias}" if alias else "")
                if not alias:
                    line += "; import pyro as pplkit"
            else:
                line = f"{m['indent']}import pyro as {alias or 'pplkit'}"
        elif (m := _FROM.match(line)) and m["module"] not in KEPT_MODULES:
            module = m["module"]
            by_target: dict[str, list[str]] = {}
            for item in (n.strip() for n in m["names"].strip("() ").split(",")):
                name = item.split(" as ")[0].strip()
                target = PYRO_PATH_OF.get((module, name))
                if target:
                    translated.append(f"{module}.{name} -> {target}")
                if module == "pplkit" and name == "handlers":
                    item = "poutine as " + (item.split(" as ")[1] if " as " in item else "handlers")
                    target = "pyro"
                by_target.setdefault(target or "pyro" + module[len("pplkit") :], []).append(item)
            line = "; ".join(f"{m['indent'] if i == 0 else ''}from {t} import {', '.join(names)}"
                             for i, (t, names) in enumerate(by_target.items()))  # fmt: skip
        out.append(line)
    return "\n".join(out), translated


# -- running (in a subprocess per library, so that the two never share global state) --------


def _ported_examples():
    """``pplkit.examples`` with its imports pointing at Pyro, as a module."""
    import types

    source = (REPO_ROOT / "pplkit" / "examples.py").read_text()
    source = re.sub(r"^from \.datasets import", "from pplkit.datasets import", source, flags=re.M)
    source = re.sub(r"^(\s*)from \.datasets import", r"\1from pplkit.datasets import", source, flags=re.M)
    source = re.sub(r"^from \.(plate|primitives) import", "from pyro import", source, flags=re.M)
    source = re.sub(r"^from \. import", "from pyro import", source, flags=re.M)
    source = re.sub(r"^from \.([\w.]+) import", r"from pyro.\1 import", source, flags=re.M)
    filename = "<pplkit/examples.py ported to pyro>"
    # Registered with linecache, so that inspect.getsource (tutorial 02 prints the model) finds it.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType("pyro_port_of_pplkit_examples")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def _cap_inference(library: str) -> None:
    """Cap MCMC's draws, and the optimisation steps each SVI object takes (later calls repeat the last loss)."""
    import importlib

    infer = importlib.import_module(f"{library}.infer")
    mcmc_init, svi_step = infer.MCMC.__init__, infer.SVI.step

    def capped_mcmc(self, kernel, num_samples, warmup_steps=None, *args, **kwargs):
        warmup_steps = num_samples if warmup_steps is None else warmup_steps
        mcmc_init(self, kernel, min(num_samples, MCMC_CAP), min(warmup_steps, MCMC_CAP), *args, **kwargs)

    taken: dict[int, list] = {}  # id(svi) -> [steps taken, last loss, the svi itself (keeps the id unique)]

    def capped_step(self, *args, **kwargs):
        entry = taken.setdefault(id(self), [0, None, self])
        if entry[0] >= SVI_CAP:
            return entry[1]
        entry[0] += 1
        entry[1] = svi_step(self, *args, **kwargs)
        return entry[1]

    infer.MCMC.__init__ = capped_mcmc
    infer.SVI.step = capped_step


def run_tutorials(library: str, notebooks: list[Path]) -> list[dict]:
    """Run the planned cells of each notebook on ``library`` ("pplkit" or "pyro")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _cap_inference(library)
    if library == "pyro":
        sys.modules["pplkit.examples"] = _ported_examples()  # ``from pplkit.examples import`` after the swap
    records = []
    for notebook in notebooks:
        namespace: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
        for index, source, reason in plan(code_cells(notebook)):
            record = {"tutorial": notebook.name, "cell": index, "library": library}
            if reason:
                records.append(record | {"status": "skipped", "reason": reason})
                continue
            translated: list[str] = []
            if library == "pyro":
                source, translated = to_pyro(source)
            try:
                exec(compile(source, f"{notebook.name}[{index}]", "exec"), namespace)
            except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
                records.append(record | {"status": "error", "error": f"{type(error).__name__}: {error}"[:2000]})
                break
            finally:
                plt.close("all")
            records.append(record | {"status": "ok", "translated": translated})
    return records


_RESULTS: dict[str, list[dict]] = {}


def results(library: str) -> list[dict]:
    if library not in _RESULTS:
        env = dict(os.environ, CI="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        done = subprocess.run(
            [sys.executable, __file__, library, *map(str, TUTORIALS)],
            cwd=REPO_ROOT / "tutorials",
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 and not lines:
            raise RuntimeError(f"the {library} run failed before any cell ran:\n{done.stderr[-3000:]}")
        _RESULTS[library] = [json.loads(line) for line in lines]
    return _RESULTS[library]


# -- the tests ------------------------------------------------------------------------------


def test_import_swap_rewrites_only_imports():
    source = "\n".join(
        [
            "import pplkit",
            "import pplkit.distributions as dist",
            "from pplkit.infer import SVI, AutoNormal",
            "x = pplkit.sample",
        ]
    )
    swapped, translated = to_pyro(source)
    assert swapped.splitlines() == [
        "import pyro as pplkit",
        "import pyro.distributions as dist",
        "from pyro.infer import SVI; from pyro.infer.autoguide import AutoNormal",
        "x = pplkit.sample",
    ]
    assert translated == ["pplkit.infer.AutoNormal -> pyro.infer.autoguide"]
    assert to_pyro("from pplkit.datasets import load_rugged")[0] == "from pplkit.datasets import load_rugged"


def test_cells_needing_a_widget_are_skipped_with_their_dependents():
    cells = [(0, "import widgets\nimport pplkit"), (1, "c = widgets.ElboChart()"), (2, "print(c)"), (3, "x = 1")]
    planned = plan(cells)
    assert planned[0][1].strip() == "import pplkit" and planned[0][2] is None  # only the widget import goes
    reasons = [reason for _, _, reason in planned]
    assert reasons[1] and reasons[2] == "needs ['c'] from a skipped cell" and reasons[3] is None


@pytest.mark.parametrize("library", ["pplkit", "pyro"])
@pytest.mark.parametrize("tutorial", [t.name for t in TUTORIALS])
def test_tutorial_code_runs(library, tutorial):
    pytest.importorskip("pyro")
    pytest.importorskip("matplotlib")
    records = [r for r in results(library) if r["tutorial"] == tutorial]
    assert records, f"{tutorial} did not run on {library}"
    for r in records:
        if r["status"] == "skipped":
            print(f"{tutorial}[{r['cell']}] skipped: {r['reason']}")
    errors = [r for r in records if r["status"] == "error"]
    assert not errors, f"{tutorial} cell {errors[0]['cell']} failed on {library}: {errors[0]['error']}"
    ran = [r for r in records if r["status"] == "ok"]
    assert ran, f"every cell of {tutorial} was skipped"
    translated = sorted({t for r in ran for t in r.get("translated", [])})
    if tutorial in MUST_BE_PORTABLE_AS_WRITTEN:
        assert not translated, f"{tutorial} uses pplkit-only import paths: {translated}"
    elif translated:
        print(f"{tutorial}: pplkit-only import paths translated for Pyro: {translated}")


# -- pplkit's public names: at Pyro's path, or documented as pplkit only ------------------------

PUBLIC_MODULES_BESIDES_PACKAGES = ["pplkit.datasets", "pplkit.examples", "pplkit.infer.util", "pplkit.poutine"]
MOVING_TO_PYRO = REPO_ROOT / "docs" / "moving-to-pyro.md"


def public_names() -> list[tuple[str, str]]:
    """(module, name) for each name in the ``__all__`` of pplkit's packages and user-facing modules."""
    import importlib
    import pkgutil

    import pplkit

    packages = [m.name for m in pkgutil.walk_packages(pplkit.__path__, "pplkit.") if m.ispkg]
    names = []
    for module_name in ["pplkit", *sorted(packages), *PUBLIC_MODULES_BESIDES_PACKAGES]:
        module = importlib.import_module(module_name)
        names += [(module_name, name) for name in getattr(module, "__all__", ())]
    return names


def names_pyro_lacks() -> list[str]:
    import importlib

    lacking = []
    for module_name, name in public_names():
        try:
            pyro_module = importlib.import_module("pyro" + module_name[len("pplkit") :])
        except ImportError:
            pyro_module = None
        if not hasattr(pyro_module, name):
            lacking.append(f"{module_name}.{name}")
    return lacking


def test_every_name_pyro_lacks_is_documented_as_pplkit_only():
    pytest.importorskip("pyro")
    doc = MOVING_TO_PYRO.read_text()
    section = doc[doc.index("## pplkit-only names") :]
    documented = set(re.findall(r"`(pplkit[\w.]*?(?:\.\*)?)`", section))
    lacking = names_pyro_lacks()
    assert len(lacking) > 20  # the walk found the packages (a broken walk would pass trivially)

    def covered(path: str) -> bool:
        module = path.rsplit(".", 1)[0]
        return path in documented or f"{module}.*" in documented

    undocumented = [path for path in lacking if not covered(path)]
    assert not undocumented, (
        f"public names at a path Pyro lacks, not listed in {MOVING_TO_PYRO.name}'s pplkit-only table: {undocumented}"
    )
    print(f"{len(lacking)} of {len(public_names())} public names are at a path Pyro lacks; all documented")


if __name__ == "__main__":
    for record in run_tutorials(sys.argv[1], [Path(p) for p in sys.argv[2:]]):
        print(json.dumps(record), flush=True)

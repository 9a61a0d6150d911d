"""The Pyro-notebook runner's own logic, without a Pyro checkout: import swap, data URLs, counting, skip."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
_spec = importlib.util.spec_from_file_location("pyro_notebooks", SCRIPTS / "pyro_notebooks.py")
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
sys.modules["pyro_notebooks"] = runner  # dataclasses look their module up there
_spec.loader.exec_module(runner)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": f"{SCRIPTS.parent}{os.pathsep}{SCRIPTS}", **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)


def test_the_shim_makes_every_pyro_module_the_pplkit_module_of_that_name():
    done = run_python(
        "import pyro_shim; pyro_shim.install()\n"
        "import pyro, pyro.distributions as dist, pyro.poutine as poutine\n"
        "from pyro.poutine.runtime import effectful\n"
        "from pyro.infer import SVI\n"
        "import pplkit, pplkit.poutine.runtime\n"
        "assert pyro is pplkit and dist is pplkit.distributions and poutine is pplkit.poutine\n"
        "assert effectful is pplkit.poutine.runtime.effectful and SVI is pplkit.infer.SVI\n"
        "try:\n"
        "    import pyro.contrib.nonexistent_module\n"
        "except ImportError as e:\n"
        "    print('import error:', e.name)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "import error: pyro.contrib" in done.stdout


def test_prepare_swaps_the_data_url_and_adds_the_shim_cell_only():
    url = next(iter(runner.DATA_URLS))
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell(f"df = pd.read_csv({url!r})")]
    )
    prepared = runner.prepare(notebook, "/data")
    assert [c.cell_type for c in prepared.cells] == ["code", "markdown", "code"]
    assert "pyro_shim.install()" in prepared.cells[0].source
    assert prepared.cells[2].source == "df = pd.read_csv('/data/rugged_data.csv')"
    assert notebook.cells[1].source.endswith(f"{url!r})")  # the original is left as it was
    assert len(runner.prepare(notebook, "/data", use_pplkit=False).cells) == 2


def test_the_version_pin_is_dropped_and_nothing_else():
    source = (
        "import pyro\nassert pyro.__version__.startswith('1.9.1')\n"
        "if True:\n    assert pyro.__version__.startswith('1')\n"
    )
    dropped = runner.drop_version_pin(source)
    assert dropped.splitlines() == [
        "import pyro",
        "pass  # Pyro version pin dropped by scripts/pyro_notebooks.py",
        "if True:",
        "    pass  # Pyro version pin dropped by scripts/pyro_notebooks.py",
    ]
    assert runner.drop_version_pin("assert x == 1") == "assert x == 1"


def test_counting_leaves_out_the_shim_and_the_cells_pyro_itself_fails():
    def code(outputs):
        cell = nbformat.v4.new_code_cell("x")
        cell.outputs = outputs
        return cell

    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad param\nmore", "traceback": []}
    shim = code([])
    shim.metadata["tags"] = ["pplkit-shim"]
    executed = nbformat.v4.new_notebook(cells=[shim, code([]), code([error]), code([error])])
    errors = runner.cell_errors(executed)
    assert errors == [None, "ValueError: bad param", "ValueError: bad param"]
    plain = runner.score(errors, None, "nb")
    assert (plain.ok, plain.total, plain.first_failure) == (1, 3, "cell 2: ValueError: bad param")
    against_pyro = runner.score(errors, [None, "AssertionError: ", None], "nb")
    assert (against_pyro.ok, against_pyro.total, against_pyro.fail_under_pyro) == (1, 2, 1)
    assert against_pyro.first_failure == "cell 3: ValueError: bad param"
    table = runner.format_table([plain, runner.Result("other", 4, 4)])
    assert table.splitlines()[-1] == "1 passed, 1 failed"


def test_without_a_pyro_checkout_the_script_skips_and_exits_0():
    env = {k: v for k, v in os.environ.items() if k != "PYRO_SRC"}
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "pyro_notebooks.py")], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and "PYRO_SRC is not set: skipping" in done.stdout

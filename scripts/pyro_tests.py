"""Run Pyro's own test files against pplkit (through a ``pyro`` shim) and against real Pyro.

Prints, file by file, how many tests pass with pplkit standing in for Pyro beside how
many pass with the installed pyro-ppl, in the same environment and with Pyro's own
pytest settings (its ``setup.cfg`` and conftests)::

    PYRO_SRC=/work/pyro-src python scripts/pyro_tests.py                 # the default files
    PYRO_SRC=/work/pyro-src python scripts/pyro_tests.py tests/poutine/test_trace_struct.py
    python scripts/pyro_tests.py --cache /tmp/pyro-results.json          # reuse real Pyro's column

Pyro's files are read where they lie (the checkout named by ``PYRO_SRC``); nothing of
Pyro is copied into this repository. The shim is a pytest plugin written to a
temporary folder: it points ``pyro`` and every ``pyro.X`` import at ``pplkit`` and
``pplkit.X``, so a test that needs a name pplkit lacks fails (or its file fails to
import) exactly as it would for a user porting that code. The plugin also counts the
outcomes as they happen, so a file cut off by ``--timeout`` still reports what ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_FILES = [
    "tests/poutine/test_counterfactual.py",
    "tests/poutine/test_mapdata.py",
    "tests/poutine/test_nesting.py",
    "tests/poutine/test_poutines.py",
    "tests/poutine/test_properties.py",
    "tests/poutine/test_runtime.py",
    "tests/poutine/test_trace_struct.py",
    "tests/params/test_module.py",
    "tests/params/test_param.py",
    "tests/test_primitives.py",
    "tests/infer/test_autoguide.py",
    "tests/infer/test_predictive.py",
    "tests/infer/test_valid_models.py",
]

# The plugin: alias the imports (unless PPLKIT_SHIM_OFF is set) and count outcomes.
PLUGIN = textwrap.dedent(
    '''
    import importlib
    import importlib.abc
    import importlib.util
    import json
    import os
    import sys
    import time


    class _Alias(importlib.abc.Loader):
        def __init__(self, module):
            self.module = module

        def create_module(self, spec):
            return self.module

        def exec_module(self, module):
            pass


    class _PyroToPplkit(importlib.abc.MetaPathFinder):
        """`import pyro.X` gives the module `pplkit.X` itself (one module object, not a copy)."""

        def find_spec(self, fullname, path=None, target=None):
            if fullname != "pyro" and not fullname.startswith("pyro."):
                return None
            target_name = "pplkit" + fullname[len("pyro"):]
            module = importlib.import_module(target_name)  # ModuleNotFoundError names the pplkit path
            return importlib.util.spec_from_loader(fullname, _Alias(module))


    if not os.environ.get("PPLKIT_SHIM_OFF"):
        for name in [m for m in sys.modules if m == "pyro" or m.startswith("pyro.")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _PyroToPplkit())
        import pyro  # noqa: F401  (now pplkit)

    _COUNTS = {"collected": 0, "passed": 0, "failed": 0, "skipped": 0, "errors": 0, "xfailed": 0}
    # Each test that did not pass: its node id -> "ExceptionType: first line" (or "skipped").
    _NOT_PASSED = {}
    _PASSED = []
    _OUT = os.environ["PPLKIT_SHIM_COUNTS"]
    _last_dump = [0.0]


    def _dump(force=False):
        # Atomic, so that a run cut off by the timeout leaves the last complete counts; at
        # most once a second, since a file can hold thousands of tests.
        if not force and time.monotonic() - _last_dump[0] < 1.0:
            return
        _last_dump[0] = time.monotonic()
        with open(_OUT + ".tmp", "w") as f:
            json.dump(dict(_COUNTS, not_passed=_NOT_PASSED, passed_ids=_PASSED), f)
        os.replace(_OUT + ".tmp", _OUT)


    def pytest_collection_modifyitems(items):
        _COUNTS["collected"] = len(items)
        _dump(force=True)


    def pytest_collectreport(report):
        if report.failed:
            _COUNTS["errors"] += 1
            _COUNTS["collect_error"] = str(report.longrepr).strip().splitlines()[-1][:300]
            _dump(force=True)


    def _reason(report):
        # "ExceptionType: first line", the same for every test failing for one cause.
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)
        lines = text.strip().splitlines()
        return (lines[0] if lines else "?")[:200]


    def pytest_runtest_logreport(report):
        if hasattr(report, "wasxfail"):
            if report.when == "call" or report.skipped:
                _COUNTS["xfailed"] += 1
        elif report.when == "call" and report.passed:
            _COUNTS["passed"] += 1
            _PASSED.append(report.nodeid)
        elif report.failed:
            if report.nodeid not in _NOT_PASSED:  # a failed call and teardown are one failure
                _COUNTS["failed"] += 1
                _NOT_PASSED[report.nodeid] = _reason(report)
        elif report.skipped:
            _COUNTS["skipped"] += 1
            _NOT_PASSED[report.nodeid] = "skipped"
        _dump()


    def pytest_sessionfinish(session):
        _dump(force=True)
    '''
)


def _memory_cap(gigabytes: float):
    """A function for ``preexec_fn`` that caps the child's address space (None: no cap)."""
    if gigabytes <= 0:
        return None
    limit = int(gigabytes * 2**30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return cap


def run_file(
    pyro_src: Path,
    test_file: str,
    shim: bool,
    plugin_dir: Path,
    timeout: float,
    test_timeout: float = 0.0,
    memory_gb: float = 0.0,
) -> dict:
    """Run one of Pyro's test files; return the outcome counts (and how long it took).

    ``timeout`` bounds the whole file; ``test_timeout`` (pytest-timeout) bounds each test,
    so that one slow test fails alone instead of cutting off the rest of its file.
    """
    counts_file = plugin_dir / f"counts-{os.getpid()}-{int(shim)}.json"
    counts_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PPLKIT_SHIM_COUNTS"] = str(counts_file)
    # pplkit from this checkout, and the plugin; Pyro's own tree comes first only for real Pyro.
    paths = [str(plugin_dir), str(REPO_ROOT)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    if shim:
        env.pop("PPLKIT_SHIM_OFF", None)
    else:
        env["PPLKIT_SHIM_OFF"] = "1"
    command = [
        sys.executable, "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider", "-p", "pplkit_pyro_shim",
        "--tb=no", "--no-header", "-o", "addopts=",
    ]  # fmt: skip
    if test_timeout > 0:
        command.append(f"--timeout={test_timeout:g}")  # pytest-timeout, a plugin pytest loads itself
    start = time.perf_counter()
    timed_out = False
    try:
        subprocess.run(command, cwd=pyro_src, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=timeout, check=False, preexec_fn=_memory_cap(memory_gb))  # fmt: skip
    except subprocess.TimeoutExpired:
        timed_out = True
    counts = json.loads(counts_file.read_text()) if counts_file.exists() else {"collected": 0, "passed": 0}
    counts["seconds"] = round(time.perf_counter() - start, 1)
    counts["timed_out"] = timed_out
    return counts


def _cell(counts: dict) -> str:
    if counts.get("collected", 0) == 0 and counts.get("errors"):
        return "import error"
    text = f"{counts['passed']}/{counts['collected']}"
    return text + (" (timeout)" if counts.get("timed_out") else "")


def failure_reasons(ours: dict, theirs: dict) -> Counter:
    """Why pplkit fails the tests that real Pyro passes: reason -> how many tests."""
    pyro_passed = set(theirs.get("passed_ids", ()))
    not_passed = ours.get("not_passed", {})
    reasons: Counter = Counter()
    for node_id in pyro_passed.difference(ours.get("passed_ids", ())):
        reasons[not_passed.get(node_id, "not run (file cut off, or collection failed)")] += 1
    return reasons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="test files, relative to PYRO_SRC (default: the issue's list)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per file and run (default 600)")
    parser.add_argument(
        "--test-timeout", type=float, default=0.0,
        help="seconds per test (pytest-timeout), the same for both libraries; 0: none (default)",
    )  # fmt: skip
    parser.add_argument("--memory-gb", type=float, default=0.0, help="address-space cap per run in GiB; 0: none")
    parser.add_argument("--cache", type=Path, help="JSON file keeping real Pyro's counts between runs")
    parser.add_argument("--errors", action="store_true", help="print each file's collection error under pplkit")
    parser.add_argument(
        "--failures", type=int, default=0, metavar="N",
        help="print the N most common reasons pplkit fails tests that Pyro passes, per file and overall",
    )  # fmt: skip
    options = parser.parse_args()

    pyro_src_env = os.environ.get("PYRO_SRC")
    pyro_src = Path(pyro_src_env) if pyro_src_env else None
    if pyro_src is None or not (pyro_src / "tests").is_dir():
        print(f"skipped: set PYRO_SRC to a checkout of Pyro's repository (got {pyro_src_env!r})")
        return 0
    files = options.files or DEFAULT_FILES
    cache: dict = {}
    if options.cache and options.cache.exists():
        cache = json.loads(options.cache.read_text())
    limits = {"timeout": options.timeout, "test_timeout": options.test_timeout, "memory_gb": options.memory_gb}

    rows = []
    overall: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="pplkit-pyro-shim-") as tmp:
        plugin_dir = Path(tmp)
        (plugin_dir / "pplkit_pyro_shim.py").write_text(PLUGIN)
        for test_file in files:
            if not (pyro_src / test_file).is_file():
                print(f"{test_file}: not in {pyro_src}, skipped")
                continue
            ours = run_file(pyro_src, test_file, True, plugin_dir, **limits)
            theirs = cache.get(test_file)
            if theirs is None:
                theirs = run_file(pyro_src, test_file, False, plugin_dir, **limits)
                cache[test_file] = theirs
                if options.cache:  # after each file, so that an interrupted run keeps what it measured
                    options.cache.write_text(json.dumps(cache, indent=1))
            rows.append((test_file, ours, theirs))
            print(f"  {test_file}: pplkit {_cell(ours)} ({ours['seconds']} s), Pyro {_cell(theirs)}", flush=True)
            if options.errors and ours.get("collect_error"):
                print(f"      {ours['collect_error']}")
            reasons = failure_reasons(ours, theirs)
            overall.update(reasons)
            for reason, count in reasons.most_common(options.failures):
                print(f"      {count:5d}  {reason}")
    width = max(len(r[0]) for r in rows) if rows else 10
    print()
    print(f"{'file':<{width}}  {'pplkit':>16}  {'Pyro':>16}  {'pplkit/Pyro':>11}")
    total_ours = total_theirs = 0
    for test_file, ours, theirs in rows:
        share = f"{100 * ours['passed'] / theirs['passed']:.0f}%" if theirs["passed"] else "-"
        print(f"{test_file:<{width}}  {_cell(ours):>16}  {_cell(theirs):>16}  {share:>11}")
        total_ours += ours["passed"]
        total_theirs += theirs["passed"]
    if rows:
        share = f"{100 * total_ours / total_theirs:.1f}%" if total_theirs else "-"
        print(f"{'total passed':<{width}}  {total_ours:>16}  {total_theirs:>16}  {share:>11}")
    if options.failures and overall:
        print(f"\nwhy pplkit fails tests that Pyro passes, all files ({sum(overall.values())} tests):")
        for reason, count in overall.most_common(options.failures):
            print(f"  {count:5d}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

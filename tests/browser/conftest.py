"""Shared browser-test fixtures: JupyterLab or Voila on loopback, and a headless chromium page.

The recipe is /work/shared/BROWSER.md: Debian's chromium driven by Playwright
(``playwright install`` needs a download we cannot make), ``--allow-root`` for servers
run as root, an empty token, and a throw-away Jupyter config so no news toast covers
the page. Servers always serve temporary copies, so JupyterLab's autosave can never
touch the repository.

Fixtures:
    ``serve_lab(folder)``: start JupyterLab on a copy of ``folder``; returns a ``Server``.
    ``serve_voila(notebook)``: start Voila on a copy of ``notebook``'s folder.
    ``page``: a fresh Playwright page in headless chromium (a screenshot is saved under
        ``test-artifacts/`` when the test fails).
    ``lab_ui``: ``open_notebook``, ``wait_kernel_idle`` and ``run_all_cells`` for JupyterLab.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Debian's wrapper script fails to add this itself; it matters with a small /dev/shm.
    "--disable-dev-shm-usage",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SERVER_START_TIMEOUT_S = 90


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    root: Path  # the temporary folder being served
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def jupyter_environment(work: Path) -> dict[str, str]:
    """Environment for a server with its own config, data and runtime folders."""
    settings = work / "config" / "lab" / "user-settings" / "@jupyterlab"
    _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    # Keep every cell attached to the DOM, so tests can find outputs below the fold.
    _write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings", {"windowingMode": "none"})
    return dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_DATA_DIR=str(work / "data"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        IPYTHONDIR=str(work / "ipython"),
    )


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                tail = log.read_text()[-3000:]
                raise RuntimeError(f"server not listening after {SERVER_START_TIMEOUT_S}s:\n{tail}") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def _servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[list[str], Path], Server]]:
    """Starts servers on demand and stops every one of them at the end of the session."""
    running: list[subprocess.Popen] = []

    def start(command: list[str], folder: Path, jupyter_path: Sequence[Path] = ()) -> Server:
        work = tmp_path_factory.mktemp("server")
        root = work / "root"
        shutil.copytree(folder, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        port = free_port()
        log = work / "server.log"
        argv = [sys.executable, "-m", *command, f"--port={port}", "--no-browser"]
        env = jupyter_environment(work)
        if jupyter_path:
            env["JUPYTER_PATH"] = os.pathsep.join(map(str, jupyter_path))
        with log.open("w") as log_file:
            process = subprocess.Popen(argv, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        running.append(process)
        _wait_until_listening(process, port, log)
        return Server(f"http://127.0.0.1:{port}", root, log)

    yield start
    for process in running:
        _stop(process)


@pytest.fixture(scope="session")
def serve_lab(_servers) -> Callable[[Path], Server]:
    """``serve_lab(folder)``: JupyterLab on a copy of ``folder``, no token; open ``url/lab/tree/NAME?reset``."""

    def serve(folder: Path) -> Server:
        command = ["jupyterlab", "--ip=127.0.0.1", "--ServerApp.port_retries=0",
                   "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.root_dir=."]
        if os.geteuid() == 0:
            command.append("--allow-root")  # else: "Running as root is not recommended"
        return _servers(command, folder)

    return serve


def voila_jupyter_path() -> list[Path]:
    """The JUPYTER_PATH that ``make demo`` gives Voila: pplkit's template, then the pinned widget front end.

    The front end is the Makefile's ``pip install --target $(VENV)/voila-frontend`` of
    demo/frontend-requirements.txt; without it Voila would load the learners' newer widget
    extension, built for a newer JupyterLab than Voila bundles.
    """
    frontend = Path(sys.prefix) / "voila-frontend" / "share" / "jupyter"
    if not (frontend / "labextensions").is_dir():
        pytest.fail(f"{frontend} is missing: run `make {Path(sys.prefix).name}/.dev` (or .demo) to install "
                    "demo/frontend-requirements.txt there")
    return [REPO / "demo" / "jupyter", frontend]


@pytest.fixture(scope="session")
def serve_voila(_servers) -> Callable[[Path], Server]:
    """``serve_voila(notebook)``: the notebook as a Voila dashboard at ``url`` (as ``make demo`` does)."""

    def serve(notebook: Path) -> Server:
        return _servers(
            ["voila", notebook.name, "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
            notebook.parent,
            voila_jupyter_path(),
        )

    return serve


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def _browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium or set CHROMIUM")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        profile = tmp_path_factory.mktemp("chromium-profile")
        # Playwright rejects --user-data-dir in args; a persistent context takes the folder.
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1600},
        )
        yield context
        context.close()


@pytest.fixture
def page(_browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A new chromium page, closed after the test; a screenshot is kept if the test fails."""
    new_page = _browser.new_page()
    new_page.set_default_timeout(60_000)
    yield new_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        new_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-FAILED.png"), full_page=True)
    new_page.close()


class LabUI:
    """Steps through JupyterLab's interface that several browser tests need."""

    @staticmethod
    def open_notebook(page, server: Server, name: str) -> None:
        """Open ``name`` (relative to the served folder), ignoring any saved workspace."""
        page.goto(f"{server.url}/lab/tree/{name}?reset")

    @staticmethod
    def wait_kernel_idle(page, timeout_ms: int = 120_000) -> None:
        """Wait until JupyterLab's status bar says the kernel is idle.

        The toolbar's execution indicator says "idle" before the kernel has even started, so
        only the status bar text can be trusted.
        """
        from playwright.sync_api import expect

        idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\(ipykernel\) \| Idle$"))
        expect(idle).to_be_visible(timeout=timeout_ms)

    @staticmethod
    def run_all_cells(page) -> None:
        """Run > Run All Cells, through JupyterLab's menu bar."""
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()


@pytest.fixture(scope="session")
def docs_picture() -> Callable[[str], Path]:
    """Where a screenshot that docs/ publishes is written: under test-artifacts/docs/ as a rule,
    and into docs/ itself only with PPLKIT_PUBLISH_SCREENSHOTS=1, so that running the tests
    never changes a tracked file (refresh the published ones with that variable set)."""
    publish = os.environ.get("PPLKIT_PUBLISH_SCREENSHOTS") == "1"
    folder = REPO / "docs" if publish else ARTIFACTS / "docs"

    def path(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    return path


@pytest.fixture(scope="session")  # stateless: module-scoped fixtures may use it too
def lab_ui() -> type[LabUI]:
    """Helpers to drive JupyterLab: ``open_notebook``, ``wait_kernel_idle``, ``run_all_cells``."""
    return LabUI

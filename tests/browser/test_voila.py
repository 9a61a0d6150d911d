"""The live-demo mode: Voila serves the focused dashboard (demo/dashboard.ipynb) as ``make demo`` does.

Checked in headless chromium: the time from opening the page to the first picture (the
explorer's model graph), that the first fit starts only once the page is shown and then
finishes, a browser console free of errors and warnings (version mismatches included), no
request to any host but the loopback server, and that the kernel of a closed tab is shut
down by the culler of demo/voila.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "demo" / "dashboard.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
FIRST_PICTURE_TARGET_S = 10.0  # on an idle 2-core machine; measured and reported, asserted loosely below
KERNEL_GONE_TIMEOUT_S = 90  # heartbeat silence (15 s) + the culler's idle timeout (20 s) and interval (5 s)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def kernel_processes(url: str) -> list[psutil.Process]:
    """The ipykernel processes of the server listening at ``url``."""
    port = int(url.rsplit(":", 1)[1])
    (server,) = {c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"}
    return [p for p in psutil.Process(server).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]


def wait_for_preheated_kernel(url: str, timeout_s: float = 180) -> float:
    """Wait until demo/voila.json's pool holds a kernel that has run the notebook (its CPU falls quiet).

    A teacher starts ``make demo`` before the class; the first visitor then gets this kernel.
    Returns the seconds waited.
    """
    start = time.monotonic()
    quiet = 0
    while time.monotonic() - start < timeout_s:
        kernels = kernel_processes(url)
        busy = [k.cpu_percent(interval=0.5) for k in kernels]
        quiet = quiet + 1 if kernels and max(busy) < 5.0 else 0
        if quiet >= 4:
            return time.monotonic() - start
    raise AssertionError(f"no preheated kernel settled within {timeout_s} s")


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def off_server(url: str) -> bool:
    """Whether the page asked a host other than the loopback Voila server for ``url``."""
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about") and parts.hostname != "127.0.0.1"


def test_dashboard_first_picture_clean_console_and_culled_kernel(serve_voila, page):
    from playwright.sync_api import expect

    assert DASHBOARD.is_file(), f"{DASHBOARD.relative_to(ROOT)} is missing: `make demo` has no dashboard to serve"
    makefile = (ROOT / "Makefile").read_text()
    assert "cd demo && " in makefile and "voila dashboard.ipynb" in makefile
    # serve_voila gives Voila the same JUPYTER_PATH (pplkit's template, the pinned widget front end).
    assert "JUPYTER_PATH=$(VOILA_JUPYTER_PATH)" in makefile and "voila-frontend" in makefile

    server = serve_voila(DASHBOARD)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on("requestfailed", lambda request: console.append(f"requestfailed: {request.url}"))
    # Checked apart from the console: a classroom may be offline, and a CDN that answers is silent.
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if off_server(request.url) else None)

    preheat_s = wait_for_preheated_kernel(server.url)
    start = time.monotonic()
    page.goto(f"{server.url}/")
    graph = page.locator(".pplkit-explorer .pplkit-svg-view svg").first
    expect(graph).to_be_visible(timeout=120_000)
    first_picture_s = time.monotonic() - start

    # The fit starts after the page is shown, and its ELBO curve finishes.
    expect(page.locator(".pplkit-explorer .pk-status-done").first).to_be_visible(timeout=180_000)
    fitted_s = time.monotonic() - start
    text = page.locator("body").inner_text()
    assert "Traceback (most recent call last)" not in text and "There was an error when executing" not in text, (
        f"a cell failed in Voila; see {server.log}"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "voila_dashboard.png"), full_page=True)

    # The page's kernel, not the pool's fresh one that Voila starts for the next visitor.
    before = {k.pid for k in kernel_processes(server.url)}
    page.close()
    closed = time.monotonic()
    kernels_open = [psutil.Process(pid) for pid in before]
    while sum(map(alive, kernels_open)) > len(before) - 1:
        assert time.monotonic() - closed < KERNEL_GONE_TIMEOUT_S, f"the closed tab's kernel runs on; see {server.log}"
        time.sleep(1.0)
    culled_s = time.monotonic() - closed

    timings = {"preheat_s": round(preheat_s, 1), "first_picture_s": round(first_picture_s, 1),
               "first_fit_done_s": round(fitted_s, 1), "kernel_gone_after_close_s": round(culled_s, 1),
               "console": console, "requests_off_server": outside}
    (ARTIFACTS / "voila_dashboard_timing.json").write_text(json.dumps(timings, indent=1))
    print(f"dashboard: first picture {first_picture_s:.1f} s (target {FIRST_PICTURE_TARGET_S:.0f} s on an idle "
          f"2-core machine), first fit done {fitted_s:.1f} s, kernel gone {culled_s:.1f} s after the tab closed")
    assert kernels_open, "no kernel process was found for the dashboard"
    # Version warnings come back if voila's pin and demo/frontend-requirements.txt drift apart.
    assert not console, "the browser console is not clean:\n" + "\n".join(console)
    assert not outside, "the page asked another host than Voila's:\n" + "\n".join(outside)
    # Loose: a shared CI machine is not idle; the measured number above is the one to report.
    assert first_picture_s < 3 * FIRST_PICTURE_TARGET_S

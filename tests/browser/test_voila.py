"""The live-demo mode: Voila serves the explorer notebook as a dashboard, as ``make demo`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPLORER = ROOT / "tutorials" / "03_explore.ipynb"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_voila_renders_the_explorer_widgets(serve_voila, page):
    from playwright.sync_api import expect

    assert EXPLORER.is_file(), f"{EXPLORER.relative_to(ROOT)} is missing: `make demo` has no dashboard to serve"

    server = serve_voila(EXPLORER)
    page.goto(f"{server.url}/")
    # Voila runs every cell in a kernel before the widgets appear.
    explorer = page.locator(".pplkit-explorer")
    expect(explorer).to_be_visible(timeout=180_000)
    expect(explorer.locator(":is(input, select, button)").first).to_be_visible()

    text = page.locator("body").inner_text()
    assert "Traceback (most recent call last)" not in text and "There was an error when executing" not in text, (
        f"a cell failed in Voila; see {server.log}"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "voila_explorer.png"), full_page=True)

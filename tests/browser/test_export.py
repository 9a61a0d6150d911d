"""Exports keep every widget's picture: tutorial 02, executed and exported to HTML, viewed offline.

``widgets.export`` runs the notebook without storing widget state, so nbconvert's HTML
exporter falls back to each widget's ``image/svg+xml`` picture instead of a widget view
whose scripts would come from a CDN. The page is opened in chromium with every network
request refused: each picture must be there, visible, and hold its curve.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from widgets.export import WIDGET_VIEW, execute_static, to_html

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"

# Every SVG picture in an output (nbconvert writes them as <img> with a data: URL): whether it
# loaded, its size on screen, and its SVG text.
PICTURES = """() => [...document.querySelectorAll(".jp-OutputArea-output img")]
  .filter((img) => img.src.startsWith("data:image/svg+xml"))
  .map((img) => {
    const box = img.getBoundingClientRect();
    const b64 = img.src.split(",")[1];
    return { loaded: img.complete && img.naturalWidth > 0, width: box.width, height: box.height,
             svg: decodeURIComponent(escape(atob(b64))),
             visible: getComputedStyle(img).visibility !== "hidden" && getComputedStyle(img).display !== "none" };
  })"""


def drawn_lines(svg: str) -> int:
    """Polylines with more than a couple of points."""
    import re

    return sum(1 for points in re.findall(r'<polyline[^>]*points="([^"]*)"', svg) if points.count(",") > 3)


def test_an_exported_tutorial_shows_every_widget_picture_offline(page, tmp_path):
    notebook = execute_static(TUTORIALS / "02_live_svi.ipynb")
    assert "widgets" not in notebook.metadata
    assert not any(WIDGET_VIEW in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    pictures_in_notebook = [o["data"]["image/svg+xml"] for c in notebook.cells for o in c.get("outputs", [])
                            if "image/svg+xml" in o.get("data", {})]
    assert len(pictures_in_notebook) >= 4  # the chart, the controller, the model view, the failed run
    html = tmp_path / "02_live_svi.html"
    html.write_text(to_html(notebook), encoding="utf-8")

    refused = []

    def offline(route) -> None:
        refused.append(route.request.url)
        route.abort()

    page.route("http://**/*", offline)
    page.route("https://**/*", offline)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    pictures = page.evaluate(PICTURES)
    assert len(pictures) >= len(pictures_in_notebook)
    for picture in pictures:
        assert picture["loaded"] and picture["visible"], picture["svg"][:200]
        assert picture["width"] > 200 and picture["height"] > 100, (picture["width"], picture["height"])
    charts = [p["svg"] for p in pictures if "ELBO loss" in p["svg"]]
    assert len(charts) >= 3, "the chart, the controller and the failed run each show their chart"
    trained = [svg for svg in charts if "done" in svg]
    assert len(trained) >= 2 and all(drawn_lines(svg) >= 2 for svg in trained)
    assert any(">converged<" in svg for svg in trained)  # the verdict travels with the picture
    assert any('id="node:obs"' in p["svg"] or "obs" in p["svg"] for p in pictures)  # the model view
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "export_offline.html").write_text(html.read_text(encoding="utf-8"), encoding="utf-8")
    page.screenshot(path=str(artifacts / "export_offline.png"), full_page=False)

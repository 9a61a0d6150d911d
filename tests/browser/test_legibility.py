"""Legible from the back row: every text of every pplkit widget, measured in JupyterLab at 1280x720 and 1920x1080.

Tutorials 02 and 03 are run in JupyterLab (``CI=1``: the fits run in the cell, so Run
All ends with every widget drawn). Then, at each window size, every element of each
widget that holds text is measured in the page:

- its size on screen is at least 12 px: computed font-size for HTML, and for SVG text
  the font-size times the scale from its viewBox to the screen (``getScreenCTM``);
- nothing is cut off: HTML text fits its box (``scrollWidth <= clientWidth`` unless the
  box scrolls on purpose), SVG text lies inside its SVG, buttons keep their label on one line;
- one sans-serif family: no serif text (graphviz's default Times) among the sans-serif.

Each widget kind is a separate test, so a failure names the widget kind at fault.
Screenshots of the training widgets at both sizes go to ``docs/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}
MIN_PX = 11.9  # 12 px, less rounding

# kind -> (CSS selector of its roots, selectors of parts that belong to another kind)
KINDS = {
    "elbo-chart": (".pplkit-elbo", []),
    "controller": (".pplkit-controller", [".pplkit-elbo", ".pplkit-trajectories"]),
    "trajectories": (".pplkit-trajectories", []),
    "model-view": (".pplkit-model-view", []),
    "explorer": (".pplkit-explorer", [".pplkit-elbo", ".pplkit-model-view"]),
}

RUN_ALL_DONE = """() => {
  const prompts = [...document.querySelectorAll(".jp-CodeCell .jp-InputArea-prompt")].map((p) => p.textContent);
  return prompts.length > 0 && !prompts.some((t) => t.includes("*")) && /\\d/.test(prompts[prompts.length - 1]);
}"""

MEASURE = """([rootSelector, skip, minPx]) => {
  const problems = [];
  const families = new Set();
  let texts = 0;
  const roots = [...document.querySelectorAll(rootSelector)].filter((r) => r.getBoundingClientRect().width > 0);
  const hasOwnText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const describe = (el) =>
    `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${el.textContent.trim().slice(0, 40)}"`;
  for (const root of roots) {
    for (const el of root.querySelectorAll("*")) {
      if (skip.some((s) => el.closest(s) && el.closest(s) !== root && root.contains(el.closest(s)))) continue;
      if (!hasOwnText(el)) continue;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.display === "none" || style.visibility === "hidden" || box.width === 0) continue;
      if (el.closest("pre")) continue;  // error tracebacks are monospace on purpose
      texts += 1;
      families.add(style.fontFamily);
      const svg = el.ownerSVGElement;
      let px = parseFloat(style.fontSize);
      if (svg) {
        const m = el.getScreenCTM();
        px *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
        const outer = svg.getBoundingClientRect();
        if (box.left < outer.left - 1 || box.right > outer.right + 1 ||
            box.top < outer.top - 1 || box.bottom > outer.bottom + 1) {
          problems.push(`outside its svg: ${describe(el)}`);
        }
      } else {
        const scrolls = ["auto", "scroll"].includes(style.overflowX);
        if (!scrolls && el.scrollWidth > el.clientWidth + 1 && style.display !== "inline") {
          problems.push(`cut off (${el.scrollWidth} > ${el.clientWidth} px): ${describe(el)}`);
        }
      }
      if (px < minPx) problems.push(`${px.toFixed(1)} px: ${describe(el)}`);
    }
    for (const button of root.querySelectorAll("button")) {
      if (skip.some((s) => button.closest(s) && root.contains(button.closest(s)))) continue;
      const bs = getComputedStyle(button);
      const lineHeight = parseFloat(bs.fontSize) * 1.6;
      const padding = parseFloat(bs.paddingTop) + parseFloat(bs.paddingBottom);
      const inner = button.scrollHeight - padding;
      if (inner > lineHeight * 1.5 || button.scrollWidth > button.clientWidth + 1) {
        problems.push(`button label wraps or is cut: ${describe(button)}`);
      }
    }
  }
  const serif = [...families].filter((f) => /(^|,\\s*)("?Times|serif$)/i.test(f) && !/sans-serif/i.test(f));
  if (serif.length) problems.push(`serif text among sans-serif: ${serif.join(" | ")}`);
  return { roots: roots.length, texts, problems, families: [...families] };
}"""


@pytest.fixture(scope="module")
def measured(serve_lab, _browser, lab_ui, tmp_path_factory, docs_picture):
    """(tutorial, size) -> kind -> measurement, from one Run All of each tutorial in JupyterLab."""
    import shutil

    from playwright.sync_api import expect

    LabUI = lab_ui  # noqa: N806
    folder = tmp_path_factory.mktemp("tutorials")
    for name in ("02_live_svi.ipynb", "03_explore.ipynb"):
        shutil.copy(ROOT / "tutorials" / name, folder / name)
    previous = os.environ.get("CI")
    os.environ["CI"] = "1"  # the kernel inherits it: fits run in the cell, so Run All ends drawn
    try:
        server = serve_lab(folder)
    finally:
        if previous is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = previous
    results = {}
    page = _browser.new_page()
    page.set_default_timeout(120_000)
    try:
        for name in ("02_live_svi.ipynb", "03_explore.ipynb"):
            page.set_viewport_size({"width": 1280, "height": 720})
            LabUI.open_notebook(page, server, name)
            LabUI.wait_kernel_idle(page)
            LabUI.run_all_cells(page)
            page.wait_for_timeout(2000)
            # Run All is done when no cell waits or runs ("[*]") and the last one has run
            page.wait_for_function(RUN_ALL_DONE, timeout=900_000, polling=1000)
            LabUI.wait_kernel_idle(page, timeout_ms=600_000)
            expect(page.locator(".pplkit-elbo").first).to_be_visible()
            page.wait_for_timeout(2000)
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(1000)  # reflow
                results[(name, size)] = {kind: page.evaluate(MEASURE, [sel, skip, MIN_PX])
                                         for kind, (sel, skip) in KINDS.items()}
                if name.startswith("02"):
                    _screenshots(page, size, docs_picture)
                    page.set_viewport_size({"width": width, "height": height})
            page.evaluate("() => window.jupyterapp && window.jupyterapp.commands.execute('docmanager:close-all')")
    finally:
        page.close()
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "legibility.json").write_text(json.dumps(
        {f"{name} {size}": kinds for (name, size), kinds in results.items()}, indent=1))
    return results


def _screenshots(page, size: str, docs_picture) -> None:
    """The controller and the chart at this window width (taller, so neither is cut by the window)."""
    width = SIZES[size][0]
    page.set_viewport_size({"width": width, "height": 1800})
    page.wait_for_timeout(800)
    controller = page.locator(".pplkit-controller").first
    controller.scroll_into_view_if_needed()
    controller.screenshot(path=str(docs_picture(f"controller-{size}.png")))
    chart = page.locator(".pplkit-elbo").first
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(docs_picture(f"elbo-chart-{size}.png")))


CASES = [
    pytest.param(tutorial, size, kind, id=f"{tutorial[:2]}-{size}-{kind}")
    for tutorial in ("02_live_svi.ipynb", "03_explore.ipynb") for size in SIZES for kind in KINDS
]


@pytest.mark.parametrize(("tutorial", "size", "kind"), CASES)
def test_every_text_is_legible_and_whole(measured, tutorial, size, kind):
    result = measured[(tutorial, size)][kind]
    if result["roots"] == 0:
        pytest.skip(f"no {kind} in {tutorial}")
    assert result["texts"] > 0
    assert not result["problems"], "\n".join(result["problems"][:30])

"""Tutorial 03 in a real JupyterLab: each section's picture agrees with the numbers printed beside it.

Run All on a copy of ``tutorials/`` (with ``CI=1``, as the nbclient tests run it: fewer steps,
fits in the cell's own thread). Then, in the browser's DOM, for every section that shows
``explorer.freeze(...)``: the numbers the cell printed are among the texts its picture shows,
and its caption names that section's change. The live explorer itself must have moved on
(it shows the last section's guide). At 1280x720 and 1920x1080 every text of the explorer and
of the frozen pictures is drawn at 12 px or more, lies inside its own picture, and no picture
needs a scroll bar; the explorer's screenshots at both sizes are copied to ``docs/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SUMMARY = re.compile(r"-?[\d.]+(?:e[-+]?\d+)? ± [\d.]+(?:e[-+]?\d+)?")
SIZES = [(1280, 720), (1920, 1080)]

# For every <text> inside ``root``: its drawn font size (computed size x the SVG's scale on
# screen), whether its box lies inside its outermost <svg>, and its text.
MEASURE_TEXTS = """(root) => {
  const out = [];
  for (const t of root.querySelectorAll("svg text")) {
    // The ELBO chart is measured by the chart's own legibility test.
    if (!t.textContent.trim() || t.closest(".pplkit-elbo")) continue;
    let svg = t.ownerSVGElement;
    while (svg.parentElement && svg.parentElement.closest("svg")) svg = svg.parentElement.closest("svg");
    const ctm = t.getScreenCTM();
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
    const px = parseFloat(getComputedStyle(t).fontSize) * scale;
    const box = t.getBoundingClientRect(), frame = svg.getBoundingClientRect();
    const inside = box.left >= frame.left - 1 && box.right <= frame.right + 1 &&
                   box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1;
    out.push({text: t.textContent.trim(), px, inside, family: getComputedStyle(t).fontFamily});
  }
  return out;
}"""

SCROLLING = """(root) => [...root.querySelectorAll(".pplkit-svg-view")]
  .filter((v) => v.offsetParent !== null && v.scrollWidth > v.clientWidth + 1).length"""


def printed_and_picture(cell) -> tuple[str, list[str]]:
    """A notebook cell's printed text and the texts of the frozen picture it shows."""
    printed = " ".join(cell.locator(".jp-RenderedText").all_text_contents())
    picture = cell.locator(".pplkit-frozen-view svg").first
    texts = picture.evaluate("(svg) => [...svg.querySelectorAll('text')].map((t) => t.textContent.trim())")
    return printed, texts


# Where an element lies in the window: wholly inside it, below the notebook's toolbar and
# above JupyterLab's status bar.
FIRST_SCREEN = """(e) => {
  const r = e.getBoundingClientRect();
  const bar = document.querySelector(".jp-StatusBar, #jp-bottom-panel");
  const bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
  return { top: Math.round(r.top), bottom: Math.round(r.bottom), window: Math.round(bottom),
           inside: r.top >= 0 && r.bottom <= bottom + 1 && r.height > 0 };
}"""


def code_cell(page, starts_with: str):
    cells = page.locator(".jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        if (cell.locator(".jp-InputArea-editor").text_content() or "").strip().startswith(starts_with):
            return cell
    raise AssertionError(f"no cell starts with {starts_with!r}")


def test_explore_tutorial_sections_in_jupyterlab(serve_lab, page, lab_ui, tmp_path, monkeypatch, docs_picture):
    from playwright.sync_api import expect

    monkeypatch.setenv("CI", "1")  # the kernel inherits it: the tutorial's smoke-test settings
    folder = tmp_path / "tutorials"
    shutil.copytree(ROOT / "tutorials", folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = serve_lab(folder)
    page.set_viewport_size({"width": 1280, "height": 720})
    lab_ui.open_notebook(page, server, "03_explore.ipynb")
    lab_ui.wait_kernel_idle(page)
    lab_ui.run_all_cells(page)
    expect(page.locator(".pplkit-frozen-view svg")).to_have_count(4, timeout=600_000)
    lab_ui.wait_kernel_idle(page, timeout_ms=600_000)

    sections = {
        'explorer.set_prior("a"': "fit of a ~ Normal(loc=0, scale=0.1)",
        'explorer.set_free("obs")': "fit of obs: free (not conditioned on its data)",
        'explorer.intervene("bR", 0.0)': "fit of do(bR = 0)",
        'explorer.use_guide("AutoMultivariateNormal")': "AutoMultivariateNormal fit of the model as written",
    }
    for code, caption in sections.items():
        printed, texts = printed_and_picture(code_cell(page, code))
        joined = " ".join(texts)
        assert caption in joined, (code, joined[:300])
        assert "NOT CONVERGED" not in joined and ": converged: loss" in joined
        for number in SUMMARY.findall(printed):
            assert number in texts, f"{code}: printed {number} is not in its picture"
        for value in re.findall(r"corr\(\w+, \w+\) = (-?[\d.]+)", printed):
            assert value in texts, f"{code}: printed correlation {value} is not in its picture"
    priors_printed, _ = printed_and_picture(code_cell(page, 'explorer.set_prior("a"'))
    assert SUMMARY.findall(priors_printed), "the Priors section printed no posterior summary"

    explorer = page.locator(".pplkit-explorer")
    expect(explorer.locator(".pplkit-guide select")).to_have_value("AutoMultivariateNormal")  # live: moved on
    problems: list[str] = []  # every size and picture is checked (and shot) before the test fails
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        # What a projector shows: the window, scrolled to the explorer's top.
        explorer.evaluate("(e) => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        picture = ARTIFACTS / f"explorer-{width}x{height}.png"
        page.screenshot(path=str(picture))
        # The pictures come first: the ELBO chart and the predictive check fill the first screen.
        for selector in (".pplkit-elbo", ".pplkit-predictive-view svg"):
            box = explorer.locator(selector).first.evaluate(FIRST_SCREEN)
            if not box["inside"]:
                problems.append(f"{width}x{height}: {selector} is not on the first screen: {box}")
        for i, root in enumerate([explorer, *page.locator(".pplkit-frozen-view").all()]):
            where = f"{width}x{height}, {'the explorer' if i == 0 else f'frozen picture {i}'}"
            texts = root.evaluate(MEASURE_TEXTS)
            if not texts:
                problems.append(f"{where}: no text measured")
            small = sorted({(t["text"], round(t["px"], 1)) for t in texts if t["px"] < 11.95})
            if small:
                problems.append(f"{where}: {len(small)} texts under 12 px, e.g. {small[:6]}")
            outside = [t["text"] for t in texts if not t["inside"]]
            if outside:
                problems.append(f"{where}: texts outside their picture: {outside[:6]}")
            serif = {t["family"] for t in texts if "serif" in t["family"] and "sans" not in t["family"]}
            if serif:
                problems.append(f"{where}: serif text: {serif}")
        scrolling = explorer.evaluate(SCROLLING)
        if scrolling:
            problems.append(f"{width}x{height}: {scrolling} of the explorer's pictures need a scroll bar")
        if not problems:
            shutil.copyfile(picture, docs_picture(f"explorer-{width}x{height}.png"))
    assert not problems, "\n".join(problems)

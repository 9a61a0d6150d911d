"""The committed tutorials, read as a reader of the repository would: every picture there, offline.

Each tutorial file, exactly as committed (``make tutorials`` saved its outputs), is converted
to HTML by nbconvert without running anything, as GitHub's viewer and nbviewer show a
notebook, and opened in chromium with every request refused except ``file:`` and
127.0.0.1. Every picture must load and be visible at a readable size, and in tutorial 03
each section's frozen picture must agree with the numbers printed beside it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts"
PICTURE_KINDS = ("image/svg+xml", "image/png")

# Every picture in cell ``index``'s outputs (all cells when index is null): kind, whether it loaded,
# its box on the page, and for an SVG its text; with the text the cell printed (nbconvert shows
# stdout as text/plain).
CELL_OUTPUTS = """(index) => {
  const cells = [...document.querySelectorAll(".jp-Cell")];
  const chosen = index === null ? cells : [cells[index]];
  const pictures = chosen.flatMap((cell) => [...cell.querySelectorAll(".jp-OutputArea-output img")]).map((img) => {
    const box = img.getBoundingClientRect(), style = getComputedStyle(img);
    const svg = img.src.startsWith("data:image/svg+xml");
    return { kind: svg ? "image/svg+xml" : img.src.slice(5, img.src.indexOf(";")),
             loaded: img.complete && img.naturalWidth > 0, width: box.width, height: box.height,
             left: box.left + window.scrollX, right: box.right + window.scrollX,
             visible: style.visibility !== "hidden" && style.display !== "none" && Number(style.opacity) > 0,
             svg: svg ? decodeURIComponent(escape(atob(img.src.split(",")[1]))) : "" };
  });
  const printed = chosen.flatMap((cell) =>
    [...cell.querySelectorAll('.jp-RenderedText.jp-OutputArea-output[data-mime-type="text/plain"]')])
    .map((out) => out.innerText).join("\\n");
  return { cells: cells.length, pictures, printed, pageWidth: document.documentElement.clientWidth };
}"""

SUMMARY = re.compile(r"(-?[\d.]+(?:e[-+]?\d+)? ± [\d.]+(?:e[-+]?\d+)?)")


def svg_texts(svg: str) -> list[str]:
    """The text of every <text> element, unescaped, as the browser shows it."""
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]


@pytest.fixture
def open_as_reader(page, tmp_path):
    """``open_as_reader(path)``: the committed notebook as nbconvert's HTML, offline; returns the notebook."""
    import nbformat

    from widgets.export import to_html

    refused: list[str] = []

    def offline(route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("file", "data") or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", offline)

    def open_page(path: Path, width: int = 1280, height: int = 720):
        notebook = nbformat.read(path, as_version=4)
        page_file = tmp_path / f"{path.stem}.html"
        page_file.write_text(to_html(notebook), encoding="utf-8")  # converted, not executed
        page.set_viewport_size({"width": width, "height": height})
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        return notebook

    open_page.refused = refused
    return open_page


def picture_outputs(notebook) -> list[str]:
    """The kind of each committed picture, in order (one per output: nbconvert shows the richest)."""
    kinds = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            kinds += [kind for kind in PICTURE_KINDS if kind in output.get("data", {})][:1]
    return kinds


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_committed_picture_is_visible_offline(open_as_reader, page, path):
    notebook = open_as_reader(path)
    shown = page.evaluate(CELL_OUTPUTS, None)
    assert shown["cells"] == len(notebook.cells)
    expected = picture_outputs(notebook)
    assert [p["kind"] for p in shown["pictures"]] == expected, "each committed picture is on the page, in order"
    for picture in shown["pictures"]:
        described = picture["svg"][:160] or picture["kind"]
        assert picture["loaded"] and picture["visible"], described
        assert picture["width"] >= 200 and picture["height"] >= 80, (picture["width"], picture["height"], described)
        assert picture["left"] >= 0 and picture["right"] <= shown["pageWidth"] + 1, ("cut off at the side", described)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reader-{path.stem}.png"), full_page=True)


def lines(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.strip()]


def cell_index(notebook, code_start: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.source.startswith(code_start))


def section(page, notebook, code_start: str) -> tuple[str, list[str], str]:
    """(printed text, the texts of its one picture, the picture's SVG) of a section's cell, as shown."""
    shown = page.evaluate(CELL_OUTPUTS, cell_index(notebook, code_start))
    (picture,) = shown["pictures"]
    assert picture["loaded"] and picture["visible"]
    return shown["printed"], svg_texts(picture["svg"]), html.unescape(picture["svg"])


def assert_caption(texts: list[str], fit_of: str) -> None:
    caption = " ".join(t for t in texts if "fit of" in t or ": converged" in t or "after" in t)
    assert f"fit of {fit_of}: converged: loss" in caption, caption
    assert not any("NOT CONVERGED" in t for t in texts)


def test_each_section_of_tutorial_03_shows_the_numbers_printed_beside_it(open_as_reader, page):
    notebook = open_as_reader(ROOT / "tutorials" / "03_explore.ipynb", 1920, 1080)

    printed, texts, _ = section(page, notebook, 'explorer.set_prior("a"')  # Priors: a ~ Normal(0, 0.1)
    assert_caption(texts, "a ~ Normal(loc=0, scale=0.1)")
    (a_shown,) = SUMMARY.findall(printed)
    assert a_shown in texts and "a ~ Normal(0, 0.1)" in texts
    followup = page.evaluate(CELL_OUTPUTS, cell_index(notebook, "print(f\"sigma: {explorer.summary('sigma')}"))
    printed_next = SUMMARY.findall(followup["printed"])
    assert len(printed_next) == 2 and all(s in texts for s in printed_next)  # sigma and bA, printed below it

    printed, texts, _ = section(page, notebook, 'explorer.set_free("obs")')  # Conditioning: obs free
    assert_caption(texts, "obs: free (not conditioned on its data)")
    (sigma_shown,) = SUMMARY.findall(printed)
    assert sigma_shown in texts and "a ~ Normal(0, 10)" in texts

    printed, texts, _ = section(page, notebook, 'explorer.intervene("bR", 0.0)')  # Interventions: do(bR = 0)
    assert_caption(texts, "do(bR = 0)")
    shown = SUMMARY.findall(printed)
    assert len(shown) == 2 and all(s in texts for s in shown)
    assert "bR (intervened)" in texts and "bR = 0" in texts

    printed, texts, svg = section(page, notebook, 'explorer.use_guide("AutoMultivariateNormal")')  # Guides
    assert_caption(texts, "the model as written")
    correlations = re.findall(r"corr\((\w+), (\w+)\) = (-?[\d.]+)", printed)
    assert len(correlations) == 2
    for first, second, value in correlations:
        assert f"corr({first}, {second}) = {value}" in svg
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reader-03_explore-1920x1080.png"), full_page=True)


def test_tutorial_02s_chart_shows_the_run_printed_below_it(open_as_reader, page):
    notebook = open_as_reader(ROOT / "tutorials" / "02_live_svi.ipynb")
    chart = page.evaluate(CELL_OUTPUTS, cell_index(notebook, "guide = AutoNormal(model)"))
    (picture,) = chart["pictures"]
    title, verdict = svg_texts(picture["svg"])[:2]
    printed = page.evaluate(CELL_OUTPUTS, cell_index(notebook, "print(f\"{len(chart.history.losses)}"))["printed"]
    kept, smoothed = re.search(r"(\d+) losses kept; smoothed final loss ([\d.]+)", printed).groups()
    assert f"step {kept} · loss {smoothed}" in title and title.endswith("done"), title
    assert lines(printed)[1].startswith(f"{verdict}:"), (verdict, printed)  # the verdict on the chart
    controller = page.evaluate(CELL_OUTPUTS, cell_index(notebook, "pplkit.clear_param_store()"))
    printed = page.evaluate(CELL_OUTPUTS, cell_index(notebook, "controller.wait()"))["printed"]
    (picture,) = controller["pictures"]
    assert svg_texts(picture["svg"])[1] == lines(printed)[0]  # "converged", on the controller's chart

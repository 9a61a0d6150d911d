"""The widgets in a real JupyterLab, driven through Debian's chromium with Playwright.

One notebook, written by the test: a training controller on the introduction's model and
a model explorer. Training runs in background threads (``blocking=False``), as it does for
a learner, so the browser can click Stop and move sliders while the kernel trains. Each
state is kept as a screenshot in ``test-artifacts/``; the explorer's is the README's
``docs/explorer.png`` (refreshed with PPLKIT_PUBLISH_SCREENSHOTS=1, see ``docs_picture``).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    """\
import widgets
from pplkit.examples import model, rugged_data
from pplkit.infer import AutoNormal
data = rugged_data()""",
    """\
controller = widgets.train(model, AutoNormal(model), *data, num_steps=100_000, lr=0.02, blocking=False)""",
    """\
def regression_lines(fig, draws):
    is_cont_africa, ruggedness, log_gdp = draws.args
    for inside, title in [(1.0, "African nations"), (0.0, "Non-African nations")]:
        ax = fig.panel(title, xlabel="terrain ruggedness", ylabel="log GDP")
        nations = is_cont_africa == inside
        for role, samples in draws.predictions("obs"):
            ax.interval(ruggedness[nations], samples[:, nations], color=role, label=role)
        ax.scatter(ruggedness[nations], log_gdp[nations], color="data")

explorer = widgets.explore(model, *data, plot=regression_lines, num_steps=300, lr=0.05, blocking=False)""",
]


def write_notebook(folder: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    # Without a kernelspec JupyterLab asks which kernel to use.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, folder / "widgets_in_lab.ipynb")


def shot(page_or_locator, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page_or_locator.screenshot(path=str(path))
    return path


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def step_of(chart) -> int:
    text = chart.locator(".pk-step").text_content() or ""
    match = re.search(r"step (\d+)", text)
    return int(match.group(1)) if match else 0


def points_of(chart) -> int:
    return int(chart.locator("polyline.pk-loss").get_attribute("data-n") or 0)


def test_widgets_in_jupyterlab(serve_lab, page, lab_ui, tmp_path, docs_picture):
    from playwright.sync_api import expect

    if not shutil.which("dot"):
        pytest.skip("the model graph needs Graphviz's dot")
    write_notebook(tmp_path)
    server = serve_lab(tmp_path)
    page.set_viewport_size({"width": 1440, "height": 2400})  # room for the whole explorer
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    lab_ui.open_notebook(page, server, "widgets_in_lab.ipynb")
    lab_ui.wait_kernel_idle(page)
    page.keyboard.press("Control+b")  # hide the file browser: the notebook gets the whole width
    lab_ui.run_all_cells(page)

    # -- the live ELBO chart grows while training runs ----------------------------------------
    chart = page.locator(".pplkit-controller .pplkit-elbo")
    expect(chart).to_be_visible(timeout=120_000)
    expect(chart).to_have_attribute("data-status", "running", timeout=60_000)
    seen_points, seen_steps = set(), []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(seen_points) < 4 or seen_steps[-1] < 50):
        seen_points.add(points_of(chart))
        seen_steps.append(step_of(chart))
        time.sleep(0.15)
    assert len({p for p in seen_points if p > 0}) >= 3, f"the polyline did not grow live: {sorted(seen_points)}"
    assert seen_steps == sorted(seen_steps) and seen_steps[-1] > seen_steps[0]
    shot(page, "live_svi_running.png")

    # -- Stop stops it: the status says so and the step count stays --------------------------------
    page.locator(".pplkit-controller button", has_text="Stop").click()
    expect(chart).to_have_attribute("data-status", "stopped", timeout=30_000)
    expect(chart.locator(".pk-status")).to_have_text("stopped")
    stopped_at = step_of(chart)
    time.sleep(1.5)
    assert step_of(chart) == stopped_at > 0
    assert points_of(chart) > 0
    shot(chart, "live_svi_stopped.png")

    # -- the explorer: its first fit, then a prior slider moved by keyboard ------------------------
    explorer = page.locator(".pplkit-explorer")
    explorer_chart = explorer.locator(".pplkit-elbo")
    expect(explorer_chart).to_have_attribute("data-status", "done", timeout=180_000)
    predictive = explorer.locator(".pplkit-predictive-view .pplkit-svg-view")
    before = predictive.inner_html()
    shot(explorer, "explorer_first_fit.png")

    loc_slider = explorer.locator(".pplkit-site-a .widget-slider", has_text="loc")
    handle = loc_slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    expect(loc_slider.locator(".widget-readout")).not_to_have_text("0")
    wait_for(lambda: predictive.inner_html() != before, 30, "the prior predictive view to change")
    expect(explorer.locator(".pplkit-site-a")).to_contain_text("a ~ Normal(loc=")
    expect(explorer_chart).to_have_attribute("data-status", "done", timeout=180_000)
    shot(explorer, "explorer_prior_moved.png")

    # -- switching the guide to AutoMultivariateNormal changes the posterior view ----------------
    correlations = explorer.locator(".pplkit-correlations-view")
    expect(correlations).to_contain_text("posterior correlations (AutoNormal)")
    marginals_before = explorer.locator(".pplkit-marginals-view .pplkit-svg-view").inner_html()
    explorer.locator(".pplkit-guide select").select_option("AutoMultivariateNormal")
    expect(correlations).to_contain_text("posterior correlations (AutoMultivariateNormal)", timeout=180_000)
    expect(explorer_chart).to_have_attribute("data-status", "done", timeout=60_000)
    assert explorer.locator(".pplkit-marginals-view .pplkit-svg-view").inner_html() != marginals_before
    picture = shot(explorer, "explorer_multivariate_normal.png")
    shutil.copy(picture, docs_picture("explorer.png"))

    assert not errors, f"errors in the page: {errors}"

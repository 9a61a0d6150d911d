"""The demo dashboard: nothing fitted until a browser has drawn the page; the fit stops when the page is gone."""

from __future__ import annotations

import time

from widgets.explorer.dashboard import PageWatch, dashboard

from ..conftest import Y, hierarchical

FAST = dict(num_steps=30, num_samples=50, lr=0.05)


def shown(watch: PageWatch) -> None:
    watch._receive(watch, {"event": "shown"}, [])  # what dashboard.js sends when its view renders


def test_page_watch_calls_on_shown_once_and_on_gone_after_silence():
    calls: list[str] = []
    watch = PageWatch(on_shown=lambda: calls.append("shown"), on_gone=lambda: calls.append("gone"),
                      heartbeat_s=0.05, gone_after_s=0.3)
    assert not watch.shown and calls == []
    shown(watch)
    shown(watch)  # a second view of the same page (or a reload of the view) starts nothing twice
    assert watch.shown and calls == ["shown"]
    for _ in range(4):  # the page beats: nothing is gone
        time.sleep(0.1)
        watch._receive(watch, {"event": "alive"}, [])
    assert calls == ["shown"]
    deadline = time.monotonic() + 5
    while calls == ["shown"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == ["shown", "gone"]


def test_dashboard_fits_only_once_the_page_is_shown(monkeypatch):
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: displayed.extend(objs))
    explorer = dashboard(hierarchical, Y, **FAST)
    try:
        explorer_view, watch = displayed
        assert explorer_view is explorer and isinstance(watch, PageWatch)
        assert not explorer.blocking  # a demo fits in the background, the controls stay live
        time.sleep(0.2)
        assert explorer.fitted is None and explorer.chart.status != "running"
        shown(watch)
        explorer.wait(timeout=60)
        assert explorer.fitted is not None and explorer.chart.status == "done"
        # the requested steps, extended by the convergence guard up to its budget
        assert FAST["num_steps"] <= explorer.chart.step <= 4 * FAST["num_steps"]
    finally:
        explorer.close()
        watch.close()

"""The dashboard's layer-events panel: its browser functions (assets/events.js) on the real page."""

from __future__ import annotations

import pytest

import app as dashboard
from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.browser

T = 1795478400000  # 2026-11-24 00:00:00 UTC
URL = "http://h/arcgis/rest/services/X/ImageServer/exportImage?bbox=1"


def test_event_lines_counts_and_the_live_panel(dash_duo, sample_root):
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    dash_duo.wait_for_contains_text(f"#{ids.EVENTS_LOG}", "load: exportImage", timeout=15)
    run = dash_duo.driver.execute_script
    local = run("const d = new Date(arguments[0]); return [d.getHours(), d.getMinutes(), d.getSeconds()]"
                ".map(n => String(n).padStart(2, '0')).join(':')", T + 1500)
    line = "return window.dash_clientside.layerEvents.eventLine(arguments[0])"
    assert run(line, {"type": "load", "time": T + 1500, "url": URL}) == f"{local} load: exportImage"
    assert run(line, {"type": "load", "time": T + 1500, "stale": True, "url": URL}) == f"{local} load: stale image dropped"
    assert run(line, {"type": "error", "time": T + 1500, "message": "Token Required (code 499)"}) == (
        f"{local} error: Token Required (code 499)")
    assert run(line, {"type": "loading", "time": T + 1500, "bounds": [[0, 0], [1, 1]]}) == f"{local} loading"
    counts = "return window.dash_clientside.layerEvents.countsText(arguments[0])"
    assert run(counts, None) == "idle · 0 requested: 0 loaded, 0 failed, 0 superseded"
    # the parts add up: what neither loaded nor failed nor is loading was superseded
    assert run(counts, {"loading": True, "counts": {"loading": 11, "load": 3, "error": 1}}) == (
        "loading… · 11 requested: 3 loaded, 1 failed, 6 superseded, 1 loading")
    assert run(counts, {"loading": False, "counts": {"loading": 11, "load": 3, "error": 0}}) == (
        "idle · 11 requested: 3 loaded, 0 failed, 8 superseded")
    items = run("return window.dash_clientside.layerEvents.list(arguments[0])",
                [{"type": "loading", "time": T + i * 1000} for i in range(17)])
    assert len(items) == 12 and items[0]["props"]["className"] == "event-loading"
    assert items[0]["props"]["children"].endswith(":16 loading")  # the newest first
    # The live panel: newest first, and the counts line agrees with the layer's own counters.
    shown = [li.text for li in dash_duo.find_elements(f"#{ids.EVENTS_LOG} li")]
    assert shown[0].split(" ", 1)[1] == "load: exportImage" and shown[-1].split(" ", 1)[1] == "loading"
    state = run("return window.imageMapLayer.stateOf('main')")
    dash_duo.wait_for_text_to_equal(
        f"#{ids.LAYER_COUNTS}",
        f"idle · {state['counts']['loading']} requested: {state['counts']['load']} loaded, "
        f"{state['counts']['error']} failed, "
        f"{state['counts']['loading'] - state['counts']['load'] - state['counts']['error']} superseded")

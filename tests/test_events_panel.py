"""The dashboard's layer-events panel, as plain functions."""

from __future__ import annotations

from callbacks.events import SHOWN, counts_text, event_line, event_list

T = 1795478400000  # 2026-11-24 00:00:00 UTC


def test_event_lines_say_time_type_and_detail():
    assert event_line({"type": "loading", "time": T, "bounds": [[0, 0], [1, 1]]}) == "00:00:00 loading"
    assert event_line({"type": "load", "time": T + 1500,
                       "url": "http://h/arcgis/rest/services/X/ImageServer/exportImage?bbox=1"}) == "00:00:01 load: exportImage"
    assert event_line({"type": "load", "time": T, "stale": True, "url": "http://h/x"}) == "00:00:00 load: stale image dropped"
    assert event_line({"type": "error", "time": T, "message": "Token Required (code 499)"}) == (
        "00:00:00 error: Token Required (code 499)")


def test_newest_events_first_and_bounded():
    events = [{"type": "loading", "time": T + i * 1000} for i in range(SHOWN + 5)]
    items = event_list(events)
    assert len(items) == SHOWN
    assert items[0].children == f"00:00:{SHOWN + 4:02d} loading"
    assert items[0].className == "event-loading"
    assert event_list(None) == []


def test_counts():
    assert counts_text(None) == "idle · 0 requested · 0 loaded · 0 failed"
    state = {"loading": True, "counts": {"loading": 3, "load": 2, "error": 1}}
    assert counts_text(state) == "loading… · 3 requested · 2 loaded · 1 failed"

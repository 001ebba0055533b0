"""The time slider: its setup, what a position on it means and says, and the play button's steps.

Shared by the control panel and the swipe tab, which both offer a date range over the same
acquisition dates; pure functions of the `time` entry of the service options
(`{"min", "max", "dates"}`, epoch ms), so they can be tested without a browser.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timezone

# Without acquisition dates the play button steps through this many equal windows.
TIME_STOPS = 12
DAY_MS = 86_400_000


def format_date(ms: int, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An epoch-ms time as UTC text: the service's times are UTC, so no local zone is applied."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime(pattern)


def slider_config(time: dict | None) -> dict:
    """The time RangeSlider's min, max, marks and step: date to date when the dates are known."""
    if not time:
        return {"min": 0, "max": 1, "marks": None, "step": 1, "disabled": True}
    dates = time["dates"]
    marks = {str(d): "" for d in dates} or None
    if marks:
        marks[str(dates[0])] = format_date(dates[0], "%b %d")
        marks[str(dates[-1])] = format_date(dates[-1], "%b %d")
    return {"min": time["min"], "max": time["max"], "marks": marks, "step": None if dates else DAY_MS,
            "disabled": False}


def time_from_range(value: list[int] | None, time: dict | None) -> tuple[int | None, int | None]:
    """(from, to) of the slider; the full extent means no time filter (every scene)."""
    if not value or not time or list(value) == [time["min"], time["max"]]:
        return None, None
    return value[0], value[1]


def time_label(value: list[int] | None, time: dict | None) -> str:
    """The text under the slider, so the chosen window is readable without hovering the handles."""
    if not time:
        return "The service is not time-aware."
    start, end = time_from_range(value, time)
    if start is None:
        return "All dates"
    if start == end:
        return f"{format_date(start)} UTC"
    return f"{format_date(start)} – {format_date(end)} UTC"


def time_stops(time: dict) -> list[int]:
    """Where the play button's window may start and end: the dates, else equal steps."""
    if time["dates"]:
        return time["dates"]
    step = (time["max"] - time["min"]) / TIME_STOPS
    return [round(time["min"] + i * step) for i in range(TIME_STOPS + 1)]


def next_window(value: list[int] | None, time: dict) -> list[int]:
    """The time window one step later, as wide (in steps) as the current one; from the whole
    extent it starts with the first date alone; past the end it wraps to the start."""
    stops = time_stops(time)
    value = value or [time["min"], time["max"]]
    first = min(bisect.bisect_left(stops, value[0]), len(stops) - 1)
    width = max(bisect.bisect_left(stops, value[1]) - first, 0)
    if time_from_range(value, time) == (None, None):
        first, width = -1, 0
    first = first + 1 if first + 1 + width < len(stops) else 0
    return [stops[first], stops[first + width]]

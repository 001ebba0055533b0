"""The time slider: its setup, what a position on it means and says, and the play button's steps.

Shared by the control panel and the swipe tab, which both offer a date range over the same
acquisition dates; pure functions of the `time` entry of the service options
(`{"min", "max", "dates"}`, epoch ms), so they can be tested without a browser.
"""

from __future__ import annotations

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
        # The ends carry the year: a range over several years is otherwise unreadable.
        marks[str(dates[0])] = format_date(dates[0], "%b %Y")
        marks[str(dates[-1])] = format_date(dates[-1], "%b %Y")
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


def play_windows(extent: list[int] | None, time: dict) -> list[list[int]]:
    """The windows Play shows in turn within `extent` (the range chosen when Play started, None:
    every date): each acquisition date alone, else TIME_STOPS equal steps of the extent."""
    start, end = extent if extent and time_from_range(extent, time) != (None, None) else (time["min"], time["max"])
    dates = [d for d in time["dates"] if start <= d <= end]
    if dates:
        return [[d, d] for d in dates]
    step = (end - start) / TIME_STOPS
    stops = [round(start + i * step) for i in range(TIME_STOPS + 1)]
    return [[a, b] for a, b in zip(stops, stops[1:])]


def next_window(value: list[int] | None, extent: list[int] | None, time: dict) -> list[int]:
    """The window after `value` among the play windows of `extent`; the first one when `value`
    is none of them (Play just started); after the last, the first again."""
    windows = play_windows(extent, time)
    position = windows.index(list(value)) + 1 if value and list(value) in windows else 0
    return windows[position % len(windows)]

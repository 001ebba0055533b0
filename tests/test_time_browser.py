"""The time slider and Play in real headless Chromium, on the embedded sample service."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.keys import Keys

from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard_controls import TIMEOUT, open_dashboard, wait_for_overlay

pytestmark = pytest.mark.browser


def handles(dash_duo) -> list:
    return dash_duo.driver.find_elements("css selector", f"#{ids.TIME_RANGE} [role=slider]")


def requests_made(dash_duo) -> int:
    return dash_duo.driver.execute_script("return window.imageMapLayer.stateOf('main').counts.loading")


def test_keyboard_steps_send_one_request_once_the_slider_rests(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    marks = [mark.text for mark in dash_duo.driver.find_elements("css selector", f"#{ids.TIME_RANGE} .dash-slider-mark")]
    assert [mark for mark in marks if mark][0].endswith("2025") and [m for m in marks if m][-1].endswith("2025")
    dash_duo.wait_for_contains_text(f"#{ids.LAYER_COUNTS}", "idle", timeout=TIMEOUT)
    before = requests_made(dash_duo)
    end = handles(dash_duo)[-1]
    for _ in range(4):
        end.send_keys(Keys.ARROW_LEFT)
    query = wait_for_overlay(dash_duo, lambda q: "time" in q, "no time= in the overlay URL")
    dash_duo.wait_for_contains_text(f"#{ids.LAYER_COUNTS}", "idle", timeout=TIMEOUT)
    assert requests_made(dash_duo) - before == 1, query
    # the counts line adds up
    requested, loaded, failed, superseded = (int(n) for n in re.findall(
        r"(\d+) requested: (\d+) loaded, (\d+) failed, (\d+) superseded",
        dash_duo.find_element(f"#{ids.LAYER_COUNTS}").text)[0])
    assert requested == loaded + failed + superseded
    assert dash_duo.get_logs() == []


def test_play_over_a_wide_range_goes_through_its_dates(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    start, end = handles(dash_duo)
    start.send_keys(Keys.ARROW_RIGHT)
    end.send_keys(Keys.ARROW_LEFT)  # a wide range: every date but the first and the last
    wait_for_overlay(dash_duo, lambda q: "time" in q, "no time= in the overlay URL")
    dash_duo.find_element(f"#{ids.TIME_PLAY}").click()
    shown: list[str] = []

    def next_label(_) -> bool:
        label = dash_duo.find_element(f"#{ids.TIME_LABEL}").text
        if not shown or label != shown[-1]:
            shown.append(label)
        return len(shown) >= 4

    dash_duo._wait_for(next_label, timeout=15, msg="Play did not move on")
    dash_duo.find_element(f"#{ids.TIME_PLAY}").click()
    windows = shown[1:]  # the range as chosen, then what Play showed
    assert all("–" not in label for label in windows), shown  # one acquisition date at a time
    assert windows == sorted(set(windows)), shown  # forward through the range, never back and forth
    assert dash_duo.get_logs() == []

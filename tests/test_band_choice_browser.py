"""Bands, band preset and rendering rule in real headless Chromium: what the boxes say is on screen."""

from __future__ import annotations

import pytest

from callbacks.band_choice import CUSTOM_RULE, DEFAULT_SKIPPED, RULE_CLEARED
from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard_controls import TIMEOUT, choose, open_dashboard, wait_for_overlay
from test_status_feedback_browser import status, type_custom_rule

pytestmark = pytest.mark.browser


def text(dash_duo, component_id: str) -> str:
    return dash_duo.find_element(f"#{component_id}").text


def test_one_band_under_the_default_rule_clears_the_rule_and_says_so(dash_duo, sample_root):
    first = open_dashboard(dash_duo, sample_root)
    assert "renderingRule" not in first          # the server applies its default, Natural Color
    dash_duo.wait_for_text_to_equal(f"#{ids.RENDERING_RULE}", "Service default (Natural Color)", timeout=TIMEOUT)
    # the default template's bands show in the empty band boxes, numbered as bandIds numbers them
    for cid, band in ((ids.BAND_R, "3: Red (id 2)"), (ids.BAND_G, "2: Green (id 1)"), (ids.BAND_B, "1: Blue (id 0)")):
        dash_duo.wait_for_contains_text(f"#{cid}", f"shown: {band}", timeout=TIMEOUT)
    choose(dash_duo, ids.BAND_R, "3")
    query = wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["3"], "the NIR band was not drawn")
    assert "renderingRule" not in query
    dash_duo.wait_for_text_to_equal(f"#{ids.BANDS_NOTE}", DEFAULT_SKIPPED, timeout=TIMEOUT)
    assert text(dash_duo, ids.BAND_PRESET) == "Single band: NIR"
    assert "error" not in status(dash_duo)[1].split()
    # a chosen rule gives way to chosen bands, and the note says so
    choose(dash_duo, ids.RENDERING_RULE, "NDVI Colorized")
    wait_for_overlay(dash_duo, lambda q: "bandIds" not in q and "NDVI" in q.get("renderingRule", [""])[0],
                     "the chosen rule was not drawn")
    choose(dash_duo, ids.BAND_R, "2")
    wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["2"] and "renderingRule" not in q,
                     "the chosen band did not replace the rule")
    dash_duo.wait_for_text_to_equal(f"#{ids.BANDS_NOTE}", RULE_CLEARED, timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_the_preset_and_rule_boxes_name_what_is_drawn(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    choose(dash_duo, ids.BAND_PRESET, "Color Infrared")
    wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["3,2,1"], "the preset's bands were not drawn")
    choose(dash_duo, ids.BAND_R, "5")
    wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["5,2,1"], "the changed band was not drawn")
    dash_duo.wait_for_text_to_equal(f"#{ids.BAND_PRESET}", "Custom", timeout=TIMEOUT)
    choose(dash_duo, ids.BAND_R, "3")
    dash_duo.wait_for_text_to_equal(f"#{ids.BAND_PRESET}", "Color Infrared", timeout=TIMEOUT)
    type_custom_rule(dash_duo, '{"rasterFunction": "NDVI Colorized"}')
    # a rule, typed or chosen, replaces the bands (bandIds would be applied before it)
    wait_for_overlay(dash_duo, lambda q: q.get("renderingRule") == ['{"rasterFunction":"NDVI Colorized"}']
                     and "bandIds" not in q, "the custom rule was not drawn alone")
    dash_duo.wait_for_text_to_equal(f"#{ids.RENDERING_RULE}", CUSTOM_RULE, timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_the_sort_field_shows_its_whole_name(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    choose(dash_duo, ids.MOSAIC_METHOD, "esriMosaicAttribute")
    choose(dash_duo, ids.SORT_FIELD, "AcquisitionDate")
    dash_duo.wait_for_contains_text(f"#{ids.SORT_FIELD}", "AcquisitionDate", timeout=TIMEOUT)
    cut = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' *')].filter(e => e.textContent === 'AcquisitionDate')"
        ".some(e => e.scrollWidth > e.clientWidth + 1)", f"#{ids.SORT_FIELD}")
    assert not cut

"""The control panel in real headless Chromium, on the embedded sample service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.keys import Keys

import app as dashboard
from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard import shown_image

pytestmark = pytest.mark.browser
TIMEOUT = 10


def overlay_query(dash_duo) -> dict[str, list[str]]:
    image = shown_image(dash_duo)
    return parse_qs(urlparse(image["src"]).query) if image else {}


def wait_for_overlay(dash_duo, check, msg: str) -> dict[str, list[str]]:
    """Waits until the shown, loaded image's exportImage query passes `check`; returns the query."""
    dash_duo._wait_for(lambda _: check(overlay_query(dash_duo)), timeout=TIMEOUT, msg=msg)
    return overlay_query(dash_duo)


def open_dashboard(dash_duo, sample_root, path: str = "/") -> dict[str, list[str]]:
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    if path != "/":
        dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral", timeout=15)
    return wait_for_overlay(dash_duo, lambda q: "bbox" in q, "no image shown")


def choose(dash_duo, dropdown_id: str, value: str) -> None:
    dash_duo.find_element(f"#{dropdown_id}").click()
    dash_duo.find_element(f'.dash-dropdown-option:has(input[value="{value}"])').click()


def test_a_band_preset_changes_band_ids_and_loads_a_new_image(dash_duo, sample_root):
    first = open_dashboard(dash_duo, sample_root)
    assert "bandIds" not in first
    choose(dash_duo, ids.BAND_PRESET, "Color Infrared")
    query = wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["3,2,1"], "bandIds did not change")
    assert "renderingRule" not in query  # the band-picking template is cleared
    assert query["bbox"] == first["bbox"]
    assert "bandIds=3%2C2%2C1" in dash_duo.driver.current_url
    # and back: a rendering rule clears the bands it would not fit
    choose(dash_duo, ids.RENDERING_RULE, "NDVI Colorized")
    query = wait_for_overlay(dash_duo, lambda q: "renderingRule" in q, "the rendering rule was not applied")
    assert query["renderingRule"] == ['{"rasterFunction":"NDVI Colorized"}'] and "bandIds" not in query
    assert dash_duo.get_logs() == []


def test_an_invalid_custom_rule_shows_an_error_and_keeps_the_image(dash_duo, sample_root):
    first = open_dashboard(dash_duo, sample_root)
    box = dash_duo.find_element(f"#{ids.CUSTOM_RULE}")
    box.send_keys('{"rasterFunction": ')
    dash_duo.find_element(f"#{ids.NO_DATA}").click()  # the rule is read when its box loses focus
    dash_duo.wait_for_contains_text(f"#{ids.RULE_ERROR}", "rendering_rule is not valid JSON", timeout=TIMEOUT)
    assert "the map keeps the last valid setting" in dash_duo.find_element(f"#{ids.RULE_ERROR}").text
    assert shown_image(dash_duo)["src"] == dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.leaflet-image-layer')].find(i => i.style.opacity !== '0').src")
    assert overlay_query(dash_duo) == first


def test_the_time_slider_sends_a_time_range(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    handles = dash_duo.driver.find_elements("css selector", f"#{ids.TIME_RANGE} [role=slider]")
    handles[-1].send_keys(Keys.ARROW_LEFT)  # the end moves back to the one-before-last scene
    query = wait_for_overlay(dash_duo, lambda q: "time" in q, "no time= in the overlay URL")
    start, end = (int(v) for v in query["time"][0].split(","))
    assert start < end
    assert dash_duo.find_element(f"#{ids.TIME_LABEL}").text.endswith("UTC")


def test_a_link_restores_the_controls_and_the_overlay(dash_duo, sample_root):
    query = open_dashboard(dash_duo, sample_root,
                           "/?service=/arcgis/rest/services/SampleMultispectral/ImageServer"
                           "&bandIds=5,3,2&opacity=0.5&center=38.5,-121.7&zoom=11")
    assert query["bandIds"] == ["5,3,2"] and "renderingRule" not in query
    for cid, text in ((ids.BAND_R, "6: SWIR2 (id 5)"), (ids.BAND_G, "4: NIR (id 3)"), (ids.BAND_B, "3: Red (id 2)")):
        dash_duo.wait_for_text_to_equal(f"#{cid}", text, timeout=TIMEOUT)
    url = urlparse(dash_duo.driver.current_url)
    assert parse_qs(url.query)["bandIds"] == ["5,3,2"] and parse_qs(url.query)["zoom"] == ["11"]
    assert shown_image(dash_duo)["opacity"] == "0.5"


def test_a_rule_the_server_refuses_puts_its_words_in_the_status_line(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    box = dash_duo.find_element(f"#{ids.CUSTOM_RULE}")
    box.send_keys('{"rasterFunction": "NoSuchFunction"}')
    dash_duo.find_element(f"#{ids.NO_DATA}").click()  # the rule is read when its box loses focus
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "The image could not be drawn", timeout=TIMEOUT)
    assert "NoSuchFunction" in dash_duo.find_element(f"#{ids.SERVICE_STATUS}").text


def offered(dash_duo, dropdown_id: str) -> list[tuple[str, str, bool]]:
    """(value, label, disabled) of each option the opened dropdown lists."""
    dash_duo.find_element(f"#{dropdown_id}").click()
    dash_duo.wait_for_element(".dash-dropdown-option")
    options = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.dash-dropdown-option')].map(o => {"
        "  const i = o.querySelector('input');"
        "  return [i.value, o.textContent.trim(), i.disabled || o.getAttribute('aria-disabled') === 'true'];})")
    dash_duo.find_element(f"#{dropdown_id}").send_keys(Keys.ESCAPE)
    return [tuple(option) for option in options]


def test_the_dropdowns_offer_only_choices_that_work(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    formats = [value for value, _, _ in offered(dash_duo, ids.IMAGE_FORMAT)]
    assert formats == ["jpgpng", "png", "png8", "png24", "png32", "jpg", "gif"]
    pixel_types = offered(dash_duo, ids.PIXEL_TYPE)
    assert [value for value, _, _ in pixel_types][:8] == ["U8", "U16", "S16", "U32", "S32", "F32", "F64", "S8"]
    assert not {"C64", "C128", "UNKNOWN"} & {value for value, _, _ in pixel_types}
    assert all(" — " in label for _, label, _ in pixel_types)
    methods = {value: (label, disabled) for value, label, disabled in offered(dash_duo, ids.MOSAIC_METHOD)}
    label, disabled = methods["esriMosaicLockRaster"]
    assert disabled and "Catalog" in label
    assert not any(disabled for name, (_, disabled) in methods.items() if name != "esriMosaicLockRaster")
    assert dash_duo.get_logs() == []


def test_a_cleared_band_leaves_the_other_controls_working(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    choose(dash_duo, ids.BAND_PRESET, "Color Infrared")
    wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["3,2,1"], "bandIds did not change")
    dash_duo.find_element(f"#{ids.BAND_G} .dash-dropdown-clear").click()
    dash_duo.wait_for_contains_text(f"#{ids.BANDS_ERROR}", "Green", timeout=TIMEOUT)
    # the incomplete triple is not sent: the service default bands are shown, and said so
    wait_for_overlay(dash_duo, lambda q: "bandIds" not in q, "the incomplete bands were still sent")
    assert "service default bands" in dash_duo.find_element(f"#{ids.BANDS_ERROR}").text
    choose(dash_duo, ids.PIXEL_TYPE, "U8")
    query = wait_for_overlay(dash_duo, lambda q: q.get("pixelType") == ["U8"], "the pixel type was not applied")
    assert "bandIds" not in query
    assert dash_duo.get_logs() == []


def test_a_link_with_bands_the_service_lacks_says_so(dash_duo, sample_root):
    query = open_dashboard(dash_duo, sample_root, "/?service=/arcgis/rest/services/SampleMultispectral/ImageServer"
                                                  "&bandIds=9,9,9&format=tiff")
    line = dash_duo.find_element(f"#{ids.SERVICE_STATUS}")
    dash_duo._wait_for(lambda _: "warning" in line.get_attribute("class").split(), timeout=TIMEOUT,
                       msg="the status line gave no warning")
    assert "bandIds=9,9,9 are not valid for this service (its band ids are 0–5)" in line.text
    assert "format=tiff is not offered" in line.text
    # the service defaults are drawn instead, not a grey raw image
    assert "bandIds" not in query and "renderingRule" not in query      # the server's default function
    assert query["format"] == ["jpgpng"]

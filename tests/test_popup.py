"""bind_popup / unbind_popup and the attribution of the ImageMapLayerAIO component, as plain functions
against the embedded ImageServer (the browser half is in test_popup_browser.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import dash_leaflet as dl
import pytest
import rasterio
import rasterio.warp
from dash import dcc, html, no_update
from flask import Flask

from imageservice.dash.imagemaplayer import ImageMapLayerAIO, attribution_for, identify_popup, popup_window
from imageservice.client import ImageServiceClient
from imageservice import ImageMapLayer
from imageservice.geojson import identify_to_geojson
from imageservice.server.catalog import Service, load_services
from imageservice.server.sampledata import COPYRIGHT
from imageservice.server.server import create_blueprint
from server_fixtures import sample_root, server_url, serving  # noqa: F401  (pytest fixtures)

ELEVATION = "/arcgis/rest/services/SampleElevation/ImageServer"
MULTISPECTRAL = "/arcgis/rest/services/SampleMultispectral/ImageServer"
LAT, LNG = 38.55, -121.75
CLICK = {"lat": LAT, "lng": LNG, "time": 1000}
BOUND = {"bound": True, "options": {}}
# The second service's copyright, with characters that must reach the page as text, not HTML.
CREDIT = "© Example Survey <b>2025</b> & partners"
API_DOC = Path(__file__).resolve().parent.parent / "docs" / "API.md"


class Recorder:
    """A popup function that records its calls and returns a fixed answer."""

    def __init__(self, answer=html.B("pixel")) -> None:
        self.answer = answer
        self.calls: list[tuple] = []

    def __call__(self, error, results, response):
        self.calls.append((error, results, response))
        return self.answer


@pytest.fixture(scope="session")
def credited_services(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Service]:
    """The sample services plus `Credited`: the DEM again, under another copyrightText."""
    folder = tmp_path_factory.mktemp("credited") / "Credited"
    folder.mkdir()
    shutil.copy(sample_root / "SampleElevation" / "Elevation.tif", folder)
    sidecar = json.loads((sample_root / "SampleElevation" / "catalog.json").read_text())
    (folder / "catalog.json").write_text(json.dumps({**sidecar, "copyrightText": CREDIT}))
    return {**load_services(sample_root), **load_services(folder.parent)}


@pytest.fixture
def identify_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every identify request's parameters, sent through the real client."""
    calls: list[dict] = []
    original = ImageServiceClient.identify

    def identify(self, params):
        calls.append(dict(params))
        return original(self, params)

    monkeypatch.setattr(ImageServiceClient, "identify", identify)
    return calls


def layer(url: str, aio_id: str, fn=None, **options) -> ImageMapLayerAIO:
    component = ImageMapLayerAIO(url, aio_id=aio_id, **options)
    return component.bind_popup(fn) if fn else component


def part(component: ImageMapLayerAIO, subcomponent: str):
    return next(c for c in component.children if c.id["subcomponent"] == subcomponent)


def elevation_at(sample_root: Path, lat: float, lng: float) -> float:
    with rasterio.open(sample_root / "SampleElevation" / "Elevation.tif") as dataset:
        xs, ys = rasterio.warp.transform("EPSG:4326", dataset.crs, [lng], [lat])
        return float(next(dataset.sample([(xs[0], ys[0])]))[0])


def test_fn_gets_the_raw_pixel_value_without_the_rendering_rule(server_url, sample_root, identify_calls):
    fn = Recorder()
    component = layer(server_url + ELEVATION, "p-raw", fn, rendering_rule={"rasterFunction": "Hillshade"})
    params = part(component, "params").data
    answer = identify_popup(CLICK, part(component, "popup").data, params, "p-raw")
    [(error, results, response)] = fn.calls
    assert error is None
    assert float(results["pixel"]["properties"]["value"]) == pytest.approx(elevation_at(sample_root, LAT, LNG), abs=1e-3)
    assert results == identify_to_geojson(response)
    assert response == ImageMapLayer(server_url + ELEVATION).identify().at(LAT, LNG).run()
    assert "renderingRule" not in identify_calls[0]
    assert answer == {"time": 1000, "lat": LAT, "lng": LNG, "content": fn.answer, "error": None}


def test_the_layers_mosaic_rule_is_forwarded(server_url, identify_calls):
    rule = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [10]}
    fn = Recorder()
    component = layer(server_url + MULTISPECTRAL, "p-mosaic", fn, mosaic_rule=rule)
    identify_popup(CLICK, BOUND, part(component, "params").data, "p-mosaic")
    value = fn.calls[0][1]["pixel"]["properties"]["value"]
    assert value == ImageMapLayer(server_url + MULTISPECTRAL, mosaic_rule=rule).identify().at(LAT, LNG).run()["value"]
    assert value != ImageMapLayer(server_url + MULTISPECTRAL).identify().at(LAT, LNG).run()["value"]
    assert json.loads(identify_calls[0]["mosaicRule"]) == rule


@pytest.mark.parametrize("answer", [False, None, "", []])
def test_no_content_from_fn_means_no_popup(server_url, answer):
    component = layer(server_url + ELEVATION, "p-false", Recorder(answer))
    identified = identify_popup(CLICK, BOUND, part(component, "params").data, "p-false")
    assert identified == {"time": 1000, "lat": LAT, "lng": LNG, "content": None, "error": None}
    assert popup_window(identified, BOUND, CLICK) == []


def test_an_identify_error_calls_nothing_and_keeps_the_message(server_url):
    fn = Recorder()
    component = layer(server_url + "/arcgis/rest/services/Missing/ImageServer", "p-error", fn)
    identified = identify_popup(CLICK, BOUND, part(component, "params").data, "p-error")
    assert fn.calls == []
    assert identified["content"] is None and "Missing" in identified["error"]
    assert popup_window(identified, BOUND, CLICK) == []


def test_unbound_layers_send_no_identify(server_url, identify_calls):
    fn = Recorder()
    component = layer(server_url + ELEVATION, "p-unbound", fn).unbind_popup()
    params = part(component, "params").data
    assert part(component, "popup").data == {"bound": False, "options": {}}
    assert identify_popup(CLICK, part(component, "popup").data, params, "p-unbound") is no_update
    assert identify_popup(CLICK, BOUND, params, "never-bound") is no_update
    assert identify_popup(None, BOUND, params, "p-unbound") is no_update
    assert identify_popup(CLICK, BOUND, None, "p-unbound") is no_update
    assert identify_calls == [] and fn.calls == []
    identify_popup(CLICK, BOUND, params, "p-unbound")  # bound again by writing the store
    assert len(identify_calls) == 1 and len(fn.calls) == 1


def test_the_popup_opens_at_the_click_with_the_options():
    options = {"maxWidth": 150, "className": "pixel-popup"}
    identified = {**CLICK, "content": "<b>12</b>", "error": None}
    [popup] = popup_window(identified, {"bound": True, "options": options}, CLICK)
    assert isinstance(popup, dl.Popup)
    assert (popup.position, popup.children, popup.maxWidth, popup.className) == ([LAT, LNG], "<b>12</b>", 150, "pixel-popup")


def test_an_answer_for_an_older_click_is_ignored():
    older = {**CLICK, "content": "old", "error": None}
    newer_click = {"lat": 38.6, "lng": -121.7, "time": 2000}
    assert popup_window(older, BOUND, newer_click) is no_update
    assert popup_window(None, BOUND, newer_click) is no_update


def test_unbinding_closes_the_popup_and_rebinding_waits_for_a_click():
    identified = {**CLICK, "content": "value", "error": None}
    assert popup_window(identified, {"bound": False, "options": {}}, CLICK, popup_changed=True) == []
    assert popup_window(identified, {"bound": False, "options": {}}, CLICK) == []
    assert popup_window(identified, BOUND, CLICK, popup_changed=True) is no_update


def test_bind_popup_chains_and_checks_the_options():
    component = ImageMapLayerAIO("https://h/arcgis/rest/services/X/ImageServer", aio_id="p-chain")
    assert component.bind_popup(Recorder(), {"maxWidth": 200}) is component
    assert part(component, "popup").data == {"bound": True, "options": {"maxWidth": 200}}
    assert component.unbind_popup() is component
    assert part(component, "popup").data == {"bound": False, "options": {"maxWidth": 200}}
    with pytest.raises(TypeError, match="maxwidth"):
        component.bind_popup(Recorder(), {"maxwidth": 200})


def test_the_layer_holds_the_popup_and_attribution_parts():
    component = ImageMapLayerAIO("https://h/arcgis/rest/services/X/ImageServer", aio_id="p-parts", attribution="© Me")
    assert part(component, "popup").data == {"bound": False, "options": {}}
    assert isinstance(part(component, "identify"), dcc.Store)
    assert isinstance(part(component, "popups"), dl.LayerGroup)
    assert part(component, "attribution").data == {"option": "© Me", "source": None, "text": None}
    assert ImageMapLayerAIO.ids.popup("p") == {"component": "ImageMapLayer", "subcomponent": "popup", "aio_id": "p"}
    assert ImageMapLayerAIO.ids.attribution("p")["subcomponent"] == "attribution"
    assert ImageMapLayerAIO.ids.identify("p")["subcomponent"] == "identify"


@pytest.fixture
def metadata_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every metadata request sent through the real client."""
    calls: list[str] = []
    original = ImageServiceClient.metadata

    def metadata(self, max_age: float = 0.0):
        calls.append("metadata")
        return original(self, max_age)

    monkeypatch.setattr(ImageServiceClient, "metadata", metadata)
    return calls


def test_attribution_is_the_services_copyright_fetched_once_per_url(server_url, metadata_calls):
    empty = {"option": None, "source": None, "text": None}
    params = part(ImageMapLayerAIO(server_url + ELEVATION, aio_id="a1"), "params").data
    first = attribution_for(params, empty)
    assert first == {"option": None, "source": [params["url"], None], "text": COPYRIGHT}
    assert attribution_for({**params, "band_ids": [0], "opacity": 0.5}, first) is no_update
    assert len(metadata_calls) == 1
    with_token = attribution_for({**params, "token": "t"}, first)
    assert with_token["source"] == [params["url"], "t"] and len(metadata_calls) == 2
    assert attribution_for(None, first) == empty


def test_attribution_escapes_the_copyright_and_survives_failures(credited_services):
    app = Flask("credited")
    app.register_blueprint(create_blueprint(credited_services), url_prefix="/arcgis")
    with serving(app) as root:
        url = root + "/arcgis/rest/services/Credited/ImageServer"
        answer = attribution_for({"url": url}, {"option": None, "source": None, "text": None})
        assert answer["text"] == "© Example Survey &lt;b&gt;2025&lt;/b&gt; &amp; partners"
        missing = root + "/arcgis/rest/services/Missing/ImageServer"
        assert attribution_for({"url": missing}, answer) == {"option": None, "source": [missing, None], "text": None}


def test_an_explicit_attribution_wins_and_costs_no_request(server_url, metadata_calls):
    initial = part(ImageMapLayerAIO(server_url + ELEVATION, aio_id="a2", attribution="Mine"), "attribution").data
    current = attribution_for({"url": server_url + ELEVATION}, initial)
    assert current == {"option": "Mine", "source": "option", "text": "Mine"}
    assert attribution_for({"url": server_url + MULTISPECTRAL}, current) is no_update
    assert metadata_calls == []


def test_the_api_doc_popup_example(server_url):
    code = re.search(r"### Popups\n.*?```python\n(.*?)```", API_DOC.read_text(), re.S)[1]
    namespace: dict = {"__name__": "popup_example"}
    exec(compile(code, str(API_DOC), "exec"), namespace)
    dem = namespace["dem"]
    assert part(dem, "popup").data == {"bound": True, "options": {"maxWidth": 200}}
    assert part(dem, "attribution").data["option"] == "DEM © County survey"
    assert len(namespace["app"].callback_map) == 7  # the example's toggle and the layer's six
    response = ImageMapLayer(server_url + ELEVATION).identify().at(LAT, LNG).run()
    span = namespace["show_value"](None, identify_to_geojson(response), response)
    assert span.children == f"Elevation: {response['value']} m"
    no_data = {**response, "value": "NoData"}
    assert namespace["show_value"](None, identify_to_geojson(no_data), no_data) is False
    assert namespace["toggle_popups"]([], part(dem, "popup").data) == {"bound": False, "options": {"maxWidth": 200}}

"""The ImageMapLayerAIO component's Python half as plain functions: template, edit, layout, register."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dash import Dash, dcc

from imageservice.dash import register
from imageservice.dash.imagemaplayer import BACK_Z, FRONT_Z, ImageMapLayerAIO, edit, template_for
from imageservice.errors import ParameterError

URL = "https://h/arcgis/rest/services/X/ImageServer"
DISPLAY = {"crs": "EPSG:3857", "minZoom": None, "maxZoom": None, "z_index": None}
API_DOC = Path(__file__).resolve().parent.parent / "docs" / "API.md"


def params(**options) -> dict:
    return ImageMapLayerAIO(URL, aio_id="x", **options).children[2].data


def test_template_leaves_the_view_open_and_carries_the_display_options():
    template = template_for(params(band_ids=[3, 0, 1], opacity=0.4, token="abc"), DISPLAY)
    assert template == {
        **DISPLAY,
        "url": "https://h/arcgis/rest/services/X/ImageServer/exportImage?bbox={bbox}&size={size}&format=jpgpng"
               "&transparent=true&bboxSR=3857&imageSR=3857&bandIds=3%2C0%2C1&token=abc&f=image",
        "error": None, "f": "image", "opacity": 0.4, "zIndex": FRONT_Z, "token": "abc", "proxy": None,
        "crossOrigin": "anonymous",
    }
    assert template_for(params(use_cors=False), DISPLAY)["crossOrigin"] is None


def test_with_credentials_makes_the_images_use_credentials_even_without_use_cors():
    # RasterLayer: crossOrigin = withCredentials ? 'use-credentials' : useCors
    for options in ({"with_credentials": True}, {"with_credentials": True, "use_cors": False}):
        layer = ImageMapLayerAIO(URL, aio_id="x", **options)
        assert template_for(layer.children[2].data, DISPLAY)["crossOrigin"] == "use-credentials"
        assert layer.children[0].crossOrigin == layer.children[1].crossOrigin == "use-credentials"
    assert template_for(params(), DISPLAY)["url"] == template_for(params(with_credentials=True), DISPLAY)["url"]


def test_template_in_4326_position_and_z_index():
    assert "bboxSR=4326&imageSR=4326" in template_for(params(), {**DISPLAY, "crs": "EPSG:4326"})["url"]
    assert template_for(params(position="back"), DISPLAY)["zIndex"] == BACK_Z
    assert template_for(params(position="back"), {**DISPLAY, "z_index": 450})["zIndex"] == 450


def test_no_service_or_bad_params_draw_nothing_and_say_why():
    assert template_for(None, DISPLAY) == {**DISPLAY, "url": None, "error": None, "f": "image", "opacity": 0,
                                           "zIndex": BACK_Z, "token": None, "proxy": None,
                                           "crossOrigin": None}
    bad = template_for({"url": URL, "opacity": 3}, DISPLAY)
    assert bad["url"] is None and "opacity" in bad["error"]


def test_edit_applies_the_seed_setters_without_touching_the_store_value():
    data = params()
    changed = edit(data).set_band_ids("3,0,1").set_opacity(0.5).bring_to_back().params.to_dict()
    assert (changed["band_ids"], changed["opacity"], changed["position"]) == ([3, 0, 1], 0.5, "back")
    assert (data["band_ids"], data["opacity"], data["position"]) == (None, 1.0, "front")
    assert edit(changed).get_band_ids() == [3, 0, 1]
    with pytest.raises(ParameterError, match="no service yet"):
        edit(None)


def test_the_layer_holds_two_buffers_and_its_stores():
    layer = ImageMapLayerAIO(URL, aio_id="x", min_zoom=3, z_index=7, pane="shadowPane", use_cors=False)
    parts = {c.id["subcomponent"]: c for c in layer.children}
    assert list(parts) == ["a", "b", "params", "display", "template", "view", "state", "events",
                           "click", "popup", "identify", "popups", "attribution"]
    assert parts["display"].data == {"crs": "EPSG:3857", "minZoom": 3, "maxZoom": None, "z_index": 7}
    assert parts["template"].data["zIndex"] == 7
    assert parts["state"].data == {"loading": False, "url": None, "error": None,
                                   "counts": {"loading": 0, "load": 0, "error": 0}, "seq": 0}
    assert (parts["a"].pane, parts["a"].crossOrigin) == ("shadowPane", None)
    assert parts["a"].eventHandlers["add"] == {"variable": "imageMapLayer.attach"}
    assert all(isinstance(parts[k], dcc.Store) for k in ("params", "view", "state", "events"))
    assert ImageMapLayerAIO.ids.state("x") == {"component": "ImageMapLayer", "subcomponent": "state", "aio_id": "x"}
    assert ImageMapLayerAIO(None, aio_id="y").children[2].data is None


def test_dash_serves_the_browser_half_from_the_package_without_register(tmp_path):
    """The JS and CSS are package data, served from /_dash-component-suites/ with a fingerprint
    to any app that uses the component: no register(app), no copy in the app's assets folder."""
    app = Dash(__name__, assets_folder=str(tmp_path))
    app.layout = ImageMapLayerAIO(URL, aio_id="x")
    client = app.server.test_client()
    page = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(/_dash-component-suites/imageservice/dash/imagemaplayer\.v[^"]+\.(?:js|css))', page)
    assert sorted(url.rsplit(".", 1)[1] for url in urls) == ["css", "js"]
    script = client.get(next(url for url in urls if url.endswith(".js")))
    assert script.status_code == 200 and b"window.imageMapLayer = api" in script.data
    assert "max-age" in script.headers["Cache-Control"]  # fingerprinted, so cached for good
    assert app.config.external_scripts == [] and len(app.callback_map) == 0


def test_the_api_doc_example_builds_an_app():
    code = re.search(r"## Changing a layer from a callback\n\n```python\n(.*?)```", API_DOC.read_text(), re.S)[1]
    namespace: dict = {"__name__": "api_example"}
    exec(compile(code, str(API_DOC), "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, Dash) and len(app.callback_map) == 7
    data = ImageMapLayerAIO(namespace["URL"], aio_id="landsat", band_ids=[3, 2, 1]).children[2].data
    assert namespace["set_bands"]("4,3,2", data)["band_ids"] == [4, 3, 2]


def test_a_dict_aio_id_becomes_one_stable_id_value_per_layer():
    """Dash ids take no dicts as values: a dict aio_id is its sorted JSON, equal in any key order,
    and ids(...) built from the dict address the same stores as the component."""
    first, second = ImageMapLayerAIO(URL, aio_id={"kind": "x", "n": 1}), ImageMapLayerAIO(URL, aio_id={"n": 2, "kind": "x"})
    params = {c.id["subcomponent"]: c.id for c in first.children}["params"]
    assert params == ImageMapLayerAIO.ids.params({"n": 1, "kind": "x"})
    assert params["aio_id"] == '{"kind":"x","n":1}' == first.aio_id
    assert second.aio_id == '{"kind":"x","n":2}'

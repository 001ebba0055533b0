"""The ImageMapLayer component's Python half as plain functions: template, edit, layout, register."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dash import Dash, dcc

from components import imagemaplayer
from components.imagemaplayer import BACK_Z, FRONT_Z, ImageMapLayer, edit, template_for
from imageservice.errors import ParameterError

URL = "https://h/arcgis/rest/services/X/ImageServer"
DISPLAY = {"crs": "EPSG:3857", "minZoom": None, "maxZoom": None, "z_index": None}
API_DOC = Path(__file__).resolve().parent.parent / "docs" / "API.md"


def params(**options) -> dict:
    return ImageMapLayer(URL, aio_id="x", **options).children[2].data


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
    layer = ImageMapLayer(URL, aio_id="x", min_zoom=3, z_index=7, pane="shadowPane", use_cors=False)
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
    assert ImageMapLayer.ids.state("x") == {"component": "ImageMapLayer", "subcomponent": "state", "aio_id": "x"}
    assert ImageMapLayer(None, aio_id="y").children[2].data is None


def test_register_serves_the_browser_half_to_another_apps_assets_folder(tmp_path):
    app = Dash(__name__, assets_folder=str(tmp_path))
    app.layout = ImageMapLayer(URL, aio_id="x")
    imagemaplayer.register(app)
    assert app.config.external_scripts == ["/_imagemaplayer/imagemaplayer.js"]
    assert app.config.external_stylesheets == ["/_imagemaplayer/imagemaplayer.css"]
    client = app.server.test_client()
    script = client.get("/_imagemaplayer/imagemaplayer.js")
    assert script.status_code == 200 and b"window.imageMapLayer = api" in script.data
    assert client.get("/_imagemaplayer/app.css").status_code == 404
    assert len(app.callback_map) == 6


def test_register_adds_nothing_when_the_app_already_serves_this_projects_assets():
    app = Dash(__name__, assets_folder=str(imagemaplayer.ASSETS))
    imagemaplayer.register(app)
    assert (app.config.external_scripts, app.config.external_stylesheets) == ([], [])


def test_the_api_doc_example_builds_an_app():
    code = re.search(r"## Using the component in your own app\n\n```python\n(.*?)```", API_DOC.read_text(), re.S)[1]
    namespace: dict = {"__name__": "api_example"}
    exec(compile(code, str(API_DOC), "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, Dash) and len(app.callback_map) == 7
    data = ImageMapLayer(namespace["URL"], aio_id="landsat", band_ids=[3, 2, 1]).children[2].data
    assert namespace["set_bands"]("4,3,2", data)["band_ids"] == [4, 3, 2]

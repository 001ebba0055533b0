"""The index page's first view (components/firstview.py): what the shell is given to draw."""

from __future__ import annotations

import json
import re

from components.firstview import first_view_html
from imageservice.params import LayerParams

URL = "http://127.0.0.1:1/arcgis/rest/services/X/ImageServer"
BOUNDS = [[38.5, -121.9], [38.7, -121.6]]
SCRIPTS = '<script src="/_dash-component-suites/dash/react.js"></script><script>var renderer = new DashRenderer();</script>'


def config_of(page: str) -> dict:
    return json.loads(re.search(r"\}\((\{.*\})\)\);\s*</script>$", page, re.S).group(1))


def test_the_shell_gets_the_layers_url_template_and_the_services_bounds():
    params = LayerParams(url=URL, band_ids=[3, 2, 1], opacity=0.5).to_dict()
    config = config_of(first_view_html(params, BOUNDS, SCRIPTS))
    assert config["url"].startswith(URL + "/exportImage?bbox={bbox}&size={size}")
    assert "bandIds=3%2C2%2C1" in config["url"]
    assert (config["bounds"], config["opacity"], config["crossOrigin"]) == (BOUNDS, 0.5, "anonymous")


def test_dashs_scripts_wait_inert_in_a_template_before_the_shells_script():
    page = first_view_html(LayerParams(url=URL).to_dict(), BOUNDS, SCRIPTS)
    # Loaded by the shell's script after the first picture; the template keeps them from running.
    assert f"<template>{SCRIPTS}</template><script>" in page


def test_a_service_url_cannot_end_the_script_early():
    url = "http://127.0.0.1:1/a</script><script>alert(1)/ImageServer"
    page = first_view_html(LayerParams(url=url).to_dict(), BOUNDS, SCRIPTS)
    assert page.count("</script>") == SCRIPTS.count("</script>") + 1 and page.endswith("</script>")
    assert config_of(page)["url"].startswith(url + "/exportImage")  # the JSON still reads as the URL


def test_no_shell_image_when_the_layer_draws_through_json():
    # f=json: the layer asks for JSON and then the image it names; the shell would fetch the wrong thing.
    assert first_view_html(LayerParams(url=URL, f="json").to_dict(), BOUNDS, SCRIPTS) == ""

"""A mosaic dataset whose root lists no `fields` (as some real services publish) still has a
catalog: the Catalog tab decides from the capabilities and asks for every field (outFields=*)."""

from __future__ import annotations

import json
import pytest
import requests
from flask import Flask, request

import app as dashboard
from components import ids
from imageservice.server.server import create_app as create_imageserver
from server_fixtures import sample_root, serving  # noqa: F401  (pytest fixture)
from test_catalog_panel_browser import grid_rows, open_tab
from test_dashboard_controls import TIMEOUT

pytestmark = pytest.mark.browser
SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"


def without_root_fields(sample_root, queries: list[dict]) -> Flask:
    """The embedded server, whose service root leaves out `fields` while keeping Catalog; the
    catalog queries it answers go into `queries`."""
    server = create_imageserver(sample_root)

    @server.after_request
    def drop_fields(response):
        if request.path.endswith("/query"):
            queries.append(request.values.to_dict())
        if request.path.rstrip("/") == SERVICE and response.is_json:
            root = response.get_json()
            root.pop("fields", None)
            response.set_data(json.dumps(root))
        return response

    return server


def test_a_catalog_without_root_fields_lists_its_scenes(dash_duo, sample_root):
    queries: list[dict] = []
    with serving(without_root_fields(sample_root, queries)) as base:
        metadata = requests.get(base + SERVICE, params={"f": "json"}, timeout=10).json()
        assert "fields" not in metadata and "Catalog" in metadata["capabilities"]
        dash_duo.start_server(dashboard.create_app(data_dir=None, service_url=base + SERVICE))
        dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral", timeout=15)
        open_tab(dash_duo, "Catalog")
        dash_duo.wait_for_contains_text(f"#{ids.CATALOG_STATUS}", "in this view", timeout=TIMEOUT)
        dash_duo._wait_for(lambda _: len(grid_rows(dash_duo)) > 0, timeout=TIMEOUT, msg="no scenes listed")
        headers = [h.text for h in dash_duo.find_elements(f"#{ids.CATALOG_GRID} .ag-header-cell-text")]
    assert [h for h in headers if h][:4] == ["ID", "Acquisition date", "Cloud cover", "Name"]   # from the answer
    assert queries and all(q.get("outFields") == "*" for q in queries if "returnCountOnly" not in q)

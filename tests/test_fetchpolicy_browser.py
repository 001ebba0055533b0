"""The hosted dashboard's fetch policy in real headless Chromium: the service box aimed at an
internal host is refused before anything is sent, while the app's own embedded server and a
listed service still open, and the pixel inspector (identify, catalog query, the temporal profile
in a background job) works on the app's own server."""

from __future__ import annotations

import pytest

import app as dashboard
from components import ids
from imageservice.fetchpolicy import FetchPolicy
from pixel_fixtures import CROP_POINT, SCENE_COUNT
from server_fixtures import sample_root, server_url  # noqa: F401  (pytest fixtures)
from test_dashboard import enter_service_url, shown_image
from test_fetchpolicy import SECRET, recording, secret_answer
from test_imagemaplayer_browser import free_port
from test_pixel_browser import band_table, click_map, container_point

pytestmark = pytest.mark.browser
STATUS = f"#{ids.SERVICE_STATUS}"
TIMEOUT = 15


def start_hosted(dash_duo, sample_root, allowed: tuple[str, ...] = ()) -> None:
    """The dashboard as a team would host it: the policy on, the app's own port known."""
    port = free_port()
    app = dashboard.create_app(data_dir=sample_root, fetch_policy=FetchPolicy(allowed=allowed, own_port=port))
    dash_duo.start_server(app, port=port)
    dash_duo.wait_for_contains_text(STATUS, "SampleMultispectral: 6 bands", timeout=TIMEOUT)


def test_an_internal_service_is_refused_and_a_listed_one_opens(dash_duo, sample_root, server_url):
    with recording("127.0.0.2", secret_answer) as internal:
        start_hosted(dash_duo, sample_root, allowed=(server_url + "/arcgis/rest/services",))
        enter_service_url(dash_duo, internal.base + "/internal/admin/ImageServer")
        dash_duo.wait_for_contains_text(STATUS, "127.0.0.2 is not allowed", timeout=TIMEOUT)
        assert "Could not open the service" in dash_duo.find_element(STATUS).text
        assert SECRET.decode() not in dash_duo.driver.page_source
        assert internal.paths == []
        enter_service_url(dash_duo, server_url + "/arcgis/rest/services/SampleElevation/ImageServer")
        dash_duo.wait_for_contains_text(STATUS, "SampleElevation: 1 band", timeout=TIMEOUT)
        assert internal.paths == []
    assert dash_duo.get_logs() == []


def test_the_pixel_inspector_works_on_the_apps_own_server_when_hosted(dash_duo, sample_root):
    start_hosted(dash_duo, sample_root)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=TIMEOUT, msg="no image shown")
    click_map(dash_duo, container_point(dash_duo, *CROP_POINT))
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == 6, timeout=TIMEOUT, msg="no band values shown")
    dash_duo.wait_for_contains_text(f"#{ids.TEMPORAL_STATUS}", f"{SCENE_COUNT} scenes", timeout=20)
    assert dash_duo.get_logs() == []

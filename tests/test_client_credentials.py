"""esri-leaflet's withCredentials for the Python client: `auth` and `cookies` reach a service behind
web-tier authentication (HTTP basic here) or a session cookie; without them it refuses."""

from __future__ import annotations

import json

import pytest
from flask import Flask, Response, request

from imageservice.client import ImageServiceClient
from imageservice.errors import ImageServiceError
from server_fixtures import serving

ROOT = {"name": "Guarded", "bandCount": 1, "extent": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1,
                                                      "spatialReference": {"wkid": 4326}}}


def guarded(check) -> Flask:
    """An ImageServer root that answers only requests `check` lets in (401 otherwise, as a web tier does)."""
    app = Flask(__name__)

    @app.get("/arcgis/rest/services/Guarded/ImageServer/")
    def root() -> Response:
        if not check(request):
            return Response("Unauthorized", status=401, headers={"WWW-Authenticate": 'Basic realm="gis"'})
        return Response(json.dumps(ROOT), mimetype="application/json")

    return app


@pytest.mark.parametrize(("check", "credentials"), [
    (lambda r: r.authorization is not None and (r.authorization.username, r.authorization.password) == ("ana", "pw"),
     {"auth": ("ana", "pw")}),
    (lambda r: r.cookies.get("session") == "s3", {"cookies": {"session": "s3"}}),
], ids=["web-tier basic auth", "session cookie"])
def test_auth_and_cookies_reach_a_guarded_service(check, credentials):
    with serving(guarded(check)) as base:
        url = base + "/arcgis/rest/services/Guarded/ImageServer"
        assert ImageServiceClient(url, **credentials).metadata()["name"] == "Guarded"
        with pytest.raises(ImageServiceError) as refused:
            ImageServiceClient(url).metadata()
        assert refused.value.code == 500 and "401" in str(refused.value)

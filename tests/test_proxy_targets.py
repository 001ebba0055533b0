"""The proxy's reading of `proxy?<url>`: normalisation, refusals and allow-list matching (no network)."""

from __future__ import annotations

import pytest

from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.errors import Refused
from imageservice.proxy.targets import Location, parse_location, parse_target

SERVICE = "https://img.example.com/arcgis/rest/services/Landsat/ImageServer"


@pytest.mark.parametrize(("raw", "url", "query"), [
    (SERVICE + "/exportImage?bbox=1,2,3,4&f=image",
     SERVICE + "/exportImage", [("bbox", "1,2,3,4"), ("f", "image")]),
    # esri-leaflet's service URL ends with "/": kept, and the metadata request is `<url>/?f=json`.
    (SERVICE + "/?f=json", SERVICE + "/", [("f", "json")]),
    # Case of scheme and host does not matter; default ports are dropped; doubled slashes collapse.
    ("HTTPS://IMG.Example.COM:443/arcgis//rest/services/Landsat/ImageServer", SERVICE, []),
    ("http://127.0.0.1:8050/arcgis/rest/services/A%20B/ImageServer/identify?geometry=%7B%22x%22%3A1%7D",
     "http://127.0.0.1:8050/arcgis/rest/services/A%20B/ImageServer/identify", [("geometry", '{"x":1}')]),
    ("http://h/a?x=&y=1+2&x=3", "http://h/a", [("x", ""), ("y", "1 2"), ("x", "3")]),
    # Dots and semicolons inside a segment name are ordinary characters.
    ("http://h/a..b/..c/d;e/.f.", "http://h/a..b/..c/d;e/.f.", []),
])
def test_targets_are_normalised(raw, url, query):
    target = parse_target(raw)
    assert target.location.url == url
    assert target.query == query


REFUSED = [
    ("", "No URL"),
    ("file:///etc/passwd", "Only http and https"),
    ("ftp://img.example.com/arcgis/rest/services/Landsat/ImageServer", "Only http and https"),
    ("gopher://img.example.com:70/_GET", "Only http and https"),
    ("javascript:alert(1)", "Only http and https"),
    ("data:text/plain,hello", "Only http and https"),
    ("//img.example.com/arcgis/rest/services/Landsat/ImageServer", "Only http and https"),
    ("https:/img.example.com/arcgis", "Only http and https"),
    ("https%3A%2F%2Fimg.example.com%2Farcgis", "Only http and https"),
    ("https://user@img.example.com/arcgis", "user information"),
    ("https://img.example.com@evil.example/arcgis", "user information"),
    ("https://img.example.com%40evil.example/arcgis", "user information"),
    ("https://%69mg.example.com/arcgis", "user information"),
    ("https://img.example.com\\@evil.example/arcgis", "would have encoded"),
    ("https:\\\\img.example.com/arcgis", "would have encoded"),
    ("https://img.example.com./arcgis", "plain host name"),
    ("https://2130706433/arcgis", "plain host name"),
    ("https://127.1/arcgis", "plain host name"),
    ("https://0x7f.0.0.1/arcgis", "plain host name"),
    ("https://0177.0.0.1/arcgis", "plain host name"),
    ("https://[::ffff:127.0.0.1]/arcgis", "plain host name"),
    ("https://img.example.com:99999/arcgis", "malformed"),
    ("https://img.example.com:8o/arcgis", "malformed"),
    (SERVICE + "/../../Other/ImageServer", "'..' segments"),
    (SERVICE + "/%2e%2e/%2E%2E/Other/ImageServer", "'..' segments"),
    (SERVICE + "/./exportImage", "'..' segments"),
    # Tomcat (under ArcGIS Enterprise) drops ';' path parameters, so `..;` is `..` there.
    (SERVICE + "/..;/..;/Other/ImageServer", "'..' segments"),
    (SERVICE + "/..;jsessionid=1/..;x=2/Other/ImageServer", "'..' segments"),
    (SERVICE + "/.;/exportImage", "'..' segments"),
    (SERVICE + "/%2e%2e;/%2E%2E;/Other/ImageServer", "'..' segments"),
    (SERVICE + "/..%3b/..%3B/Other/ImageServer", "'..' segments"),
    # Encoded more than once: a server or front end that decodes twice sees `..`.
    (SERVICE + "/%252e%252e/%252e%252e/Other/ImageServer", "'..' segments"),
    (SERVICE + "/%25252e%25252e/%25252e%25252e/Other/ImageServer", "'..' segments"),
    (SERVICE + "/.%252e/%2e%252e;/Other/ImageServer", "'..' segments"),
    (SERVICE + "%252f..%252f..%252fOther", "'..' segments"),
    (SERVICE + "%255c..%255c..%255cOther", "'..' segments"),
    (SERVICE + "/%" + "25" * 5000 + "2e", "too many times"),  # 5000 layers deep
    (SERVICE + "%2f..%2fOther", "Encoded slashes"),
    (SERVICE + "%5c..%5cOther", "Encoded slashes"),
    (SERVICE + "/%0d%0aHost:evil.example", "control characters"),
    (SERVICE + "/%ff", "UTF-8"),
    (SERVICE + "/export Image", "would have encoded"),
    (SERVICE + "#fragment", "would have encoded"),
    (SERVICE + "/exportImage?bbox=1,2\x00", "would have encoded"),
    (SERVICE + "/\u00e9", "would have encoded"),
]


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_tricks_are_refused(raw, reason):
    with pytest.raises(Refused) as refused:
        parse_target(raw)
    assert refused.value.status == 403
    assert refused.value.envelope()["error"]["message"] == "The proxy refused this request."
    assert reason in refused.value.details[0]


def location(url: str) -> Location:
    return parse_location(url)


@pytest.mark.parametrize(("url", "inside"), [
    (SERVICE, True),
    (SERVICE + "/", True),
    (SERVICE + "/exportImage", True),
    (SERVICE + "Two", False),  # a prefix, but not at a segment boundary
    (SERVICE.replace("Landsat", "LandsatX"), False),
    (SERVICE.replace("/ImageServer", "/imageserver"), False),  # paths compare case-sensitively
    (SERVICE.replace("https:", "http:"), False),
    (SERVICE.replace("img.example.com", "img.example.com:8443"), False),
    (SERVICE.replace("img.example.com", "other.example.com"), False),
])
def test_within_is_same_origin_and_whole_segments(url, inside):
    assert location(url).within(location(SERVICE)) is inside


def test_entry_for_picks_the_most_specific_entry_and_output_files_only_for_get():
    config = ProxyConfig.from_mapping({"services": [
        {"url": "https://img.example.com/arcgis/rest/services"},
        {"url": SERVICE + "/", "token": "operator"},
    ]})
    broad, landsat = config.services
    assert config.entry_for(location(SERVICE + "/identify"), "GET") is landsat
    assert config.entry_for(location("https://img.example.com/arcgis/rest/services/Other/ImageServer"), "POST") is broad
    output = location("https://img.example.com/arcgis/rest/directories/arcgisoutput/Landsat_ImageServer/_ags_1.png")
    assert config.entry_for(output, "GET") is landsat
    assert config.entry_for(output, "POST") is None
    assert config.entry_for(location("https://img.example.com/arcgis/rest/info"), "GET") is None
    assert config.entry_for(location("https://img.example.com/arcgis/admin"), "GET") is None

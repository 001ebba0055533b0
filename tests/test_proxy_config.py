"""The proxy's configuration file, environment and cache settings (no network)."""

from __future__ import annotations

import json

import pytest

from imageservice.proxy.cache import backend_config, cache_key, cacheable
from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.targets import parse_location

SERVICE = "https://img.example.com/arcgis/rest/services/Landsat/ImageServer"
PORTAL = "https://portal.example.org/server/rest/services/Secure/DEM/ImageServer"

TOML = f"""
max_bytes = 1000000
read_timeout = 30
cache_dir = "cache-here"
cache_timeout = 60

[[services]]
url = "{SERVICE}"
token = "t0ken"

[[services]]
url = "{PORTAL}/"
username = "analyst"
password = "pa55"
"""


def check_example(config: ProxyConfig) -> None:
    landsat, dem = config.services
    assert (landsat.url, landsat.token, landsat.username) == (SERVICE, "t0ken", None)
    assert (dem.username, dem.password, dem.token) == ("analyst", "pa55", None)
    assert dem.location.path == "/server/rest/services/Secure/DEM/ImageServer"
    assert dem.output.url == "https://portal.example.org/server/rest/directories/arcgisoutput"
    assert (config.max_bytes, config.connect_timeout, config.read_timeout, config.max_seconds) == (
        1000000, 5.0, 30, 120.0)
    assert (config.cache_dir, config.cache_timeout, config.redis_url) == ("cache-here", 60, None)


def test_toml_and_json_files_give_the_same_config(tmp_path):
    toml_path = tmp_path / "proxy.toml"
    toml_path.write_text(TOML)
    check_example(ProxyConfig.from_file(toml_path))
    json_path = tmp_path / "proxy.json"
    json_path.write_text(json.dumps({
        "max_bytes": 1000000, "read_timeout": 30, "cache_dir": "cache-here", "cache_timeout": 60,
        "services": [{"url": SERVICE, "token": "t0ken"},
                     {"url": PORTAL + "/", "username": "analyst", "password": "pa55"}]}))
    check_example(ProxyConfig.from_file(json_path))


def test_from_env_reads_the_named_file_and_redis_url(tmp_path):
    path = tmp_path / "proxy.toml"
    path.write_text(TOML)
    assert ProxyConfig.from_env({}) is None
    config = ProxyConfig.from_env({"IMAGESERVICE_PROXY_CONFIG": str(path), "REDIS_URL": "redis://cache:6379/2"})
    check_example(ProxyConfig.from_env({"IMAGESERVICE_PROXY_CONFIG": str(path)}))
    assert config.redis_url == "redis://cache:6379/2"


def test_defaults():
    config = ProxyConfig.from_mapping({"services": [{"url": SERVICE}]})
    assert (config.max_bytes, config.connect_timeout, config.read_timeout, config.max_seconds) == (
        50 * 2**20, 5.0, 60.0, 120.0)
    assert (config.cache_dir, config.cache_timeout, config.redis_url) == (".cache/resourceproxy", 300, None)
    assert config.public_url is None
    assert ProxyConfig.from_mapping({}).services == []


def test_secrets_stay_out_of_repr():
    config = ProxyConfig.from_mapping({"redis_url": "redis://:redispass@cache/0", "services": [
        {"url": SERVICE, "token": "t0ken"}, {"url": PORTAL, "username": "analyst", "password": "pa55"}]})
    text = repr(config)
    assert "analyst" in text and SERVICE in text
    assert "t0ken" not in text and "pa55" not in text and "redispass" not in text


@pytest.mark.parametrize(("data", "message"), [
    ([{"url": SERVICE}], "must be a JSON object"),
    ({"services": [{"url": SERVICE}], "max_byte": 5}, "unknown proxy settings: max_byte"),
    ({"services": [{"url": SERVICE, "pasword": "x"}]}, "each service needs a 'url'"),
    ({"services": [{"token": "x"}]}, "each service needs a 'url'"),
    ({"services": ["https://host/x"]}, "each service needs a 'url'"),
    ({"services": [{"url": SERVICE, "token": 1234}]}, "as text"),
    ({"services": [{"url": "ftp://host/x"}]}, "Only http and https"),
    ({"services": [{"url": "https://user@host/x"}]}, "user information"),
    ({"services": [{"url": SERVICE, "token": "t", "username": "u", "password": "p"}]}, "either a token or a username"),
    ({"services": [{"url": SERVICE, "username": "u"}]}, "needs a password"),
    ({"services": [{"url": SERVICE, "password": "p"}]}, "needs a password"),
    ({"services": [], "max_bytes": "50MB"}, "max_bytes must be a positive number"),
    ({"services": [], "read_timeout": 0}, "read_timeout must be a positive number"),
    ({"services": [], "cache_timeout": -1}, "cache_timeout must be a whole number"),
    ({"services": [], "public_url": "maps.example.org/team/"}, "public_url .*Only http and https"),
    ({"services": [], "public_url": "/team/"}, "public_url .*Only http and https"),
    ({"services": [], "public_url": "https://user@maps.example.org/"}, "public_url .*user information"),
    ({"services": [], "public_url": "https://maps.example.org/?x=1"}, "public_url .*no query"),
    ({"services": [], "public_url": "https://maps.example.org/#top"}, "public_url .*no query or fragment"),
    ({"services": [], "public_url": 8050}, "public_url must be an http"),
])
def test_bad_configs_fail_at_start_up(data, message):
    with pytest.raises(ValueError, match=message):
        ProxyConfig.from_mapping(data)


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": ".cache/resourceproxy", "CACHE_DEFAULT_TIMEOUT": 300}),
    ({"redis_url": "redis://cache:6379/0", "cache_timeout": 30},
     {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://cache:6379/0", "CACHE_DEFAULT_TIMEOUT": 30}),
    ({"cache_timeout": 0, "redis_url": "redis://cache:6379/0"},
     {"CACHE_TYPE": "NullCache", "CACHE_DEFAULT_TIMEOUT": 0}),
])
def test_cache_backend(settings, expected):
    config = ProxyConfig.from_mapping({"services": [], **settings})
    assert backend_config(config) == {**expected, "CACHE_KEY_PREFIX": "resourceproxy:", "CACHE_NO_NULL_WARNING": True}


def test_cache_key_ignores_parameter_order_but_not_values_or_method():
    export = parse_location(SERVICE + "/exportImage")
    key = cache_key("GET", export, [("bbox", "1,2,3,4"), ("f", "image")])
    assert key == cache_key("GET", export, [("f", "image"), ("bbox", "1,2,3,4")])
    assert len({key,
                cache_key("POST", export, [("bbox", "1,2,3,4"), ("f", "image")]),
                cache_key("GET", export, [("bbox", "1,2,3,5"), ("f", "image")]),
                cache_key("GET", export, [("bbox", "1,2,3,4"), ("f", "image"), ("f", "image")]),
                cache_key("GET", parse_location(SERVICE + "/identify"), [("bbox", "1,2,3,4"), ("f", "image")]),
                }) == 5


@pytest.mark.parametrize(("path", "cached"), [
    ("", True), ("/", True), ("/exportImage", True), ("/exportimage", True), ("/identify", True),
    ("/query", False), ("/computeHistograms", False), ("/exportImage/extra", False),
])
def test_cacheable_resources(path, cached):
    assert cacheable(parse_location(SERVICE + path)) is cached

"""Sign-in to the dashboard: the configuration, the refusal to start exposed, and what the
protected app answers without and with credentials (Flask's test client; the browser tests are in
test_signin_browser.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

import app as dashboard
import signin
import wsgi
from imageservice.proxy import ProxyConfig
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from signin import AuthConfig, exposure_problem, is_loopback

# Fast hashes for tests; real ones come from `python signin.py` (scrypt).
ALICE_HASH = generate_password_hash("alice-pass", method="pbkdf2:sha256:1000")
BOB_HASH = generate_password_hash("bob-pass", method="pbkdf2:sha256:1000")
OIDC = {"server_metadata_url": "https://idp.example.com/.well-known/openid-configuration", "client_id": "dash"}
OIDC_ENV = {signin.CLIENT_SECRET_ENV: "client-secret-value", signin.SECRET_KEY_ENV: "session-key-value"}
SERVICE = "https://gis.example.com/arcgis/rest/services/Secret/ImageServer"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("IMAGESERVICE_HOST", "IMAGESERVICE_PROXY_CONFIG", signin.CONFIG_ENV, signin.USERS_ENV,
                 signin.PUBLIC_ENV, signin.CLIENT_SECRET_ENV, signin.SECRET_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def operated_proxy(tmp_path: Path) -> str:
    """A proxy configuration holding an operator token."""
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps({"services": [{"url": SERVICE, "token": "operator-token"}]}))
    return str(path)


@pytest.fixture
def users_file(tmp_path: Path) -> str:
    path = tmp_path / "auth.toml"
    path.write_text(f"[users]\nalice = '{ALICE_HASH}'\n")
    return str(path)


# The configuration

def test_users_from_a_toml_file_and_the_environment(users_file):
    config = AuthConfig.from_env({signin.CONFIG_ENV: users_file, signin.USERS_ENV: f"bob:{BOB_HASH}"})
    assert config.users == {"alice": ALICE_HASH, "bob": BOB_HASH} and config.oidc is None
    assert config.check("alice", "alice-pass") and config.check("bob", "bob-pass")
    assert not config.check("alice", "bob-pass") and not config.check("carol", "alice-pass")


def test_users_from_the_environment_alone_separated_by_spaces_or_commas():
    config = AuthConfig.from_env({signin.USERS_ENV: f" alice:{ALICE_HASH},\n bob:{BOB_HASH} "})
    assert sorted(config.users) == ["alice", "bob"]
    assert AuthConfig.from_env({}) is None and AuthConfig.from_env({signin.USERS_ENV: "  "}) is None


def test_json_file_with_oidc_and_secrets_from_the_environment(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"oidc": {**OIDC, "name": "corp", "https": True}}))
    config = AuthConfig.from_env({signin.CONFIG_ENV: str(path), **OIDC_ENV})
    assert config.oidc.client_secret == "client-secret-value" and config.secret_key == "session-key-value"
    assert (config.oidc.name, config.oidc.scope, config.oidc.https) == ("corp", "openid email", True)


def test_no_secret_in_repr(users_file):
    texts = [repr(AuthConfig.from_env({signin.CONFIG_ENV: users_file, signin.SECRET_KEY_ENV: "session-key-value"})),
             repr(AuthConfig.from_mapping({"oidc": OIDC}, OIDC_ENV))]
    assert "client_id='dash'" in texts[1]
    for secret in (ALICE_HASH, ALICE_HASH.split("$")[1], "client-secret-value", "session-key-value"):
        assert all(secret not in text for text in texts)


@pytest.mark.parametrize("data, environ, message", [
    ({"users": {"alice": ALICE_HASH}, "pasword": "x"}, {}, "unknown sign-in settings: pasword"),
    ({"users": {"alice": "alice-pass"}}, {}, "user 'alice': give the password's hash"),
    ({"users": {"alice": "sha1$salt$hash"}}, {}, "user 'alice': give the password's hash"),
    ({}, {signin.USERS_ENV: "alice"}, "each user is name:hash"),
    ({"users": ["alice"]}, {}, "users is a table"),
    ({}, {}, "either users (basic auth) or [oidc]"),
    ({"users": {"alice": ALICE_HASH}, "oidc": OIDC}, OIDC_ENV, "and not both"),
    ({"oidc": {**OIDC, "client_secret": "in-the-file"}}, OIDC_ENV, "[oidc] may have only"),
    ({"oidc": {"client_id": "dash"}}, OIDC_ENV, "[oidc] needs server_metadata_url"),
    ({"oidc": {**OIDC, "https": "yes"}}, OIDC_ENV, "`https`, which is true or false"),
    ({"oidc": OIDC}, {signin.SECRET_KEY_ENV: "k"}, "IMAGESERVICE_OIDC_CLIENT_SECRET is not set"),
    ({"oidc": OIDC}, {signin.CLIENT_SECRET_ENV: "s"}, "IMAGESERVICE_SECRET_KEY is not set"),
])
def test_mistakes_are_errors(data, environ, message):
    with pytest.raises(ValueError) as error:
        AuthConfig.from_mapping(data, environ)
    assert message in str(error.value)


def test_a_matching_password_is_hashed_once(monkeypatch):
    config = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    calls = []
    real = signin.check_password_hash
    monkeypatch.setattr(signin, "check_password_hash", lambda *args: calls.append(args) or real(*args))
    assert [config.check("alice", "alice-pass") for _ in range(3)] == [True] * 3
    assert [config.check("alice", "wrong") for _ in range(2)] == [False] * 2
    assert len(calls) == 3  # one match remembered, every miss checked


def test_hash_command_prints_a_hash_that_checks(monkeypatch, capsys):
    monkeypatch.setattr(signin.getpass, "getpass", lambda prompt: "s3cret")
    signin.main()
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt:") and AuthConfig.from_mapping({"users": {"u": printed}}, {}).check("u", "s3cret")


# The start-up rule

@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST", True), ("0.0.0.0", False), ("::", False), ("192.0.2.10", False), ("dash.example.com", False),
    ("", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("entry", [{"url": SERVICE, "token": "t"}, {"url": SERVICE, "username": "u", "password": "p"}])
def test_operator_credentials_beyond_loopback_without_sign_in_refuse(entry):
    proxy = ProxyConfig.from_mapping({"services": [{"url": "https://open.example.com/arcgis/rest/services"}, entry]})
    problem = exposure_problem("0.0.0.0", proxy, None, public=False)
    assert problem.startswith("Refusing to start") and SERVICE in problem and "open.example.com" not in problem
    assert "--auth-config" in problem and "--public" in problem and "IMAGESERVICE_PUBLIC=1" in problem
    users = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    assert exposure_problem("0.0.0.0", proxy, users, public=False) is None
    assert exposure_problem("0.0.0.0", proxy, None, public=True) is None
    assert exposure_problem("127.0.0.1", proxy, None, public=False) is None


def test_no_operator_credentials_nothing_to_refuse():
    open_proxy = ProxyConfig.from_mapping({"services": [{"url": SERVICE}]})
    assert exposure_problem("0.0.0.0", open_proxy, None, public=False) is None
    assert exposure_problem("0.0.0.0", None, None, public=False) is None


def test_parse_args_refuses_in_one_message(clean_env, operated_proxy, capsys):
    with pytest.raises(SystemExit) as exit_:
        dashboard.parse_args(["--host", "0.0.0.0", "--proxy-config", operated_proxy])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Refusing to start: the dashboard would listen on 0.0.0.0 without sign-in")
    assert err.count("\n") == 1 and "operator-token" not in err


def test_parse_args_starts_when_signed_in_public_or_local(clean_env, operated_proxy, users_file):
    exposed = ["--host", "0.0.0.0", "--proxy-config", operated_proxy]
    assert dashboard.parse_args([*exposed, "--auth-config", users_file]).auth_config.users == {"alice": ALICE_HASH}
    assert dashboard.parse_args([*exposed, "--public"]).public
    assert dashboard.parse_args(["--proxy-config", operated_proxy]).auth_config is None
    clean_env.setenv(signin.PUBLIC_ENV, "1")
    assert dashboard.parse_args(exposed).public
    clean_env.setenv(signin.PUBLIC_ENV, "0")
    clean_env.setenv(signin.USERS_ENV, f"bob:{BOB_HASH}")
    assert sorted(dashboard.parse_args(exposed).auth_config.users) == ["bob"]


def test_parse_args_names_a_bad_sign_in_file(clean_env, tmp_path, capsys):
    path = tmp_path / "auth.toml"
    path.write_text("[users]\nalice = 'alice-pass'\n")
    with pytest.raises(SystemExit):
        dashboard.parse_args(["--auth-config", str(path)])
    assert f"sign-in configuration {path}: user 'alice': give the password's hash" in capsys.readouterr().err


def test_gunicorn_entry_point_refuses_too(clean_env, operated_proxy, capsys):
    clean_env.setenv("IMAGESERVICE_HOST", "0.0.0.0")
    clean_env.setenv("IMAGESERVICE_PROXY_CONFIG", operated_proxy)
    with pytest.raises(SystemExit):
        wsgi.dashboard.__wrapped__()
    assert capsys.readouterr().err.startswith("Refusing to start")


# What the protected app answers

@pytest.fixture
def protected(sample_root, tmp_path):
    config = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    proxy = ProxyConfig.from_mapping({"services": [{"url": SERVICE, "token": "operator-token"}],
                                      "cache_dir": str(tmp_path / "cache")})
    return dashboard.create_app(data_dir=sample_root, proxy_config=proxy, auth_config=config).server.test_client()


PROTECTED = [("GET", "/"), ("GET", "/proxy?" + SERVICE + "?f=json"),
             ("POST", "/_dash-update-component"), ("POST", "/_dash-update-component?cacheKey=x&job=1")]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_without_credentials_the_routes_that_matter_answer_401(protected, method, path):
    body = {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": [], "changedPropIds": []}
    for headers in ({}, basic("alice", "wrong"), basic("mallory", "alice-pass")):
        response = protected.open(path, method=method, json=body if method == "POST" else None, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_with_credentials_the_page_loads_and_the_embedded_server_is_open(protected):
    assert protected.get("/", headers=basic("alice", "alice-pass")).status_code == 200
    assert protected.get("/arcgis/rest/services?f=json").status_code == 200


def test_without_the_embedded_server_nothing_is_open(tmp_path):
    config = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    client = dashboard.create_app(data_dir=None, auth_config=config).server.test_client()
    for path in ("/_dash-layout", "/_dash-dependencies", "/arcgis/rest/services"):
        assert client.get(path).status_code == 401

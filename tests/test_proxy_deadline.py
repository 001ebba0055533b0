"""`max_seconds` holds against an upstream that drips its answer a byte at a time, in every part
of the answer, while never going quiet for as long as `read_timeout`.

The upstream is a raw socket server on 127.0.0.1, plain or over TLS, since a dripped status line
or header cannot be written with a WSGI app. It gives up dripping after DRIP_SECONDS and closes, so a proxy without
the deadline ends too, only late, and the tests stay bounded either way.
"""

from __future__ import annotations

import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from imageservice.proxy import ProxyConfig, install
from imageservice.proxy.deadline import Deadline
from imageservice.proxy.errors import ProxyError
from imageservice.proxy.forward import new_session

MAX_SECONDS = 1.0
READ_TIMEOUT = 0.5
MARGIN = 0.75  # for thread start-up and a loaded machine
DRIP_PAUSE = 0.05  # between bytes: far below READ_TIMEOUT
DRIP_SECONDS = 3.0
TOO_SLOW = {"error": {"code": 504, "message": "The server took too long to answer.",
                      "details": [f"The limit is {MAX_SECONDS:g} seconds."]}}
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
# The last path segment picks the answer: what is sent at once, then what is dripped.
ANSWERS = {
    "headers": (b"", HEAD + b"X-Padding: " + b"x" * 10_000 + b"\r\nContent-Length: 2\r\n\r\nok"),
    "length": (HEAD + b"Content-Length: 100000\r\n\r\n", b"x" * 100_000),
    "chunked": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n", b"1\r\nx\r\n" * 10_000),
    "until-close": (HEAD + b"Connection: close\r\n\r\n", b"x" * 100_000),
    "fast": (HEAD + b"Content-Length: 2\r\n\r\nok", b""),
}


# A TLS handshake record announcing 16 KiB, then its bytes: a client waits for all of them.
TLS_RECORD = (b"\x16\x03\x03\x40\x00", b"\x00" * 0x4000)


class DripServer:
    """Answers from ANSWERS over keep-alive connections, or with TLS_RECORD to a TLS client;
    `dropped` gets, for each dripped answer the client abandoned, the seconds from the request
    until the client closed the connection; `accepted` counts connections."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.dropped: queue.Queue[float] = queue.Queue()
        self.accepted = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed at the end of the test
                return
            self.accepted += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        if self.tls:
            conn = self.tls.wrap_socket(conn, server_side=True)
        with conn:
            while (name := read_request(conn)) is not None:
                start = time.monotonic()
                prefix, dripped = TLS_RECORD if name == "tls" else ANSWERS[name]
                conn.sendall(prefix)
                if dripped:
                    if not drip(conn, dripped):
                        self.dropped.put(time.monotonic() - start)
                    return


def read_request(conn: socket.socket) -> str | None:
    """The last path segment of the next request on `conn`, "tls" for a TLS ClientHello; None
    when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        if chunk.startswith(b"\x16\x03"):
            return "tls"
        data += chunk
    target = data.split(b" ", 2)[1].decode()  # origin-form, or absolute-form through an HTTP proxy
    return target.rsplit("/", 1)[-1]


def drip(conn: socket.socket, data: bytes) -> bool:
    """Send `data` a byte per DRIP_PAUSE for DRIP_SECONDS; False as soon as the client is gone."""
    end = time.monotonic() + DRIP_SECONDS
    for byte in data:
        if time.monotonic() > end:
            return True
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return False
        time.sleep(DRIP_PAUSE)
    return True


@pytest.fixture
def server() -> Iterator[DripServer]:
    drip_server = DripServer()
    yield drip_server
    drip_server.listener.close()


@pytest.fixture
def tls_server(tmp_path, monkeypatch) -> Iterator[DripServer]:
    """A DripServer over TLS, with a certificate for 127.0.0.1 that the proxy's requests trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "cert.pem"))
    drip_server = DripServer(context)
    yield drip_server
    drip_server.listener.close()


def proxy_for(service_url: str):
    app = Flask("deadline_proxy")
    install(app, ProxyConfig.from_mapping({"services": [{"url": service_url}], "cache_timeout": 0,
                                           "max_seconds": MAX_SECONDS, "read_timeout": READ_TIMEOUT}))
    return app.test_client()


def timed_fetch(client, target: str):
    start = time.monotonic()
    answer = client.get("/proxy", query_string=target)
    return answer, time.monotonic() - start


@pytest.mark.parametrize("part", ["headers", "length", "chunked", "until-close"])
def test_an_upstream_dripping_bytes_is_cut_off_at_max_seconds(server, part):
    answer, seconds = timed_fetch(proxy_for(server.url + "/drip"), f"{server.url}/drip/{part}")
    assert (answer.status_code, answer.json) == (504, TOO_SLOW)
    assert MAX_SECONDS <= seconds < MAX_SECONDS + MARGIN
    # The connection is closed then too, so no thread of the proxy is left reading it.
    assert server.dropped.get(timeout=MARGIN) < MAX_SECONDS + MARGIN


def test_an_upstream_dripping_bytes_over_tls_is_cut_off_at_max_seconds(tls_server):
    client = proxy_for(tls_server.url + "/drip")
    assert client.get("/proxy", query_string=f"{tls_server.url}/drip/fast").data == b"ok"  # TLS works
    answer, seconds = timed_fetch(client, f"{tls_server.url}/drip/length")
    assert (answer.status_code, answer.json) == (504, TOO_SLOW)
    assert MAX_SECONDS <= seconds < MAX_SECONDS + MARGIN
    assert tls_server.dropped.get(timeout=MARGIN) < MAX_SECONDS + MARGIN


def test_a_dripped_tls_handshake_is_cut_off_at_max_seconds(server):
    service = server.url.replace("http:", "https:") + "/drip"
    answer, seconds = timed_fetch(proxy_for(service), f"{service}/length")
    assert (answer.status_code, answer.json) == (504, TOO_SLOW)
    assert MAX_SECONDS <= seconds < MAX_SECONDS + MARGIN
    assert server.dropped.get(timeout=MARGIN) < MAX_SECONDS + MARGIN


def test_a_connection_cut_off_is_not_reused(server):
    client = proxy_for(server.url + "/drip")
    assert client.get("/proxy", query_string=f"{server.url}/drip/fast").data == b"ok"
    answer, seconds = timed_fetch(client, f"{server.url}/drip/length")  # on the kept-alive connection
    assert answer.status_code == 504 and seconds < MAX_SECONDS + MARGIN
    assert client.get("/proxy", query_string=f"{server.url}/drip/fast").data == b"ok"


def test_a_deadline_passing_later_leaves_the_pooled_connection_alone(server):
    session = new_session()
    with pytest.raises(ProxyError) as late:
        with Deadline(0.5):
            assert session.get(f"{server.url}/drip/fast", timeout=5).content == b"ok"
            time.sleep(0.8)  # the answer is whole and its connection back in the pool
    assert late.value.status == 504
    assert session.get(f"{server.url}/drip/fast", timeout=5).content == b"ok"
    assert server.accepted == 1  # the same connection served both


def test_the_deadline_holds_through_an_http_proxy_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)  # the dripping server plays the forward proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    service = "http://127.0.0.1:9/drip"  # never reached: the forward proxy answers
    answer, seconds = timed_fetch(proxy_for(service), f"{service}/length")
    assert (answer.status_code, answer.json) == (504, TOO_SLOW)
    assert seconds < MAX_SECONDS + MARGIN

"""`max_seconds` for a whole upstream exchange, whatever pace the server sends its bytes at.

Socket timeouts only bound the silence between two reads, so a server that drips a byte every
few seconds, into its status line, its headers or its body, would hold a thread indefinitely.
Inside `with Deadline(seconds):` a connection urllib3 opens (from the moment its TCP connection
stands, so a TLS handshake is covered) or takes from its pool belongs to the deadline until it
goes back, and a timer shuts that connection down when the time is up: the blocked read wakes at
once, and leaving the `with` raises the proxy's 504 whatever happened inside. Shutting down,
unlike closing, wakes a read blocked in another thread; and a connection handed back to the pool
is let go first, under the lock the timer takes, so the timer never touches a connection that
another request may be using. Connecting itself is bounded by `connect_timeout`.
"""

from __future__ import annotations

import logging
import socket
import threading
from functools import cache
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import PoolManager

from imageservice.proxy.errors import TOO_SLOW, ProxyError

log = logging.getLogger(__name__)
_current = threading.local()  # the Deadline of the thread's exchange, if any


class Deadline:
    """Shuts down the upstream connection in use when `seconds` have passed; see the module."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connection: Any = None  # the urllib3 HTTPConnection in use
        # A duplicate of its socket, which still reaches the connection when TLS takes the socket
        # over, or when http.client hands it to a response read until the server closes.
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._timer.cancel()
        _current.deadline = None
        self._hand_over(None, None)
        if self.expired:  # whatever the cut-off connection raised, or a body cut short
            log.warning("cut off an upstream exchange at max_seconds (%g s)", self.seconds)
            raise ProxyError(504, TOO_SLOW, [f"The limit is {self.seconds:g} seconds."]) from None

    def holds(self, connection: Any) -> bool:
        return self._connection is connection

    def hold(self, connection: Any, sock: socket.socket) -> None:
        """`connection`, connected over `sock`, is this exchange's until `let_go`."""
        self._hand_over(connection, socket.fromfd(sock.fileno(), sock.family, sock.type))

    def let_go(self, connection: Any) -> None:
        if self.holds(connection):
            self._hand_over(None, None)

    def _hand_over(self, connection: Any, spare: socket.socket | None) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
            self._connection, self._socket = connection, spare
            if self.expired and spare is not None:
                shut_down(spare)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._socket is not None:
                shut_down(self._socket)


def shut_down(sock: socket.socket) -> None:
    """Shut the connection down, which wakes a read blocked on it in another thread."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the server
        pass


def current() -> Deadline | None:
    return getattr(_current, "deadline", None)


class DeadlineConnection:
    """Mixed into urllib3's connections: a new socket is held by the thread's deadline as soon as
    it is connected, before a TLS handshake or a proxy's CONNECT answer is read from it."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        deadline = current()
        if deadline is not None:
            deadline.hold(self, sock)
        return sock


class DeadlinePool:
    """Mixed into urllib3's connection pools: with DeadlineConnection; a connection reused from
    the pool is held when its request is about to be sent, and every one is let go before it
    goes back, so the deadline never shuts down a connection another request may be using."""

    def _validate_conn(self, conn: Any) -> None:
        super()._validate_conn(conn)  # type: ignore[misc]
        deadline = current()
        if deadline is not None and conn.sock is not None and not deadline.holds(conn):
            deadline.hold(conn, conn.sock)

    def _put_conn(self, conn: Any) -> None:
        deadline = current()
        if deadline is not None:
            deadline.let_go(conn)
        super()._put_conn(conn)  # type: ignore[misc]


@cache
def with_deadlines(pool_class: type) -> type:
    """`pool_class` with DeadlinePool, making connections of its class with DeadlineConnection."""
    connection_class = type("Deadline" + pool_class.ConnectionCls.__name__,
                            (DeadlineConnection, pool_class.ConnectionCls), {})
    return type("Deadline" + pool_class.__name__, (DeadlinePool, pool_class), {"ConnectionCls": connection_class})


def watch_pools(manager: PoolManager) -> PoolManager:
    """`manager`, making pools that honour deadlines (for each scheme, direct or through a proxy)."""
    manager.pool_classes_by_scheme = {
        scheme: pool_class if issubclass(pool_class, DeadlinePool) else with_deadlines(pool_class)
        for scheme, pool_class in manager.pool_classes_by_scheme.items()}
    return manager


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connection pools that honour deadlines."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        return watch_pools(super().proxy_manager_for(proxy, **proxy_kwargs))

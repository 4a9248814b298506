"""Our Sans-IO core on a plain blocking socket: no event loop, no threads.

:class:`BlockingClient` owns one socket and one :class:`~wamp_core.Connection`.
:meth:`~BlockingClient.expect` reads, feeds the bytes in, writes what the core
queued and fires its timers until an event matches; events that do not match stay
in a backlog for later ``expect`` calls. Every wait is bounded by a socket timeout,
so a test that waits for something that never comes fails instead of hanging.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

from wamp_core.connection import Connection, ConnectionEvent
from wamp_core.events import (
    Joined,
    Left,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationRemoved,
    RequestFailed,
    SubscriptionCreated,
    SubscriptionRemoved,
)
from wamp_core.messages import Result
from wamp_core.transports import TransportClosed

__all__ = ["BlockingClient", "ExpectationFailed"]

DEFAULT_TIMEOUT = 10.0
FINAL_EVENTS = (
    Result,
    RequestFailed,
    RegistrationCreated,
    RegistrationRemoved,
    SubscriptionCreated,
    SubscriptionRemoved,
    PublishAcknowledged,
)
T = TypeVar("T")


class ExpectationFailed(AssertionError):
    """What was waited for did not come (the events seen are in the message)."""


def _connect(url: str, ssl_context: ssl.SSLContext | None, timeout: float) -> socket.socket:
    """A connected socket for ws/wss/rs/rss URLs and the ``+unix`` forms."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme.endswith("+unix"):
        path = parts.path.rsplit(":", 1)[0] if scheme.startswith("ws") else parts.path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(path)
        return sock
    assert parts.hostname is not None and parts.port is not None, url
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    if scheme in ("wss", "rss"):
        context = ssl_context or ssl.create_default_context()
        sock = context.wrap_socket(sock, server_hostname=parts.hostname)
    return sock


def _ws_resource(url: str) -> tuple[str, str]:
    """(Host header, resource) of a WebSocket URL."""
    parts = urlsplit(url)
    if parts.scheme.endswith("+unix"):
        _, _, resource = parts.path.rpartition(":")
        return "localhost", resource or "/"
    return parts.netloc, parts.path or "/"


class BlockingClient:
    """One WAMP connection driven synchronously; see the module docstring."""

    def __init__(self, sock: socket.socket, conn: Connection, timeout: float = DEFAULT_TIMEOUT):
        self.sock = sock
        self.conn = conn
        self.session = conn.session
        self.timeout = timeout
        self.backlog: list[ConnectionEvent] = []
        self.seen: list[ConnectionEvent] = []
        self.eof = False
        self.flush()

    @classmethod
    def open(
        cls,
        url: str,
        realm: str,
        *,
        serializer: str = "json",
        authenticators: Sequence[Any] = (),
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **session_options: Any,
    ) -> BlockingClient:
        """Connect to ``url`` (ws, wss, rs, rss, ws+unix, rs+unix) and send the handshake;
        HELLO follows automatically once the transport is open."""
        sock = _connect(url, ssl_context, timeout)
        options = dict(session_options, authenticators=list(authenticators))
        if urlsplit(url).scheme.startswith("ws"):
            host, resource = _ws_resource(url)
            conn = Connection.websocket(realm, host, resource, serializers=[serializer], **options)
        else:
            conn = Connection.rawsocket(realm, serializer, **options)
        if isinstance(sock, ssl.SSLSocket):  # for cryptosign's channel binding
            conn.session.channel_id = sock.get_channel_binding("tls-unique")
        return cls(sock, conn, timeout)

    # ---- the loop

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def _read_once(self, deadline: float) -> None:
        """One read (or one timer), bounded by ``deadline`` and the core's next deadline."""
        now = time.monotonic()
        timer = self.conn.next_deadline()
        if timer is not None and timer <= now:
            self.conn.handle_timer(now)
            return
        wait = deadline - now
        if timer is not None:
            wait = min(wait, timer - now)
        self.sock.settimeout(max(wait, 0.001))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
        self.conn.receive_data(data, now=time.monotonic())

    def _collect(self) -> None:
        events = self.conn.events()
        self.seen.extend(events)
        self.backlog.extend(events)
        if not self.conn.closed:
            self.flush()

    @overload
    def expect(
        self,
        kind: type[T],
        predicate: Callable[[T], bool] | None = None,
        *,
        timeout: float | None = None,
    ) -> T: ...

    @overload
    def expect(
        self,
        kind: tuple[type[Any], ...],
        predicate: Callable[[Any], bool] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any: ...

    def expect(
        self,
        kind: Any,
        predicate: Callable[[Any], bool] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """The first event of ``kind`` (matching ``predicate``), removed from the backlog."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            self._collect()
            for index, event in enumerate(self.backlog):
                if isinstance(event, kind) and (predicate is None or predicate(event)):
                    del self.backlog[index]
                    return event
            if self.eof or self.conn.closed:
                raise ExpectationFailed(f"connection closed before {kind}; events: {self.seen}")
            if time.monotonic() >= deadline:
                raise ExpectationFailed(f"no {kind} in time; events: {self.seen}")
            self._read_once(deadline)

    def poll_for(
        self,
        kind: type[T],
        predicate: Callable[[T], bool] | None = None,
        *,
        timeout: float,
    ) -> T | None:
        """Like :meth:`expect`, but None if nothing matched within ``timeout`` (for
        waiting on several clients in turn, each for a short while)."""
        try:
            return self.expect(kind, predicate, timeout=timeout)
        except ExpectationFailed:
            if self.eof or self.conn.closed:
                raise
            return None

    def expect_request(self, request_id: int, *, timeout: float | None = None) -> Any:
        """The final event of our request ``request_id``: its acknowledgement, the
        final Result, or RequestFailed."""
        return self.expect(
            FINAL_EVENTS,
            lambda e: e.request_id == request_id and not (isinstance(e, Result) and e.progress),
            timeout=timeout,
        )

    def join(self, *, timeout: float | None = None) -> Joined:
        """Wait for WELCOME; a Left (ABORT) raises with its reason."""
        event: Joined | Left = self.expect((Joined, Left), timeout=timeout)
        if isinstance(event, Left):
            raise ExpectationFailed(f"not joined: {event}")
        return event

    def close(self) -> None:
        """Leave if joined, then close the transport and the socket (best effort)."""
        try:
            if self.session.is_joined:
                self.session.leave()
                self.flush()
                self.expect(Left, timeout=2.0)
            if not self.conn.closed:
                self.conn.close()
                self.flush()
                self.expect(TransportClosed, timeout=2.0)
        except (OSError, ExpectationFailed):
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

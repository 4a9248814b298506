"""What every host of the router does alike, apart from its I/O: the description of a
listener (:class:`Listen`) and the server transport and connection it makes, its URL,
the listeners of a node configuration, the log line of each router event, and the
wall-clock text the meta API shows.

wamp_anyio and wamp_twisted serve the same :class:`Listen` objects; only ``tls`` is
the adapter's own (an ``ssl.SSLContext`` for wamp_anyio, a Twisted context factory
for wamp_twisted), which is why making it is a function the adapter passes in
(:func:`listens_from`): TLS contexts need ``ssl``, and ``ssl`` imports ``socket``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.config import ListenerConfig, NodeConfig, TcpEndpoint, TlsConfig
from wamp_core.router.connection import (
    CapacityReached,
    CapacityRecovered,
    ConnectionClosed,
    MessageDropped,
    RouterEvent,
    ServerTransport,
    SessionJoined,
    SessionLeft,
)
from wamp_core.router.router import ANONYMOUS_AUTH
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

if TYPE_CHECKING:
    from wamp_core.router.connection import RouterConnection
    from wamp_core.router.router import Router

__all__ = [
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_OPEN_TIMEOUT",
    "MEMORY_URL",
    "READ_TURN",
    "SHUTDOWN_GRACE",
    "Listen",
    "LogLine",
    "default_listens",
    "event_line",
    "iso_timestamp",
    "listens_from",
    "memory_listen",
]

DEFAULT_MAX_QUEUED: Final = 4 * 1024 * 1024
"""Bytes queued for one connection before a peer that does not read is cut off."""
DEFAULT_OPEN_TIMEOUT: Final = 10.0
"""Seconds for a client's opening handshake when the configuration names none."""
SHUTDOWN_GRACE: Final = 3.0
"""Seconds for sessions to answer GOODBYE at shutdown before their sockets close."""
READ_TURN: Final = 16 * 1024
"""Bytes a served connection is read (and handled) at a time before the others get a
turn: a publisher that floods is one connection among others, not the router's only
work. Handling 16 KiB (8 events of 2 KB to two subscribers) takes about 0.2 ms; a
64 KiB or 256 KiB read handled at once made every other session wait that much more
for each message."""


@dataclass(frozen=True)
class Listen:
    """One listener: ``kind`` websocket or rawsocket, on TCP ``host:port`` (0: any free
    port) or on the Unix socket ``unix``; ``tls`` the adapter's server TLS context for
    wss/rss (wamp_anyio: an ``ssl.SSLContext``; wamp_twisted: a context factory such
    as ``CertificateOptions``). A WebSocket serves ``path`` (None: any path) with
    ``auth``, or each path of ``paths`` with its own authentication."""

    kind: str = "websocket"
    host: str = "127.0.0.1"
    port: int = 8080
    path: str | None = "/ws"
    unix: str | None = None
    tls: Any = None
    serializers: Sequence[str] | None = None
    # Out of the repr: principals carry tickets, secrets and SCRAM keys.
    auth: TransportAuth = field(default_factory=lambda: dict(ANONYMOUS_AUTH), repr=False)
    paths: Mapping[str, TransportAuth] | None = field(default=None, repr=False)
    max_message_size: int = 16 * 1024 * 1024
    ping_interval: float | None = None
    ping_timeout: float = 10.0
    open_timeout: float | None = DEFAULT_OPEN_TIMEOUT

    def transport(self, now: float) -> ServerTransport:
        """A fresh server transport for one accepted connection."""
        if self.kind == "websocket":
            options: dict[str, Any] = {}
            if self.serializers is not None:
                options["serializers"] = tuple(self.serializers)
            served = (
                tuple(self.paths) if self.paths else None if self.path is None else (self.path,)
            )
            return WebSocketServerTransport(
                paths=served,
                max_message_size=self.max_message_size,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                open_timeout=self.open_timeout,
                now=now,
                **options,
            )
        return RawSocketServerTransport(
            tuple(self.serializers or ("json", "msgpack", "cbor")),
            max_message_size=self.max_message_size,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            open_timeout=self.open_timeout,
            now=now,
        )

    def url(self, port: int) -> str:
        """The URL a client connects to, once the listener is bound to ``port``."""
        secure = self.tls is not None
        websocket = self.kind == "websocket"
        scheme = ("wss" if secure else "ws") if websocket else ("rss" if secure else "rs")
        path = next(iter(self.paths), "/") if self.paths else self.path or "/"
        if self.unix is not None:
            return f"{scheme}+unix://{self.unix}" + (f":{path}" if websocket else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{port}" + (path if websocket else "")

    def auth_choice(self) -> TransportAuth | Callable[[str], TransportAuth]:
        """The router's ``auth`` argument: the mapping, or a function of the path."""
        paths = self.paths
        if paths is None:
            return self.auth
        return lambda path: paths.get(path, {})

    def connect(
        self, router: Router, now: float, *, channel_id: bytes | None, max_queued: int
    ) -> RouterConnection:
        """Serve one accepted connection of this listener on ``router``."""
        return router.connect(
            self.transport(now),
            auth=self.auth_choice(),
            channel_id=channel_id,
            transport_info={"type": self.kind, "protocol": self.url(0).split(":", 1)[0]},
            max_queued=max_queued,
            now=now,
        )


def default_listens() -> tuple[Listen, Listen]:
    """WebSocket on 127.0.0.1:8080/ws and RawSocket on 127.0.0.1:8081."""
    return (Listen("websocket", port=8080), Listen("rawsocket", port=8081))


MEMORY_URL: Final = "rs://127.0.0.1:1"
"""The transport URL of a client joined over memory (a host's ``connect()``): RawSocket,
whose handshake names no host; the address is never dialled."""


def memory_listen(auth: TransportAuth) -> Listen:
    """How a host serves a client joined over memory: RawSocket with ``auth`` (the
    router's side), and no opening timeout (nothing on the way can stall)."""
    return Listen("rawsocket", auth=dict(auth), open_timeout=None)


# -- a node configuration's listeners -------------------------------------------------


def listens_from(config: NodeConfig, tls: Callable[[TlsConfig], Any]) -> list[Listen]:
    """The listeners of a node configuration; ``tls`` makes the adapter's server TLS
    context from a listener's TLS files."""
    return [_listen(listener, tls) for listener in config.listeners]


def _listen(config: ListenerConfig, tls: Callable[[TlsConfig], Any]) -> Listen:
    endpoint = config.endpoint
    options: dict[str, Any] = {
        "kind": config.kind,
        "serializers": config.serializers,
        "ping_interval": config.ping_interval,
        "open_timeout": (
            config.open_timeout if config.open_timeout is not None else DEFAULT_OPEN_TIMEOUT
        ),
    }
    if config.ping_timeout is not None:
        options["ping_timeout"] = config.ping_timeout
    if config.max_message_size is not None:
        options["max_message_size"] = config.max_message_size
    if config.paths is not None:
        options["paths"] = dict(config.paths)
    else:  # a "websocket" transport: any path, as Crossbar.io serves it
        options["auth"] = config.auth
        options["path"] = None
    if isinstance(endpoint, TcpEndpoint):
        context = None if endpoint.tls is None else tls(endpoint.tls)
        return Listen(host=endpoint.interface, port=endpoint.port, tls=context, **options)
    return Listen(unix=endpoint.path, **options)


# -- the log ----------------------------------------------------------------------------

LogLine = tuple[Literal["info", "warning"], str]
"""A log line's level and text."""


def event_line(event: RouterEvent) -> LogLine | None:
    """The log line of a router event (one per join and leave; never a secret), or
    None for an event not worth a line (a connection that closed cleanly)."""
    if isinstance(event, SessionJoined):
        return "info", (
            f"session {event.session_id} joined realm {event.realm}: authid={event.authid} "
            f"authrole={event.authrole} authmethod={event.authmethod}"
        )
    if isinstance(event, SessionLeft):
        return "info", f"session {event.session_id} left realm {event.realm}: {event.reason}"
    if isinstance(event, MessageDropped):
        return "warning", f"dropped a {event.message} of {event.size} bytes: {event.limit}"
    if isinstance(event, CapacityReached):
        return "warning", f"connection cap of {event.limit} reached: refusing new connections"
    if isinstance(event, CapacityRecovered):
        return "info", f"below the connection cap of {event.limit} again: accepting connections"
    if isinstance(event, ConnectionClosed) and event.error is not None:
        return "info", f"connection closed: {event.error}"
    return None


def iso_timestamp(seconds: float) -> str:
    """Wall-clock ``seconds`` (since the epoch) as the meta API shows them: ISO 8601,
    UTC, milliseconds. The host reads its clock and passes the time in (so this is
    arithmetic, not the time module)."""
    millis = int(seconds * 1000)
    days, millis = divmod(millis, 86_400_000)
    year, month, day = _civil(days)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:"
        f"{millis // 1000:02d}.{millis % 1000:03d}Z"
    )


def _civil(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian date ``days`` after 1970-01-01 (H. Hinnant's
    days-to-civil: eras of 400 years, years starting in March)."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # 0 is March
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return year, month, day

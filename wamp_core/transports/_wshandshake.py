"""The client side of the WebSocket opening handshake (RFC 6455 section 4.1), on h11,
and what the server side (``_wsupgrade``) shares with it.

h11 writes the upgrade request and parses the router's answer (status line, headers,
a refusal's body, with its own bound on the header size); this module decides what
the answer means: accepted with a WAMP subprotocol, or why not.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import h11

from wamp_core.serializers import get_serializer
from wamp_core.transports.errors import HandshakeError

__all__ = [
    "HeadersArg",
    "accept_token",
    "build_request",
    "check_upgrade",
    "request_headers",
    "shared_subprotocols",
    "subprotocols",
    "tokens",
]

HeadersArg: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]] | None

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
# Headers the handshake itself sets; a second copy would break it.
_RESERVED_HEADERS = frozenset(
    (
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    )
)
# The answer's headers that are the handshake's own business, not the application's.
_HANDSHAKE_RESPONSE_HEADERS = frozenset(
    (
        b"upgrade",
        b"connection",
        b"sec-websocket-accept",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
    )
)


def subprotocols(serializers: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """subprotocol -> (serializer name, binary?) for serializer names, in their order."""
    if isinstance(serializers, str) or not serializers:
        raise ValueError(f"serializers must be a non-empty list of names: {serializers!r}")
    result: dict[str, tuple[str, bool]] = {}
    for spec in serializers:
        codec = get_serializer(spec)
        subprotocol = codec.subprotocol
        if subprotocol in result:
            raise ValueError(f"serializer {spec!r} is listed twice")
        result[subprotocol] = (subprotocol.removeprefix("wamp.2."), codec.BINARY)
    return result


# shared_subprotocols' tables, by serializer list: a program uses a few lists, and a
# table per connection would be held by every idle one (issue 15).
_TABLES: dict[tuple[str, ...], dict[str, tuple[str, bool]]] = {}
_MAX_TABLES = 64


def shared_subprotocols(serializers: Sequence[str]) -> Mapping[str, tuple[str, bool]]:
    """``subprotocols(serializers)``, the same table for the same list (read-only)."""
    key = tuple(serializers)
    table = _TABLES.get(key)
    if table is None:
        table = subprotocols(serializers)  # checks them (a str is refused here)
        if len(_TABLES) < _MAX_TABLES:
            _TABLES[key] = table
    return table


def accept_token(key: bytes) -> bytes:
    """The Sec-WebSocket-Accept value that proves the router read our ``key``."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def request_headers(headers: HeadersArg, origin: str | None) -> list[tuple[bytes, bytes]]:
    """The caller's extra request headers, checked and encoded."""
    items = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    if origin is not None:
        items.append(("Origin", origin))
    result = []
    for name, value in items:
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the WebSocket handshake itself")
        result.append((name.encode("ascii"), value.encode("latin-1")))
    return result


def build_request(
    http: h11.Connection,
    host: str,
    resource: str,
    key: bytes,
    subprotocols: Sequence[str],
    extra: list[tuple[bytes, bytes]],
) -> bytes:
    """The upgrade request's bytes (``http`` then expects the router's answer)."""
    headers = [
        (b"Host", host.encode("ascii")),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", key),
        (b"Sec-WebSocket-Version", b"13"),
        (b"Sec-WebSocket-Protocol", ", ".join(subprotocols).encode("ascii")),
        *extra,
    ]
    try:
        request = h11.Request(method="GET", target=resource, headers=headers)
        return (http.send(request) or b"") + (http.send(h11.EndOfMessage()) or b"")
    except (h11.LocalProtocolError, UnicodeError) as exc:
        raise ValueError(f"cannot build the WebSocket upgrade request: {exc}") from None


def check_upgrade(
    response: Any, key: bytes, offered: Mapping[str, Any]
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Check a 101 answer: (the chosen subprotocol or None, the other headers).

    :raises HandshakeError: the answer is not a valid WebSocket upgrade for our request.
    """
    seen: dict[bytes, bytes] = {}
    extra: list[tuple[str, str]] = []
    for name, value in response.headers:
        if name in _HANDSHAKE_RESPONSE_HEADERS:
            # A repeated header is a list (RFC 9110 section 5.3).
            seen[name] = seen[name] + b", " + value if name in seen else value
        else:
            extra.append((name.decode("latin-1"), value.decode("latin-1")))
    if seen.get(b"upgrade", b"").strip().lower() != b"websocket":
        raise HandshakeError("the router's 101 answer lacks 'Upgrade: websocket'")
    if b"upgrade" not in tokens(seen.get(b"connection", b"")):
        raise HandshakeError("the router's 101 answer lacks 'Connection: Upgrade'")
    if seen.get(b"sec-websocket-accept", b"").strip() != accept_token(key):
        raise HandshakeError("the router's Sec-WebSocket-Accept is not our key's accept token")
    if b"sec-websocket-extensions" in seen:
        text = seen[b"sec-websocket-extensions"].decode("latin-1")
        raise HandshakeError(f"the router chose WebSocket extensions we did not offer: {text!r}")
    chosen = seen.get(b"sec-websocket-protocol")
    if chosen is None:
        return None, tuple(extra)
    subprotocol = chosen.strip().decode("latin-1")
    for name in offered:
        if name == subprotocol:
            return name, tuple(extra)  # our own string, not one more per connection
    names = ", ".join(offered)
    text = f"the router chose subprotocol {subprotocol!r}, which we did not offer ({names})"
    raise HandshakeError(text)


def tokens(value: bytes) -> list[bytes]:
    return [token.strip().lower() for token in value.split(b",")]

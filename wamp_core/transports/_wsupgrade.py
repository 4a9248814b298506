"""The server side of the WebSocket opening handshake (RFC 6455 section 4.2).

h11 parses the client's request (with its bound on the size of the head); this
module decides what the request gets: a 101 with the chosen WAMP subprotocol, or a
refusal. A refusal is a HandshakeError carrying the status, the extra headers and the
body of the answer (``refusal_response`` writes it), so the host sees in the error
exactly what the client was told. The answers are written here, not by h11: a
request h11 could not parse leaves it unable to write one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from wamp_core.transports._wshandshake import accept_token, tokens
from wamp_core.transports.errors import HandshakeError

__all__ = ["accept_response", "check_request", "http_response", "refusal", "refusal_response"]

# The request headers the upgrade itself reads (repeated ones are joined).
_UPGRADE_HEADERS = frozenset(
    (
        b"upgrade",
        b"connection",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-protocol",
        b"content-length",
        b"transfer-encoding",
    )
)
_KEY_BYTES = 16  # a Sec-WebSocket-Key is 16 random bytes in base64
_UPGRADE_REQUIRED = (("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"))


def refusal(status: int, text: str, headers: Sequence[tuple[str, str]] = ()) -> HandshakeError:
    """The refusal of an upgrade: ``text`` goes to the client as the body too."""
    return HandshakeError(
        f"refused the WebSocket upgrade: HTTP {status}: {text}",
        status_code=status,
        headers=tuple(headers),
        body=text.encode() + b"\n",
    )


def check_request(
    request: Any, accepted: Mapping[str, tuple[str, bool]], paths: Collection[str] | None
) -> tuple[str | None, bytes]:
    """Check an upgrade request: (the subprotocol to answer or None, the client's key).

    :raises HandshakeError: the request is refused; the error says with what.
    """
    if request.method != b"GET":
        raise refusal(405, "a WebSocket upgrade is a GET", (("Allow", "GET"),))
    if request.http_version != b"1.1":
        raise refusal(400, "a WebSocket upgrade needs HTTP/1.1")
    path = request.target.split(b"?", 1)[0].decode("latin-1")
    if paths is not None and path not in paths:
        raise refusal(404, f"no WebSocket endpoint at {path}")
    seen: dict[bytes, bytes] = {}
    for name, value in request.headers:
        if name in _UPGRADE_HEADERS:
            # A repeated header is a list (RFC 9110 section 5.3).
            seen[name] = seen[name] + b", " + value if name in seen else value
    if b"websocket" not in tokens(seen.get(b"upgrade", b"")):
        raise refusal(426, "this is a WebSocket endpoint", _UPGRADE_REQUIRED)
    if b"upgrade" not in tokens(seen.get(b"connection", b"")):
        raise refusal(400, "a WebSocket upgrade needs 'Connection: Upgrade'")
    if seen.get(b"sec-websocket-version", b"").strip() != b"13":
        raise refusal(426, "only WebSocket version 13 is spoken here", _UPGRADE_REQUIRED)
    if seen.get(b"content-length", b"0").strip() != b"0" or b"transfer-encoding" in seen:
        raise refusal(400, "a WebSocket upgrade request has no body")
    key = seen.get(b"sec-websocket-key", b"").strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == _KEY_BYTES
    except binascii.Error:
        valid = False
    if not valid:
        raise refusal(400, "Sec-WebSocket-Key is not 16 bytes in base64")
    return _choose(seen.get(b"sec-websocket-protocol"), accepted), key


def _choose(offer: bytes | None, accepted: Mapping[str, tuple[str, bool]]) -> str | None:
    """The client's first offered subprotocol we accept; None for a client offering
    none when JSON is accepted (WAMP's default, as Crossbar.io has it)."""
    if offer is None:
        if "wamp.2.json" in accepted:
            return None
        raise refusal(400, f"no WAMP subprotocol offered (we speak {', '.join(accepted)})")
    # Subprotocol names are case-sensitive: split, but do not lower-case.
    offered = [part.strip().decode("latin-1") for part in offer.split(b",")]
    for subprotocol in offered:
        if subprotocol in accepted:
            return subprotocol
    text = f"none of the subprotocols {', '.join(offered)} is spoken here ({', '.join(accepted)})"
    raise refusal(400, text)


def http_response(status: int, headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    """An HTTP/1.1 response head (and body) as bytes."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status the host chose that has no registered name
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def accept_response(key: bytes, subprotocol: str | None) -> bytes:
    """The 101 that completes the upgrade."""
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_token(key).decode("ascii")),
    ]
    if subprotocol is not None:
        headers.append(("Sec-WebSocket-Protocol", subprotocol))
    return http_response(101, headers)


def refusal_response(error: HandshakeError) -> bytes:
    """The answer a refusal gives, after which the connection closes."""
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(error.body))),
        ("Connection", "close"),
        *error.headers,
    ]
    return http_response(error.status_code or 400, headers, error.body)

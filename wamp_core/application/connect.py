"""Build the Connection an adapter drives, from what users pass to ``connect()`` or
``ApplicationRunner``: URL, realm, serializers, authentication, headers, options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wamp_core.application.url import TransportUrl, parse_url
from wamp_core.auth import Authenticator, create_authenticator
from wamp_core.connection import Connection
from wamp_core.serializers import Serializer
from wamp_core.session import ClientSession
from wamp_core.transports import ClientTransport, RawSocketClientTransport, WebSocketClientTransport

__all__ = ["authenticators_from", "build_connection", "serializer_names"]

DEFAULT_WEBSOCKET_SERIALIZERS = ("cbor", "msgpack", "json")
DEFAULT_RAWSOCKET_SERIALIZER = "msgpack"

# Autobahn's websocket_options names (camelCase) and ours, for the options we honour.
_WEBSOCKET_OPTIONS = {
    "maxMessagePayloadSize": "max_message_size",
    "maxFramePayloadSize": "max_message_size",
    "autoPingInterval": "ping_interval",
    "autoPingTimeout": "ping_timeout",
    "closeHandshakeTimeout": "close_timeout",
    "openHandshakeTimeout": "open_timeout",
    "max_message_size": "max_message_size",
    "ping_interval": "ping_interval",
    "ping_timeout": "ping_timeout",
    "close_timeout": "close_timeout",
    "open_timeout": "open_timeout",
}


def serializer_names(
    serializers: Sequence[str | Serializer] | None, url: TransportUrl
) -> list[str]:
    """Serializer names in preference order (instances of ours are taken by name)."""
    if serializers is None:
        if url.kind == "rawsocket":
            return [DEFAULT_RAWSOCKET_SERIALIZER]
        return list(DEFAULT_WEBSOCKET_SERIALIZERS)
    if isinstance(serializers, str):
        serializers = [serializers]
    names = []
    for item in serializers:
        if isinstance(item, Serializer):
            names.append(item.NAME + (".batched" if item.batched else ""))
        elif isinstance(item, str):
            names.append(item.removeprefix("wamp.2."))
        else:
            raise TypeError(f"serializers must be names or serializers, not {type(item).__name__}")
    if not names:
        raise ValueError("serializers must not be empty")
    return names


def authenticators_from(authentication: Mapping[str, Any] | None) -> list[Authenticator]:
    """``{"ticket": {"authid": "joe", "ticket": "..."}, "cryptosign": {...}}`` (as Autobahn's
    Component takes it) to authenticators, in the mapping's order. Authenticator
    objects may be given as values too."""
    if authentication is None:
        return []
    if not isinstance(authentication, Mapping):
        raise TypeError("authentication must be a mapping of authmethod -> credentials")
    out: list[Authenticator] = []
    for method, credentials in authentication.items():
        if isinstance(credentials, Mapping):
            out.append(create_authenticator(method, **credentials))
        elif hasattr(credentials, "on_challenge"):
            out.append(credentials)
        else:
            raise TypeError(f"credentials for {method!r} must be a mapping or an authenticator")
    return out


def build_connection(
    url: str | TransportUrl,
    realm: str,
    *,
    serializers: Sequence[str | Serializer] | None = None,
    authentication: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    websocket_options: Mapping[str, Any] | None = None,
    max_message_size: int = 16 * 1024 * 1024,
    now: float = 0.0,
    ping_interval: float | None = None,
    ping_timeout: float = 10.0,
    **session_options: Any,
) -> Connection:
    """A Connection for ``url`` (not yet connected: feed it the socket's bytes).
    ``ping_interval``/``ping_timeout`` are the RawSocket keep-alive (a WebSocket takes
    its own in ``websocket_options``)."""
    target = url if isinstance(url, TransportUrl) else parse_url(url)
    names = serializer_names(serializers, target)
    transport: ClientTransport
    if target.kind == "websocket":
        options: dict[str, Any] = {"max_message_size": max_message_size}
        for key, value in (websocket_options or {}).items():
            if key not in _WEBSOCKET_OPTIONS:
                raise ValueError(f"unknown websocket option {key!r}")
            options[_WEBSOCKET_OPTIONS[key]] = value
        transport = WebSocketClientTransport(
            target.host_header,
            target.resource,
            serializers=names,
            headers=headers,
            now=now,
            **options,
        )
    else:
        # RawSocket negotiates no list: the first preference is the one asked for.
        transport = RawSocketClientTransport(
            names[0],
            max_message_size=max_message_size,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            now=now,
        )
    session = ClientSession(
        realm, authenticators=authenticators_from(authentication), **session_options
    )
    return Connection(transport, session)

"""``Component(transports=...)`` as Autobahn takes it, checked and normalized: a URL,
a dict, or a list of either, into :class:`TransportConfig` objects both adapters use.

A dict has Autobahn's keys: ``type`` (``websocket`` or ``rawsocket``), ``url``,
``endpoint`` (``{"type": "tcp", "host", "port", "tls", "timeout"}`` or ``{"type":
"unix", "path"}``), ``serializers`` (or ``serializer``), ``options`` (WebSocket
options, or ``max_message_size`` for RawSocket), ``proxy``, ``headers``, and the
retry settings of :class:`~wamp_core.application.reconnect.RetrySettings`. Unknown
keys are an error (a typo must not silently drop a setting).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wamp_core.application.reconnect import RetrySettings
from wamp_core.application.url import parse_url

__all__ = ["DEFAULT_KEEPALIVE", "TransportConfig", "transport_configs"]

DEFAULT_KEEPALIVE = (10.0, 5.0)
"""Keep-alive pings a ``Component`` sends unless told otherwise (interval, timeout in
seconds): a half-open connection is noticed within 15 s. ``options={"ping_interval":
None}`` turns them off."""

_KEYS = frozenset(
    {
        "type",
        "url",
        "endpoint",
        "serializers",
        "serializer",
        "options",
        "proxy",
        "headers",
        "max_retries",
        "initial_retry_delay",
        "max_retry_delay",
        "retry_delay_growth",
        "retry_delay_jitter",
    }
)
_RETRY_KEYS = (
    "max_retries",
    "initial_retry_delay",
    "max_retry_delay",
    "retry_delay_growth",
    "retry_delay_jitter",
)


@dataclass(frozen=True)
class TransportConfig:
    """One transport: where (``url``, in this library's URL forms), how (serializers,
    options, proxy, headers, ``tls``: None, True, a dict or an SSL context object the
    adapter understands), and how often to retry."""

    url: str
    serializers: tuple[str, ...] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    proxy: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    tls: Any = None
    retry: RetrySettings = field(default_factory=RetrySettings)

    @property
    def kind(self) -> str:
        return parse_url(self.url).kind

    def describe(self) -> str:
        return f"{self.kind} {self.url}"

    def keepalive_options(self) -> dict[str, Any]:
        """``build_connection``'s transport options for this transport, keep-alive on
        unless the options turn it off (``ping_interval: None``): ``websocket_options``
        for a WebSocket; ``ping_interval``/``ping_timeout`` (and ``max_message_size``)
        for RawSocket."""
        options = dict(self.options)
        interval, timeout = DEFAULT_KEEPALIVE
        options.setdefault("ping_interval", interval)
        options.setdefault("ping_timeout", timeout)
        if self.kind == "websocket":
            return {"websocket_options": options}
        return options


def transport_configs(transports: object) -> list[TransportConfig]:
    """Autobahn's ``transports`` argument as TransportConfig objects (ValueError or
    TypeError naming what is wrong)."""
    if transports is None:
        transports = "ws://127.0.0.1:8080/ws"
    if isinstance(transports, str | Mapping):
        transports = [transports]
    if not isinstance(transports, Sequence) or not transports:
        raise ValueError("transports must be a URL, a dict or a non-empty list of them")
    return [_one(item, index) for index, item in enumerate(transports)]


def _one(item: object, index: int) -> TransportConfig:
    if isinstance(item, str):
        parse_url(item)  # ValueError for a URL we cannot use
        return TransportConfig(item)
    if not isinstance(item, Mapping):
        raise TypeError(f"transport {index} must be a URL or a dict, not {type(item).__name__}")
    unknown = set(item) - _KEYS
    if unknown:
        raise ValueError(f"transport {index}: unknown keys {sorted(unknown)}")
    kind = item.get("type", "websocket")
    if kind not in ("websocket", "rawsocket"):
        raise ValueError(f"transport {index}: type must be websocket or rawsocket, not {kind!r}")
    endpoint = item.get("endpoint")
    url, tls = _url(kind, item.get("url"), endpoint, index)
    retry = RetrySettings(**{k: item[k] for k in _RETRY_KEYS if k in item})
    return TransportConfig(
        url,
        _serializers(item, index),
        dict(item.get("options") or {}),
        item.get("proxy"),
        item.get("headers"),
        tls,
        retry,
    )


def _serializers(item: Mapping[str, Any], index: int) -> tuple[str, ...] | None:
    value = item.get("serializers", item.get("serializer"))
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"transport {index}: serializers must be a name or a list of names")
    return tuple(names)


def _url(kind: str, url: object, endpoint: object, index: int) -> tuple[str, Any]:
    """Our URL for the transport, and its TLS setting (from the endpoint)."""
    if endpoint is None:
        if not isinstance(url, str):
            raise ValueError(f"transport {index}: needs a url or an endpoint")
        target = parse_url(url)
        if target.kind != kind:
            raise ValueError(f"transport {index}: url {url!r} is not a {kind} URL")
        return url, None
    if not isinstance(endpoint, Mapping):
        raise TypeError(f"transport {index}: endpoint must be a dict")
    resource = "/ws"
    if isinstance(url, str) and kind == "websocket":
        resource = parse_url(url).resource
    if endpoint.get("type", "tcp") == "unix":
        path = endpoint.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError(f"transport {index}: a unix endpoint needs a path")
        return (
            f"ws+unix://{path}:{resource}" if kind == "websocket" else f"rs+unix://{path}"
        ), None
    if endpoint.get("type", "tcp") != "tcp":
        raise ValueError(f"transport {index}: endpoint type must be tcp or unix")
    host, port = endpoint.get("host"), endpoint.get("port")
    if not isinstance(host, str) or type(port) is not int:
        raise ValueError(f"transport {index}: a tcp endpoint needs a host (str) and a port (int)")
    tls = endpoint.get("tls") or None
    scheme = ("wss" if tls else "ws") if kind == "websocket" else ("rss" if tls else "rs")
    name = f"[{host}]" if ":" in host else host
    suffix = resource if kind == "websocket" else ""
    return f"{scheme}://{name}:{port}{suffix}", tls

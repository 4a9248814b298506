"""Transport URLs, the same for every adapter.

- ``ws://host[:port]/path`` and ``wss://...``: WebSocket (ports 80 / 443 by default)
- ``rs://host:port`` and ``rss://host:port``: RawSocket over TCP / TLS (port required)
- ``ws+unix:///path/to/socket`` and ``rs+unix:///path/to/socket``: over a Unix socket;
  for WebSocket the HTTP resource is ``/`` unless given after a colon (the form of
  Node's ``ws`` library), ``ws+unix:///tmp/node.sock:/ws``, or as a fragment,
  ``ws+unix:///tmp/node.sock#/ws``
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["TransportUrl", "parse_url"]

_SCHEMES = {
    "ws": ("websocket", False, False),
    "wss": ("websocket", True, False),
    "rs": ("rawsocket", False, False),
    "rss": ("rawsocket", True, False),
    "ws+unix": ("websocket", False, True),
    "rs+unix": ("rawsocket", False, True),
}


@dataclass(frozen=True, slots=True)
class TransportUrl:
    kind: str  # "websocket" or "rawsocket"
    secure: bool
    host: str  # "" for Unix sockets
    port: int  # 0 for Unix sockets
    resource: str  # the HTTP path of a WebSocket ("/" for RawSocket)
    unix_path: str | None = None

    @property
    def host_header(self) -> str:
        """The Host header for a WebSocket handshake."""
        if self.unix_path is not None:
            return "localhost"
        default = 443 if self.secure else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> TransportUrl:
    """Check a transport URL and take it apart; ValueError says what is wrong."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"unsupported URL scheme in {url!r}: use {', '.join(_SCHEMES)}")
    kind, secure, unix = _SCHEMES[scheme]
    if unix:
        path = unquote(parts.netloc) if parts.netloc else parts.path
        resource = (parts.path if parts.netloc else "") or parts.fragment
        if not resource and ":/" in path:
            path, _, rest = path.rpartition(":/")
            resource = "/" + rest
        if not path:
            raise ValueError(f"no socket path in {url!r}")
        return TransportUrl(kind, False, "", 0, resource or "/", path)
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid port in {url!r}") from None
    if port is None:
        if kind == "rawsocket":
            raise ValueError(f"a RawSocket URL needs a port: {url!r}")
        port = 443 if secure else 80
    resource = parts.path or "/"
    if parts.query:
        resource += "?" + parts.query
    return TransportUrl(kind, secure, parts.hostname, port, resource)

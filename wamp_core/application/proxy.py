"""The client side of an HTTP CONNECT tunnel (RFC 9110 section 9.3.6), without I/O.

Both adapters reach a router through an HTTP proxy the same way: send
:meth:`ProxyHandshake.request`, feed what the proxy answers to
:meth:`ProxyHandshake.receive_data` until it says the tunnel is open (any 2xx
answer), and hand :attr:`ProxyHandshake.leftover` (the bytes after the answer's
header: they already belong to the tunnel) to whatever runs inside it first. The
answer's header is bounded (:data:`MAX_PROXY_RESPONSE`), and the proxy has
``timeout`` seconds from the request (:attr:`ProxyHandshake.deadline`; the adapter
arms its timer and calls :meth:`ProxyHandshake.timed_out`).
"""

from __future__ import annotations

from collections.abc import Mapping
from math import inf
from typing import Final

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_PROXY_RESPONSE",
    "ProxyError",
    "ProxyHandshake",
    "authority",
    "proxy_address",
    "proxy_timeout",
]

MAX_PROXY_RESPONSE: Final = 16 * 1024
"""Bytes of the proxy's answer header read at most."""
CONNECT_TIMEOUT: Final = 30.0
"""Seconds the proxy has to answer CONNECT."""
_END_OF_HEADER = b"\r\n\r\n"


class ProxyError(ConnectionError):
    """The HTTP proxy refused or botched the CONNECT (a ConnectionError, so runners
    retry it as any other failure to connect)."""


def proxy_address(proxy: object) -> tuple[str, int]:
    """``(host, port)`` of Autobahn's ``proxy`` argument, a dict with ``host`` and ``port``."""
    if not isinstance(proxy, Mapping):
        raise TypeError(f"proxy must be a dict with 'host' and 'port', got {proxy!r}")
    host, port = proxy.get("host"), proxy.get("port")
    if not isinstance(host, str) or not host:
        raise ValueError(f"proxy needs a 'host' (a non-empty string), got {host!r}")
    try:
        number = int(port)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"proxy needs a 'port' (an integer), got {port!r}") from None
    if not 0 < number < 65536:
        raise ValueError(f"proxy port out of range: {number}")
    return host, number


def proxy_timeout(proxy: Mapping[str, object]) -> float:
    """Seconds the proxy has to answer: ``proxy["timeout"]``, else CONNECT_TIMEOUT."""
    value = proxy.get("timeout", CONNECT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
        raise ValueError(f"proxy timeout must be a positive number of seconds, got {value!r}")
    return float(value)


def authority(host: str, port: int) -> str:
    """``host:port`` as CONNECT's request target (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ProxyHandshake:
    """One CONNECT exchange with the proxy ``proxy_name`` for a tunnel to ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        now: float,
        timeout: float = CONNECT_TIMEOUT,
        proxy_name: str = "",
    ) -> None:
        self.target = authority(host, port)
        self.timeout = timeout
        self.deadline = now + timeout
        self.proxy_name = proxy_name
        self.leftover = b""
        self.open = False
        self._answer = bytearray()

    def request(self) -> bytes:
        target = self.target
        return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("ascii")

    def receive_data(self, data: bytes) -> bool:
        """Take the proxy's bytes; True once the tunnel is open (then see ``leftover``).
        Raises ProxyError for a refusal, an answer too long, or the end of the stream
        (``data == b""``) before the answer."""
        if self.open:
            raise RuntimeError("the tunnel is open: its bytes are not the handshake's")
        if not data:
            raise self.error("closed the connection")
        self._answer += data
        end = self._answer.find(_END_OF_HEADER)
        if end < 0 or end > MAX_PROXY_RESPONSE:
            if len(self._answer) > MAX_PROXY_RESPONSE:
                raise self.error(
                    f"answered CONNECT with more than {MAX_PROXY_RESPONSE} bytes of header"
                )
            return False
        status = bytes(self._answer[: self._answer.find(b"\r\n")])
        if not _is_success(status):
            raise self.error(f"refused the tunnel: {status.decode('latin-1')!r}")
        self.leftover = bytes(self._answer[end + len(_END_OF_HEADER) :])
        self._answer = bytearray()
        self.open = True
        return True

    def timed_out(self) -> ProxyError:
        """The error for a proxy that did not answer by the deadline."""
        return self.error(f"did not answer within {self.timeout:g} s")

    def error(self, text: str) -> ProxyError:
        """A ProxyError that names the proxy and the tunnel."""
        name = f" {self.proxy_name}" if self.proxy_name else ""
        return ProxyError(f"HTTP proxy{name} (CONNECT {self.target}) {text}")


def _is_success(status_line: bytes) -> bool:
    """``HTTP/1.x 2xx ...``: the tunnel is open (RFC 9110: any 2xx to CONNECT)."""
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return False
    code = parts[1]
    return len(code) == 3 and code.isdigit() and code.startswith(b"2")

"""Opening the byte stream a transport URL names: TCP, TLS, Unix sockets, HTTP CONNECT proxies."""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Mapping
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.tls import TLSStream

from wamp_anyio import _asyncio_stream
from wamp_anyio._backend import on_asyncio
from wamp_core.application.url import TransportUrl

__all__ = ["ProxyError", "open_stream"]

MAX_PROXY_RESPONSE = 16 * 1024


class ProxyError(OSError):
    """The HTTP proxy refused or botched the CONNECT."""


def tls_context(ssl: ssl_module.SSLContext | bool | None) -> ssl_module.SSLContext:
    """The context to use: the one given, or the default (verifies certificate and host name)."""
    if isinstance(ssl, ssl_module.SSLContext):
        return ssl
    return ssl_module.create_default_context()


async def open_stream(
    url: TransportUrl,
    *,
    ssl: ssl_module.SSLContext | bool | None = None,
    proxy: Mapping[str, Any] | None = None,
) -> ByteStream:
    """Connect to ``url``'s endpoint (through ``proxy`` if given) and start TLS if it is secure."""
    if url.unix_path is not None:
        return await _connect_unix(url.unix_path)
    if proxy is not None:
        stream = await _connect_tcp(proxy["host"], int(proxy["port"]))
        await _connect_through(stream, url.host, url.port)
    else:
        stream = await _connect_tcp(url.host, url.port)
    if url.secure or ssl not in (None, False):
        stream = await TLSStream.wrap(
            stream, hostname=url.host, ssl_context=tls_context(ssl), standard_compatible=False
        )
    return stream


async def _connect_tcp(host: str, port: int) -> ByteStream:
    """On asyncio our lighter stream (see _asyncio_stream), else anyio's."""
    if on_asyncio():
        return await _asyncio_stream.connect_tcp(host, port)
    return await anyio.connect_tcp(host, port)


async def _connect_unix(path: str) -> ByteStream:
    if on_asyncio():
        return await _asyncio_stream.connect_unix(path)
    return await anyio.connect_unix(path)


async def _connect_through(stream: ByteStream, host: str, port: int) -> None:
    """Ask an HTTP proxy for a tunnel (RFC 9110 CONNECT) and read its answer."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
    await stream.send(request.encode("ascii"))
    response = b""
    while b"\r\n\r\n" not in response:
        if len(response) > MAX_PROXY_RESPONSE:
            raise ProxyError("the proxy's answer to CONNECT is too long")
        try:
            response += await stream.receive(4096)
        except anyio.EndOfStream:
            raise ProxyError("the proxy closed the connection during CONNECT") from None
    head, _, rest = response.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise ProxyError(f"the proxy refused CONNECT {target}: {head.splitlines()[0]!r}")
    if rest:
        raise ProxyError("the proxy sent data before the tunnel was used")

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
from wamp_core.application.proxy import (
    ProxyError,
    ProxyHandshake,
    authority,
    proxy_address,
    proxy_timeout,
)
from wamp_core.application.url import TransportUrl

__all__ = ["ProxyError", "open_stream"]


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
        proxy_host, proxy_port = proxy_address(proxy)
        stream = await _connect_tcp(proxy_host, proxy_port)
        name = authority(proxy_host, proxy_port)
        timeout = proxy_timeout(proxy)
        stream = await _connect_through(stream, url.host, url.port, name, timeout)
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


async def _connect_through(
    stream: ByteStream, host: str, port: int, proxy: str, timeout: float
) -> ByteStream:
    """Ask an HTTP proxy for a tunnel (wamp_core's ProxyHandshake: one timeout, and the
    bytes after the answer go to the tunnel); the stream to use from then on."""
    now = anyio.current_time()
    handshake = ProxyHandshake(host, port, now=now, timeout=timeout, proxy_name=proxy)
    await stream.send(handshake.request())
    with anyio.move_on_after(handshake.timeout) as waiting:
        while True:
            try:
                data = await stream.receive(4096)
            except anyio.EndOfStream:
                data = b""
            if handshake.receive_data(data):
                break
    if waiting.cancelled_caught:
        await stream.aclose()
        raise handshake.timed_out()
    return _Prefixed(stream, handshake.leftover) if handshake.leftover else stream


class _Prefixed(ByteStream):
    """A stream whose first bytes were already read (after the proxy's answer)."""

    def __init__(self, stream: ByteStream, first: bytes) -> None:
        self._stream = stream
        self._first = first

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self._first:
            data, self._first = self._first[:max_bytes], self._first[max_bytes:]
            return data
        return await self._stream.receive(max_bytes)

    async def send(self, item: bytes) -> None:
        await self._stream.send(item)

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        await self._stream.aclose()

    @property
    def extra_attributes(self) -> Any:
        return self._stream.extra_attributes

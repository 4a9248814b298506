"""The floor of benchmarks/rpc.py: bare asyncio WAMP peers with no validation and no abstraction.

One ``asyncio.Protocol`` per transport, msgpack only:

* RawSocket: the 4-byte handshake (``7F``, max length exponent | serializer, 0, 0),
  then frames of a 4-byte header (type byte, 24-bit big-endian length) + payload;
* WebSocket: wsproto (HTTP upgrade with subprotocol ``wamp.2.msgpack``, binary messages).

The WAMP side is a plain ``if`` on the message type: HELLO/WELCOME, CALL -> RESULT
matched to futures by request id, REGISTER + INVOCATION -> YIELD (an echo callee),
SUBSCRIBE + EVENT -> a plain callback, PUBLISH (acknowledged ones resolve futures).
Nothing is checked beyond what the loop needs: this is the least a Python peer can
spend on the same bytes. Each message leaves with its own ``transport.write`` (one
``send``), or, with ``burst`` and more than one request in flight, what one loop
iteration wrote leaves in one ``send`` (a stricter floor).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgpack
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
)

HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 16, 17, 32, 33, 36
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD = 48, 50, 64, 65, 68, 70

ROLES: dict[str, dict[str, Any]] = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
RS_MSGPACK = 2  # the RawSocket serializer id of msgpack
RS_MAX_EXPONENT = 15  # we accept messages up to 2**(9 + 15) bytes


class FloorPeer(asyncio.Protocol):
    """The WAMP part, shared by both transports (which implement ``send_payload``)."""

    def __init__(self, realm: str) -> None:
        self.realm = realm
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[int] = self.loop.create_future()
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.ids = itertools.count(1)
        self.packb = msgpack.Packer().pack
        self.on_event: Callable[[list[Any]], None] = lambda args: None
        self.echo_registrations: set[int] = set()
        self.outgoing: list[bytes] = []
        self.burst = False  # True: coalesce the writes of one loop iteration

    # ---- what the transport part calls

    def send_payload(self, payload: bytes) -> None:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Send ``data`` now; with ``burst``, while other requests are in flight, with
        everything else written in this loop iteration (one ``send`` for the lot)."""
        if self.outgoing:
            self.outgoing.append(data)
        elif self.burst and len(self.pending) > 1:
            self.outgoing.append(data)
            self.loop.call_soon(self.flush)
        else:
            self.transport.write(data)  # type: ignore[union-attr]

    def flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.outgoing))
        self.outgoing.clear()

    def opened(self) -> None:
        self.send_payload(self.packb([HELLO, self.realm, {"roles": ROLES}]))

    def on_payload(self, payload: bytes) -> None:
        msg = msgpack.unpackb(payload)
        kind = msg[0]
        if kind == RESULT:
            future = self.pending.pop(msg[1], None)
            if future is not None and not future.done():
                args = msg[3] if len(msg) > 3 else None
                future.set_result(args[0] if args else None)
        elif kind == EVENT:
            self.on_event(msg[4] if len(msg) > 4 else [])
        elif kind == INVOCATION:
            self.send_payload(self.packb([YIELD, msg[1], {}, msg[4] if len(msg) > 4 else []]))
        elif kind in (REGISTERED, SUBSCRIBED, PUBLISHED):
            future = self.pending.pop(msg[1], None)
            if future is not None and not future.done():
                future.set_result(msg[2])
        elif kind == WELCOME:
            if not self.joined.done():
                self.joined.set_result(msg[1])
        elif kind == ERROR:
            future = self.pending.pop(msg[2], None)
            if future is not None and not future.done():
                future.set_exception(RuntimeError(f"WAMP error {msg[4]}"))
        elif kind == ABORT:
            if not self.joined.done():
                self.joined.set_exception(RuntimeError(f"ABORT {msg[2]}"))
            self.close()
        elif kind == GOODBYE:
            self.send_payload(self.packb([GOODBYE, {}, "wamp.close.goodbye_and_out"]))
            self.close()

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionError("the transport closed")
        for future in (self.joined, *self.pending.values()):
            if not future.done():
                future.set_exception(error)
        self.pending.clear()
        if not self.lost.done():
            self.lost.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # ---- WAMP actions

    def _request(self, message: list[Any], request_id: int) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        self.pending[request_id] = future
        self.send_payload(self.packb(message))
        return future

    async def call(self, procedure: str, arg: Any) -> Any:
        request_id = next(self.ids)
        future = self.loop.create_future()
        self.pending[request_id] = future
        self.send_payload(self.packb([CALL, request_id, {}, procedure, [arg]]))
        return await future

    async def register_echo(self, procedure: str) -> int:
        request_id = next(self.ids)
        registration: int = await self._request([REGISTER, request_id, {}, procedure], request_id)
        self.echo_registrations.add(registration)
        return registration

    async def subscribe(self, topic: str, on_event: Callable[[list[Any]], None]) -> int:
        self.on_event = on_event
        request_id = next(self.ids)
        subscription: int = await self._request([SUBSCRIBE, request_id, {}, topic], request_id)
        return subscription

    def publish(self, topic: str, args: list[Any]) -> None:
        self.send_payload(self.packb([PUBLISH, next(self.ids), {}, topic, args]))

    def publish_acknowledged(self, topic: str, args: list[Any]) -> asyncio.Future[Any]:
        request_id = next(self.ids)
        return self._request([PUBLISH, request_id, {"acknowledge": True}, topic, args], request_id)

    async def leave(self, timeout: float = 2.0) -> None:
        """GOODBYE, wait for the router's GOODBYE (which closes), bounded by ``timeout``."""
        if self.transport is None or self.transport.is_closing():
            return
        self.send_payload(self.packb([GOODBYE, {}, "wamp.close.normal"]))
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), timeout)
        except asyncio.TimeoutError:
            self.close()


# The framing loops, shared with the Twisted floor (benchmarks/_rpc_twisted.py): ``peer``
# has ``transport.write``, ``opened()``, ``on_payload(bytes)`` and ``close()``, plus
# ``buffer``/``handshaken`` (RawSocket) or ``ws``/``parts`` (WebSocket).


def rawsocket_received(peer: Any, data: bytes) -> None:
    """RawSocket frames: the handshake reply, then length-prefixed messages and PINGs."""
    buffer = peer.buffer
    buffer += data
    pos, end = 0, len(buffer)
    if not peer.handshaken:
        if end < 4:
            return
        if buffer[0] != 0x7F or buffer[1] & 0x0F != RS_MSGPACK:
            raise ConnectionError(f"RawSocket handshake refused: {bytes(buffer[:4]).hex()}")
        peer.handshaken = True
        pos = 4
        peer.opened()
    while end - pos >= 4:
        size = int.from_bytes(buffer[pos + 1 : pos + 4], "big")
        if end - pos - 4 < size:
            break
        kind = buffer[pos]
        payload = bytes(buffer[pos + 4 : pos + 4 + size])
        pos += 4 + size
        if kind == 0:
            peer.on_payload(payload)
        elif kind == 1:  # PING: answer PONG with the same payload
            peer.transport.write(bytes([2]) + size.to_bytes(3, "big") + payload)
    del buffer[:pos]


def websocket_received(peer: Any, data: bytes) -> None:
    """WebSocket: binary messages (a read can end inside a frame), pings, close."""
    ws = peer.ws
    ws.receive_data(data)
    for event in ws.events():
        if isinstance(event, BytesMessage):
            if event.message_finished and not peer.parts:
                peer.on_payload(event.data)
            else:
                peer.parts.append(event.data)
                if event.message_finished:
                    payload = b"".join(peer.parts)
                    peer.parts.clear()
                    peer.on_payload(payload)
        elif isinstance(event, AcceptConnection):
            peer.opened()
        elif isinstance(event, Ping):
            peer.transport.write(ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            peer.transport.write(ws.send(event.response()))
            peer.close()
        elif isinstance(event, RejectConnection):
            raise ConnectionError(f"WebSocket upgrade refused: {event.status_code}")


class RawSocketFloor(FloorPeer):
    """WAMP over RawSocket: handshake, then 4-byte-header frames."""

    def __init__(self, realm: str) -> None:
        super().__init__(realm)
        self.buffer = bytearray()
        self.handshaken = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.write(bytes([0x7F, (RS_MAX_EXPONENT << 4) | RS_MSGPACK, 0, 0]))

    def send_payload(self, payload: bytes) -> None:
        self.write(len(payload).to_bytes(4, "big") + payload)  # type byte 0: a message

    def data_received(self, data: bytes) -> None:
        rawsocket_received(self, data)


class WebSocketFloor(FloorPeer):
    """WAMP over WebSocket with wsproto (binary messages, subprotocol wamp.2.msgpack)."""

    def __init__(self, realm: str, host: str, path: str) -> None:
        super().__init__(realm)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.host = host
        self.path = path
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        request = Request(host=self.host, target=self.path, subprotocols=["wamp.2.msgpack"])
        self.transport.write(self.ws.send(request))

    def send_payload(self, payload: bytes) -> None:
        self.write(self.ws.send(BytesMessage(data=payload)))

    def data_received(self, data: bytes) -> None:
        websocket_received(self, data)


async def connect(url: str, realm: str, *, burst: bool = False) -> FloorPeer:
    """Open ``rs://host:port`` or ``ws://host:port/path`` and join ``realm``; with
    ``burst``, the messages written in one loop iteration go out in one ``send``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    factory: Callable[[], FloorPeer]
    if parts.scheme == "rs":
        factory = lambda: RawSocketFloor(realm)  # noqa: E731
    elif parts.scheme == "ws":
        authority = f"{host}:{port}"
        factory = lambda: WebSocketFloor(realm, authority, parts.path or "/")  # noqa: E731
    else:
        raise ValueError(f"the floor speaks rs:// and ws:// only, not {url!r}")
    _, peer = await loop.create_connection(factory, host, port)
    peer.burst = burst
    await asyncio.wait_for(peer.joined, 10)
    return peer

"""An in-memory router for wamp_anyio tests: the adapter talks real bytes to a
ScriptedRouter through a pair of anyio memory streams; the test plays the router."""

from __future__ import annotations

from typing import Any, TypeVar

import anyio
from anyio.abc import ByteStream

from tests.harness import ROUTER_ROLES
from wamp_core.messages import Hello, Message, Welcome
from wamp_core.testing.router import ScriptedRouter

M = TypeVar("M", bound=Message)


class LoopbackStream(ByteStream):
    """The client's end: bytes it sends reach the router, the router's come back."""

    def __init__(self, router: LoopbackRouter):
        self.router = router
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await self.router._to_client_receive.receive()
        except anyio.EndOfStream:
            raise anyio.EndOfStream from None

    async def send(self, item: bytes) -> None:
        if self.closed:
            raise anyio.ClosedResourceError
        self.router._feed(item)

    async def send_eof(self) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self.closed = True
        await self.router._to_client_send.aclose()

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        return {}


class LoopbackRouter:
    """The router's end, scripted by the test (``await router.expect(Call)``)."""

    def __init__(self, transport: str = "rawsocket", serializer: str = "json"):
        self.scripted = ScriptedRouter(transport, serializer)
        self._to_client_send, self._to_client_receive = anyio.create_memory_object_stream[bytes](
            1000
        )
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[Message](1000)
        self.stream = LoopbackStream(self)

    def _feed(self, data: bytes) -> None:
        self.scripted.receive_data(data)
        self._pass_on()
        for message in self.scripted.received():
            self._inbox_send.send_nowait(message)

    def _pass_on(self) -> None:
        data = self.scripted.data_to_send()
        if data:
            self._to_client_send.send_nowait(data)

    async def expect(self, cls: type[M]) -> M:
        with anyio.fail_after(5):
            message = await self._inbox.receive()
        assert isinstance(message, cls), message
        return message

    def send(self, *messages: Message) -> None:
        self.scripted.send(*messages)
        self._pass_on()

    def send_bytes(self, data: bytes) -> None:
        self.scripted.send_bytes(data)
        self._pass_on()

    def close(self) -> None:
        """The router goes away (EOF for the client)."""
        self._to_client_send.close()

    async def welcome(self, session_id: int = 1) -> Hello:
        hello = await self.expect(Hello)
        self.send(
            Welcome(session_id, {"roles": ROUTER_ROLES, "authid": "anon", "authrole": "anonymous"})
        )
        return hello

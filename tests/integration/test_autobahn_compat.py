"""What an Autobahn user (or wamp_anyio's own docstrings) expects, in minimal programs.

Each test reproduces a bug or an Autobahn incompatibility found while writing the
examples (``examples/anyio``). Fixed ones stay as regression tests; the ones not
fixed yet are marked ``xfail(strict=True)``, so a fix makes them fail until the
marker goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings

import anyio
import pytest

import wamp_anyio
from tests.integration.crossbar_node import CrossbarNode
from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.exception import ApplicationError
from wamp_core.types import PublishOptions, RegisterOptions, SessionDetails

pytestmark = pytest.mark.integration

REALM = "realm1"


def test_stopping_the_loop_in_on_disconnect_ends_run(crossbar: CrossbarNode) -> None:
    """Autobahn asyncio apps end ``run()`` by stopping the loop when disconnected
    (``run()`` raised ``RuntimeError: Event loop stopped before Future completed.``)."""

    class Component(ApplicationSession):
        def onJoin(self, details: SessionDetails) -> None:
            self.leave()

        def onDisconnect(self) -> None:
            asyncio.get_event_loop().stop()

    ApplicationRunner(crossbar.ws_url, REALM).run(Component, log_level=None)


def test_events_max_buffer_bounds_what_waits(crossbar: CrossbarNode) -> None:
    """With ``max_buffer=2`` and 20 events unread, the session must stop reading
    (backpressure, as the docstring says), so a RESULT behind them waits. (The
    handler's queue was made with the driver's default size, 1024.)"""

    async def main() -> None:
        async with (
            wamp_anyio.connect(crossbar.ws_url, REALM) as publisher,
            wamp_anyio.connect(crossbar.ws_url, REALM) as subscriber,
        ):
            await publisher.register(lambda: "pong", "com.known.buffer.ping")
            async with subscriber.events("com.known.buffer.stream", max_buffer=2):
                for i in range(20):
                    await publisher.publish(
                        "com.known.buffer.stream", i, options=PublishOptions(acknowledge=True)
                    )
                await anyio.sleep(0.5)
                with anyio.move_on_after(1.0) as scope:
                    await subscriber.call("com.known.buffer.ping")
                assert scope.cancelled_caught, "the session kept reading past max_buffer"

    anyio.run(main)


def test_leaving_events_early_logs_nothing(
    crossbar: CrossbarNode, caplog: pytest.LogCaptureFixture
) -> None:
    """``break`` out of ``async for event in events`` while events are still queued
    (each of them was logged as 'event handler for ... raised ClosedResourceError()')."""

    async def main() -> None:
        async with (
            wamp_anyio.connect(crossbar.ws_url, REALM) as publisher,
            wamp_anyio.connect(crossbar.ws_url, REALM) as subscriber,
        ):
            async with subscriber.events("com.known.early.stream") as events:
                for i in range(10):
                    await publisher.publish(
                        "com.known.early.stream", i, options=PublishOptions(acknowledge=True)
                    )
                await anyio.sleep(0.3)
                async for _ in events:
                    break
            await anyio.sleep(0.3)

    with caplog.at_level(logging.ERROR, logger="wamp_anyio"):
        anyio.run(main, backend="trio")
    assert not caplog.records, [record.getMessage() for record in caplog.records]


def test_a_request_is_sent_when_made(crossbar: CrossbarNode) -> None:
    """Autobahn sends REGISTER/CALL/SUBSCRIBE when the method is called, so
    ``self.register(f, uri)`` without ``await`` registers (they were coroutines)."""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "never awaited"
                session.register(lambda: "registered", "com.known.unawaited")
            await anyio.sleep(0.3)
            assert await session.call("com.known.unawaited") == "registered"

    anyio.run(main)


def test_txaio_style_logging(crossbar: CrossbarNode) -> None:
    """Autobahn's ``self.log.info("joined {details}", details=details)`` (txaio's
    format-style keywords; a ``logging.Logger`` raised TypeError)."""
    wamp_anyio.Session().log.warning("joined {details}", details="x")


def test_wamp_protocol_registration() -> None:
    """Autobahn's rpc/decorators example checks ``isinstance(res, wamp.protocol.Registration)``
    after ``from autobahn import wamp``."""
    import wamp_core as wamp

    assert wamp.protocol.Registration is wamp.types.Registration


def test_router_errors_are_application_errors(crossbar: CrossbarNode) -> None:
    """Autobahn raises ``ApplicationError`` (``.error == "wamp.error.invalid_uri"``) for
    the router's ``wamp.error.invalid_uri``/``not_authorized`` (they came as
    ``InvalidUri``/``NotAuthorized``, plain Exceptions that escape ``except ApplicationError``)."""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            with pytest.raises(ApplicationError) as caught:
                await session.publish(
                    "wamp.known.reserved", 1, options=PublishOptions(acknowledge=True)
                )
            assert caught.value.error == ApplicationError.INVALID_URI

    anyio.run(main)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_request_while_closing_does_not_crash(crossbar: CrossbarNode, backend: str) -> None:
    """A request after ``disconnect()``, before the router's close reply (it made
    ``Connection.data_to_send()`` raise TransportLost in the driver's task, and
    ``connect()`` raise an ExceptionGroup). ApplicationRunner.stop() disconnects so too."""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            session.disconnect()
            with contextlib.suppress(Exception):  # raising at once would be fine
                session.publish("com.known.closing", 1)
            await anyio.sleep(0.5)

    anyio.run(main, backend=backend)


def test_a_call_has_add_done_callback(crossbar: CrossbarNode) -> None:
    """Autobahn's asyncio rpc/slowsquare example: ``d = self.call(...)``,
    ``d.add_done_callback(...)``, ``await asyncio.gather(d1, d2)``. Here call()
    returns a ``wamp_anyio.session.Request`` (awaitable, but no future);
    ``asyncio.ensure_future(self.call(...))`` is the workaround."""
    done: list[int] = []

    class Component(ApplicationSession):
        async def onJoin(self, details: SessionDetails) -> None:
            try:
                await self.register(lambda x: x * x, "com.compat.square")
                call = self.call("com.compat.square", 3)
                call.add_done_callback(lambda f: done.append(f.result()))  # type: ignore[attr-defined]
                await asyncio.gather(call)
            finally:
                self.leave()

    ApplicationRunner(crossbar.ws_url, REALM).run(Component, log_level=None)
    assert done == [9]


def test_register_object_applies_options(crossbar: CrossbarNode) -> None:
    """Autobahn's ``register(obj, options=RegisterOptions(...))`` gives ``options`` to every
    ``@wamp.register`` method that has none of its own (``pat.options or options``);
    here they are ignored, so ``details_arg`` is not injected."""
    import wamp_core as wamp

    class Service:
        @wamp.register("com.compat.whoami")
        def whoami(self, details: object = None) -> bool:
            return details is not None

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            await session.register(Service(), options=RegisterOptions(details_arg="details"))
            assert await session.call("com.compat.whoami") is True

    anyio.run(main)

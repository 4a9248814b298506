"""Minimal reproductions of known bugs and Autobahn incompatibilities in wamp_anyio/wamp_core.

Each test asserts the behaviour an Autobahn user (or the docstring) expects and is
marked ``xfail(strict=True)``: once the bug is fixed the test passes, strict xfail
turns that into a failure, and the marker must go (the test stays, as a regression
test). Found while writing the examples (``examples/anyio``).
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
from wamp_core.types import PublishOptions, SessionDetails

pytestmark = pytest.mark.integration

REALM = "realm1"


@pytest.mark.xfail(strict=True, reason="ApplicationRunner.run() cannot have the loop stopped")
def test_stopping_the_loop_in_on_disconnect_ends_run(crossbar: CrossbarNode) -> None:
    """Autobahn asyncio apps end ``run()`` by stopping the loop when disconnected.
    Here ``run()`` raises ``RuntimeError: Event loop stopped before Future completed.``"""

    class Component(ApplicationSession):
        def onJoin(self, details: SessionDetails) -> None:
            self.leave()

        def onDisconnect(self) -> None:
            asyncio.get_event_loop().stop()

    ApplicationRunner(crossbar.ws_url, REALM).run(Component, log_level=None)


@pytest.mark.xfail(strict=True, reason="session.events(max_buffer=N) buffers up to 1024 events")
def test_events_max_buffer_bounds_what_waits(crossbar: CrossbarNode) -> None:
    """With ``max_buffer=2`` and 20 events unread, the session must stop reading
    (backpressure, as the docstring says), so a RESULT behind them waits. The
    handler's queue is made lazily with the driver's default size (1024), after
    ``events()`` has put ``max_buffer`` back: nothing stops, the call returns at once."""

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


@pytest.mark.xfail(strict=True, reason="leaving events() early logs one traceback per event")
def test_leaving_events_early_logs_nothing(
    crossbar: CrossbarNode, caplog: pytest.LogCaptureFixture
) -> None:
    """``break`` out of ``async for event in events`` while events are still queued:
    each of them is logged as 'event handler for ... raised ClosedResourceError()'."""

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


@pytest.mark.xfail(strict=True, reason="register()/call()/subscribe() send only when awaited")
def test_a_request_is_sent_when_made(crossbar: CrossbarNode) -> None:
    """Autobahn sends REGISTER/CALL/SUBSCRIBE when the method is called and returns a
    future (``self.register(f, uri)`` without ``await`` registers; ``self.call(...)``
    has ``add_done_callback``). Here they are coroutines: not awaited, nothing is sent."""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "never awaited"
                session.register(lambda: "registered", "com.known.unawaited")
            await anyio.sleep(0.3)
            assert await session.call("com.known.unawaited") == "registered"

    anyio.run(main)


@pytest.mark.xfail(strict=True, reason="self.log is a logging.Logger, not a txaio logger")
def test_txaio_style_logging(crossbar: CrossbarNode) -> None:
    """Autobahn's ``self.log.info("joined {details}", details=details)`` (txaio's
    format-style keywords) raises TypeError on a ``logging.Logger``."""
    wamp_anyio.Session().log.warning("joined {details}", details="x")


@pytest.mark.xfail(strict=True, reason="wamp_core has no 'protocol' module")
def test_wamp_protocol_registration() -> None:
    """Autobahn's rpc/decorators example checks ``isinstance(res, wamp.protocol.Registration)``
    after ``from autobahn import wamp``; with ``import wamp_core as wamp``: AttributeError."""
    import wamp_core as wamp

    assert wamp.protocol.Registration is wamp.types.Registration  # type: ignore[attr-defined]


@pytest.mark.xfail(strict=True, reason="router errors come as NotAuthorized/InvalidUri/...")
def test_router_errors_are_application_errors(crossbar: CrossbarNode) -> None:
    """Autobahn raises ``ApplicationError`` (``.error == "wamp.error.invalid_uri"``) for
    the router's ``wamp.error.invalid_uri``/``not_authorized``; here ErrorMapper turns
    them into ``wamp_core.exception.InvalidUri``/``NotAuthorized``/``InvalidPayload``,
    plain Exceptions that escape ``except ApplicationError``."""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            with pytest.raises(ApplicationError) as caught:
                await session.publish(
                    "wamp.known.reserved", 1, options=PublishOptions(acknowledge=True)
                )
            assert caught.value.error == ApplicationError.INVALID_URI

    anyio.run(main)


@pytest.mark.xfail(strict=True, reason="a request while the transport closes kills the session")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_request_while_closing_does_not_crash(crossbar: CrossbarNode, backend: str) -> None:
    """After ``disconnect()`` (before the router's close reply) the session still counts
    as joined; a publish then queues a message, ``Connection.data_to_send()`` raises
    TransportLost inside the driver's task, and ``connect()`` raises an ExceptionGroup.
    (ApplicationRunner.stop() disconnects the same way, while the app may be busy.)"""

    async def main() -> None:
        async with wamp_anyio.connect(crossbar.ws_url, REALM) as session:
            session.disconnect()
            with contextlib.suppress(Exception):  # raising at once would be fine
                session.publish("com.known.closing", 1)
            await anyio.sleep(0.5)

    anyio.run(main, backend=backend)

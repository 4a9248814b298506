"""The structured-concurrency API: ``async with connect(...) as session``."""

from __future__ import annotations

import dataclasses
import logging
import ssl as ssl_module
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.streams.tls import TLSAttribute

from wamp_anyio._driver import DEFAULT_MAX_BUFFER, Driver
from wamp_anyio._streams import open_stream
from wamp_core.application.connect import build_connection
from wamp_core.application.url import parse_url
from wamp_core.events import Challenged, Joined, Left
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.request import Publication, Registration, Subscription
from wamp_core.transports import TransportClosed
from wamp_core.types import (
    CallOptions,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)

__all__ = ["ReceivedEvent", "Session", "connect"]

log = logging.getLogger("wamp_anyio")

DEFAULT_CANCEL_MODE = "kill"
LEAVE_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event from :meth:`Session.events`."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    details: EventDetails


class Session:
    """A joined WAMP session; requests are coroutines, results come back as values."""

    def __init__(self, driver: Driver, joined: Joined, transport: str | None = None):
        self._driver = driver
        self._core = driver.core
        self.details = SessionDetails(
            realm=joined.realm,
            session=joined.session_id,
            authid=joined.authid,
            authrole=joined.authrole,
            authmethod=joined.authmethod,
            authprovider=joined.authprovider,
            authextra=joined.authextra,
            serializer=transport,
        )
        self.cancel_mode = DEFAULT_CANCEL_MODE

    @property
    def session_id(self) -> int | None:
        return self._core.session.session_id

    @property
    def is_joined(self) -> bool:
        return self._core.session.is_joined

    def define(self, exception: type[BaseException], error: str | None = None) -> None:
        """Map an exception class to an error URI, both ways (Autobahn's ``define``)."""
        self._core.define(exception, error)

    async def call(
        self, procedure: str, *args: Any, options: CallOptions | None = None, **kwargs: Any
    ) -> Any:
        """Call a procedure: the single result, a CallResult, or None. Canceling the
        awaiting task sends CANCEL (mode ``self.cancel_mode``)."""
        driver = self._driver
        with driver.writing_soon():
            request_id, future = self._core.call(
                procedure, args, kwargs, options, now=anyio.current_time()
            )
        await driver.write()
        try:
            return await future.wait()
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                self._core.cancel(request_id, self.cancel_mode, abandon=True)
                await driver.write()
            raise

    async def register(
        self,
        endpoint: Callable[..., Any],
        procedure: str,
        options: RegisterOptions | None = None,
    ) -> Registration:
        """Register ``endpoint`` (plain or async) under ``procedure``."""
        registration: Registration = await self._request(
            lambda: self._core.register(endpoint, procedure, options)
        )
        return registration

    async def subscribe(
        self,
        handler: Callable[..., Any],
        topic: str,
        options: SubscribeOptions | None = None,
    ) -> Subscription:
        """Subscribe ``handler`` (plain or async); it gets events in publication order."""
        subscription: Subscription = await self._request(
            lambda: self._core.subscribe(handler, topic, options)
        )
        return subscription

    async def publish(
        self, topic: str, *args: Any, options: PublishOptions | None = None, **kwargs: Any
    ) -> Publication | None:
        """Publish; with ``PublishOptions(acknowledge=True)`` wait for the router's ack."""
        driver = self._driver
        with driver.writing_soon():
            future = self._core.publish(topic, args, kwargs, options)
        await driver.write()
        if future is None:
            return None
        publication: Publication = await future.wait()
        return publication

    async def unregister(self, registration: Registration) -> None:
        await _await(registration.unregister())
        await self._driver.write()

    async def unsubscribe(self, subscription: Subscription) -> None:
        await _await(subscription.unsubscribe())
        await self._driver.write()

    @asynccontextmanager
    async def events(
        self,
        topic: str,
        *,
        max_buffer: int = 100,
        options: SubscribeOptions | None = None,
    ) -> AsyncIterator[AsyncIterator[ReceivedEvent]]:
        """Subscribe for the block's duration and iterate over the events, in order.

        At most ``max_buffer`` events wait for the iterator; beyond that the session
        stops reading (backpressure) until the iterator catches up.
        """
        send, receive = anyio.create_memory_object_stream[ReceivedEvent](0)

        async def handler(*args: Any, details: EventDetails, **kwargs: Any) -> None:
            await send.send(ReceivedEvent(args, kwargs, details))

        options = dataclasses.replace(options or SubscribeOptions(), details_arg="details")
        driver = self._driver
        saved, driver.max_buffer = driver.max_buffer, max_buffer
        try:
            subscription = await self.subscribe(handler, topic, options)
        finally:
            driver.max_buffer = saved
        try:
            async with receive:
                yield receive
        finally:
            send.close()
            if subscription.active and self.is_joined:
                with anyio.CancelScope(shield=True):
                    await self.unsubscribe(subscription)

    async def leave(self, reason: str | None = None, message: str | None = None) -> None:
        """Send GOODBYE and wait (up to the close timeout) for the router's."""
        if not self.is_joined:
            return
        self._core.leave(reason, message)
        await self._driver.write()

    async def _request(self, make: Callable[[], Any]) -> Any:
        driver = self._driver
        with driver.writing_soon():
            future = make()
        await driver.write()
        return await future.wait()


async def _await(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


@asynccontextmanager
async def connect(
    url: str,
    realm: str,
    *,
    serializers: Sequence[str] | None = None,
    authentication: Mapping[str, Any] | None = None,
    ssl: ssl_module.SSLContext | bool | None = None,
    proxy: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    websocket_options: Mapping[str, Any] | None = None,
    extra: Any = None,
    max_buffer: int = DEFAULT_MAX_BUFFER,
    on_challenge: Callable[[Challenged], Any] | None = None,
    **session_options: Any,
) -> AsyncIterator[Session]:
    """Connect, join ``realm`` and yield the joined Session; leave and close on exit
    (also when the block is canceled). Raises if the router refuses the join."""
    target = parse_url(url)
    connection = build_connection(
        target,
        realm,
        serializers=serializers,
        authentication=authentication,
        headers=headers,
        websocket_options=websocket_options,
        now=anyio.current_time(),
        **session_options,
    )
    stream = await open_stream(target, ssl=ssl, proxy=proxy)
    outcome = _JoinOutcome()
    async with anyio.create_task_group() as tg:
        driver = Driver(connection, stream, tg, outcome.record, max_buffer=max_buffer)
        outcome.driver = driver
        outcome.on_challenge = on_challenge
        connection.session.channel_id = _channel_binding(stream)
        tg.start_soon(driver.run)
        try:
            joined = await outcome.wait_joined()
            yield Session(
                driver, joined, connection.serializer.NAME if connection.serializer else None
            )
        finally:
            with anyio.CancelScope(shield=True):
                await _shutdown(driver, outcome.left)
            tg.cancel_scope.cancel()


class _JoinOutcome:
    """Collects the session events ``connect`` waits for."""

    def __init__(self) -> None:
        self.driver: Driver | None = None
        self.on_challenge: Callable[[Challenged], Any] | None = None
        self.joined: Joined | None = None
        self.error: BaseException | None = None
        self.left = anyio.Event()
        self._settled = anyio.Event()

    def record(self, event: Any) -> None:
        if isinstance(event, Joined):
            self.joined = event
            self._settled.set()
        elif isinstance(event, Challenged):
            self._answer(event)
        elif isinstance(event, Left):
            if self.joined is None:
                self.error = (
                    ApplicationError(event.reason, event.message)
                    if event.message
                    else ApplicationError(event.reason)
                )
                self._settled.set()
            self.left.set()
        elif isinstance(event, TransportClosed):
            if self.joined is None and self.error is None:
                self.error = event.error or TransportLost(
                    event.reason or "the transport closed before join"
                )
                self._settled.set()
            self.left.set()

    def _answer(self, challenge: Challenged) -> None:
        driver = self.driver
        assert driver is not None
        if self.on_challenge is None:
            text = f"no authenticator for the router's {challenge.method!r} challenge"
            driver.connection.session.abort(ApplicationError.AUTHENTICATION_FAILED, text)
            driver.flush()
            return
        signature = self.on_challenge(challenge)
        driver.connection.session.authenticate(signature)
        driver.flush()

    async def wait_joined(self) -> Joined:
        await self._settled.wait()
        if self.joined is None:
            assert self.error is not None
            raise self.error
        return self.joined


async def _shutdown(driver: Driver, left: anyio.Event) -> None:
    """Leave (waiting a bounded time for the router's GOODBYE), then close the transport."""
    session = driver.connection.session
    if session.is_joined:
        session.leave()
        await driver.write()
        with anyio.move_on_after(session.close_timeout):
            await left.wait()
    if not driver.connection.closed:
        driver.connection.close()
        await driver.write()
    await driver.aclose()


def _channel_binding(stream: Any) -> bytes | None:
    """The tls-unique channel binding of a TLS stream (for cryptosign / SCRAM binding)."""
    try:
        value = stream.extra(TLSAttribute.channel_binding_tls_unique, None)
    except Exception:  # not TLS, or the TLS library cannot give it
        return None
    return value if isinstance(value, bytes) else None

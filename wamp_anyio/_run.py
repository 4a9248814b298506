"""Running a Session over one transport, ``connect()``, and the reconnect loop."""

from __future__ import annotations

import logging
import random
import ssl as ssl_module
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.tls import TLSAttribute

from wamp_anyio._asyncio_stream import AsyncioStream
from wamp_anyio._driver import DEFAULT_MAX_BUFFER, Driver
from wamp_anyio._future import Future, future_class
from wamp_anyio._spawn import LoopTasks, Starts
from wamp_anyio._streams import open_stream
from wamp_anyio.session import Session
from wamp_core.application import Backoff
from wamp_core.application.connect import build_connection
from wamp_core.application.runner import reconnect_loop
from wamp_core.application.url import TransportUrl, parse_url
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails

__all__ = ["Transport", "connect", "connect_over", "reconnecting", "run_session"]

log = logging.getLogger("wamp_anyio")


@dataclass
class Transport:
    """Where and how to connect: what ``connect()`` and ApplicationRunner take."""

    url: str
    serializers: Sequence[str] | None = None
    authentication: Mapping[str, Any] | None = None
    ssl: ssl_module.SSLContext | bool | None = None
    proxy: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    websocket_options: Mapping[str, Any] | None = None
    max_buffer: int = DEFAULT_MAX_BUFFER
    session_options: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> TransportUrl:
        return parse_url(self.url)

    async def open(self) -> ByteStream:
        return await open_stream(self.target, ssl=self.ssl, proxy=self.proxy)


async def run_session(
    session: Session,
    transport: Transport,
    stream: ByteStream,
    realm: str,
    task_group: Starts | None = None,
) -> None:
    """Drive ``session`` over ``stream`` until the transport closes. The session's
    tasks (hooks, invocations, handlers) go to ``task_group`` when given (connect()
    passes its own: a group less per session), else to a group of its own, waited for."""
    if task_group is not None:
        await _drive(session, transport, stream, realm, task_group)
        return
    async with anyio.create_task_group() as tg:
        await _drive(session, transport, stream, realm, tg)


async def _drive(
    session: Session, transport: Transport, stream: ByteStream, realm: str, tg: Starts
) -> None:
    driver = _attach_driver(session, transport, stream, realm, tg)
    try:
        await driver.run()
    finally:
        session._end_hooks()
        with anyio.CancelScope(shield=True):
            await stream.aclose()


def start_in_callbacks(
    session: Session,
    transport: Transport,
    stream: AsyncioStream,
    realm: str,
    tasks: Starts,
    on_end: Callable[[], None] | None = None,
) -> None:
    """Drive ``session`` over our asyncio ``stream`` holding no task (see
    Driver.start_in_callbacks): its hooks, invocations and coroutine handlers run in
    tasks started with ``tasks`` while they run. ``on_end`` hears that it ended."""
    ended = session._end_hooks
    if on_end is not None:

        def ended() -> None:
            session._end_hooks()
            on_end()

    driver = _attach_driver(session, transport, stream, realm, tasks, ended)
    driver.start_in_callbacks()


def _attach_driver(
    session: Session,
    transport: Transport,
    stream: ByteStream,
    realm: str,
    tg: Starts,
    on_end: Callable[[], None] | None = None,
) -> Driver:
    connection = build_connection(
        transport.target,
        realm,
        serializers=transport.serializers,
        authentication=transport.authentication,
        headers=transport.headers,
        websocket_options=transport.websocket_options,
        now=anyio.current_time(),
        **transport.session_options,
    )
    connection.auto_join = False  # the session's on_connect joins
    connection.session.channel_id = _channel_binding(stream)
    driver = Driver(
        connection,
        stream,
        tg,
        session._session_event,
        max_buffer=transport.max_buffer,
        on_end=on_end,
    )
    session._attach(driver)
    return driver


class _Joining(Session):
    """The Session ``connect()`` yields: it reports the join, or why there was none."""

    def __init__(self, config: ComponentConfig):
        super().__init__(config)
        self.joined = future_class()()
        self.failure: BaseException | None = None

    def on_join(self, details: SessionDetails) -> None:
        self.joined.set_result(None)

    def on_leave(self, details: CloseDetails) -> None:
        if not self.joined.done():
            reason = details.reason or ApplicationError.AUTHENTICATION_FAILED
            self.failure = (
                ApplicationError(reason, details.message)
                if details.message
                else ApplicationError(reason)
            )
        self.disconnect()

    def on_disconnect(self) -> None:
        if not self.joined.done() and self.failure is None:
            self.failure = TransportLost("the transport closed before the session joined")
        self.joined.set_result(None)


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
    max_message_size: int = 16 * 1024 * 1024,
    **session_options: Any,
) -> AsyncIterator[Session]:
    """Connect, join ``realm``, and yield the joined Session; leave and close on exit
    (also when the block is canceled). Raises if the router refuses the join:
    ApplicationError with the router's reason (e.g. ``wamp.error.not_authorized``).
    ``max_message_size`` bounds what we accept (and, on WebSocket, what we send)."""
    session_options["max_message_size"] = max_message_size
    transport = Transport(
        url,
        serializers,
        authentication,
        ssl,
        proxy,
        headers,
        websocket_options,
        max_buffer,
        session_options,
    )
    stream = await transport.open()
    async with connect_over(transport, stream, realm, extra=extra) as session:
        yield session


@asynccontextmanager
async def connect_over(
    transport: Transport, stream: ByteStream, realm: str, *, extra: Any = None
) -> AsyncIterator[Session]:
    """``connect()`` over a stream already open (a socket, or an in-memory pipe)."""
    if isinstance(stream, AsyncioStream):
        async with _connect_in_callbacks(transport, stream, realm, extra) as session:
            yield session
        return
    session = _Joining(ComponentConfig(realm=realm, extra=extra))
    # The task group is entered by hand so that neither a refused join nor an exception
    # of the caller's block comes out wrapped in an ExceptionGroup.
    tg = anyio.create_task_group()
    await tg.__aenter__()
    try:
        tg.start_soon(run_session, session, transport, stream, realm, tg)
        await session.joined.wait()
    except BaseException:
        await _close_group(tg)
        raise
    if session.failure is not None:
        await _close_group(tg)
        raise session.failure
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(_close_timeout(session)):
            if session.is_attached():
                await session.leave()
            session.disconnect()
        await _close_group(tg)  # outside the shield: it must be the innermost scope


@asynccontextmanager
async def _connect_in_callbacks(
    transport: Transport, stream: AsyncioStream, realm: str, extra: Any
) -> AsyncIterator[Session]:
    """connect_over() on our asyncio stream: the session holds no task of its own (the
    caller's task holds the block); what it starts runs in loop tasks, canceled and
    waited for on the way out, as a task group's."""
    session = _Joining(ComponentConfig(realm=realm, extra=extra))
    tasks = LoopTasks()
    ended: Future = future_class()()
    start_in_callbacks(
        session, transport, stream, realm, tasks, on_end=lambda: ended.set_result(None)
    )
    try:
        await session.joined.wait()
    except BaseException:
        await _wind_down(session, tasks, ended)
        raise
    if session.failure is not None:
        await _wind_down(session, tasks, ended)
        raise session.failure
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(_close_timeout(session)):
            if session.is_attached():
                await session.leave()
        await _wind_down(session, tasks, ended)


async def _wind_down(session: Session, tasks: LoopTasks, ended: Future) -> None:
    """Close the transport, wait for the end, cancel what still runs and wait for it."""
    with anyio.CancelScope(shield=True):
        session.disconnect()
        await ended.wait()
        await tasks.cancel_and_wait()


async def _close_group(tg: Any) -> None:
    tg.cancel_scope.cancel()
    await tg.__aexit__(None, None, None)


def _close_timeout(session: Session) -> float:
    driver = session._driver
    return driver.connection.session.close_timeout + 1.0 if driver else 1.0


async def reconnecting(
    make: Callable[[ComponentConfig], Session],
    config: ComponentConfig,
    transport: Transport,
    backoff: Backoff | None,
    stopped: anyio.Event,
    on_session: Callable[[Session | None], None] = lambda session: None,
    rand: Callable[[], float] = random.random,
) -> None:
    """Run sessions one after another until ``stopped`` (or the first ends, without
    ``backoff``); wait ``backoff.delay(n)`` between attempts (wamp_core's
    reconnect_loop). Raises the connect error when no (further) attempt is allowed."""
    realm = config.realm or "realm1"

    async def connect_once() -> bool:
        stream = await transport.open()
        session = make(config)
        on_session(session)
        try:
            await run_session(session, transport, stream, realm)
        finally:
            on_session(None)
        return session.details is not None

    async def sleep(delay: float) -> None:
        with anyio.move_on_after(delay):
            await stopped.wait()

    await reconnect_loop(
        connect_once, sleep, log.info, backoff, stopped.is_set, rand, transport.url
    )


def _channel_binding(stream: Any) -> bytes | None:
    """The tls-unique channel binding of a TLS stream (for cryptosign / SCRAM binding)."""
    try:
        value = stream.extra(TLSAttribute.channel_binding_tls_unique, None)
    except Exception:  # not TLS, or the TLS library cannot give it
        return None
    return value if isinstance(value, bytes) else None

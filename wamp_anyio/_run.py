"""Running a Session over one transport, ``connect()``, and the reconnect loop."""

from __future__ import annotations

import functools
import logging
import random
import ssl as ssl_module
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.tls import TLSAttribute

from wamp_anyio._asyncio_stream import AsyncioStream
from wamp_anyio._callbacks import CallbackStream
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
    stream: CallbackStream,
    realm: str,
    tasks: Starts,
    on_end: Callable[[], None] | None = None,
) -> None:
    """Drive ``session`` over our asyncio or trio ``stream`` holding no task (see
    Driver.start_in_callbacks): its hooks, invocations and coroutine handlers run in
    tasks started with ``tasks`` while they run. ``on_end`` hears that it ended."""
    ended = session._end_hooks
    if on_end is not None:

        def ended() -> None:
            session._end_hooks()
            on_end()

    try:
        driver = _attach_driver(session, transport, stream, realm, tasks, ended)
    except BaseException:  # e.g. an unknown websocket option: the socket is not kept open
        stream.close()
        raise
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


def connect(
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
) -> AbstractAsyncContextManager[Session]:
    """``async with connect(url, realm) as session:`` connects, joins ``realm``, and gives
    the joined Session; leaves and closes on exit (also when the block is canceled).
    Raises if the router refuses the join: ApplicationError with the router's reason
    (e.g. ``wamp.error.not_authorized``). ``max_message_size`` bounds what we accept
    (and, on WebSocket, what we send)."""
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
    return _Connected(transport, None, realm, extra)


def connect_over(
    transport: Transport, stream: ByteStream, realm: str, *, extra: Any = None
) -> AbstractAsyncContextManager[Session]:
    """``connect()`` over a stream already open (a socket, or an in-memory pipe)."""
    return _Connected(transport, stream, realm, extra)


class _Connected:
    """What ``connect()`` returns. On our asyncio stream the session holds no task of
    its own (the caller's task holds the block): it is driven in the stream's callbacks,
    and what it starts runs in loop tasks, canceled and waited for on the way out, as a
    task group's. Else (trio, TLS, a pipe) a task group runs its reader.
    A small object rather than a generator: it lives as long as the block."""

    __slots__ = (
        "_ended",
        "_extra",
        "_in_task",
        "_realm",
        "_session",
        "_stream",
        "_tasks",
        "_transport",
    )

    def __init__(
        self, transport: Transport, stream: ByteStream | None, realm: str, extra: Any
    ) -> None:
        self._transport = transport
        self._stream = stream
        self._realm = realm
        self._extra = extra
        self._in_task: AbstractAsyncContextManager[Session] | None = None
        self._session: _Joining | None = None
        self._tasks: LoopTasks | None = None
        self._ended: Future | None = None

    async def __aenter__(self) -> Session:
        stream = self._stream
        if stream is None:
            stream = await self._transport.open()
        self._stream = None  # not needed any more: the driver holds it
        if not isinstance(stream, AsyncioStream):
            self._in_task = _connect_in_task(self._transport, stream, self._realm, self._extra)
            return await self._in_task.__aenter__()
        session = self._session = _Joining(ComponentConfig(realm=self._realm, extra=self._extra))
        tasks = self._tasks = LoopTasks()
        ended = self._ended = future_class()()
        start_in_callbacks(
            session,
            self._transport,
            stream,
            self._realm,
            tasks,
            functools.partial(ended.set_result, None),
        )
        try:
            await session.joined.wait()
        except BaseException:
            await self._wind_down()
            raise
        if session.failure is not None:
            await self._wind_down()
            raise session.failure
        return session

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        if self._in_task is not None:
            return await self._in_task.__aexit__(*exc_info)
        session = self._session
        assert session is not None
        with anyio.CancelScope(shield=True), anyio.move_on_after(_close_timeout(session)):
            if session.is_attached():
                await session.leave()
        await self._wind_down()
        return None

    async def _wind_down(self) -> None:
        """Close the transport, wait for the end, cancel what still runs and wait for it."""
        session, tasks, ended = self._session, self._tasks, self._ended
        assert session is not None and tasks is not None and ended is not None
        with anyio.CancelScope(shield=True):
            session.disconnect()
            await ended.wait()
            await tasks.cancel_and_wait()


@asynccontextmanager
async def _connect_in_task(
    transport: Transport, stream: ByteStream, realm: str, extra: Any
) -> AsyncIterator[Session]:
    """connect_over() on any other stream: a task group runs the session's reader."""
    session = _Joining(ComponentConfig(realm=realm, extra=extra))
    # The task group is entered by hand so that neither a refused join nor an exception
    # of the caller's block comes out wrapped in an ExceptionGroup.
    tg = anyio.create_task_group()
    await tg.__aenter__()
    try:
        tg.start_soon(_drive, session, transport, stream, realm, tg)  # run_session's work
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

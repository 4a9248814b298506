"""What the Twisted integration tests drive sessions with, in the reactor thread
(:mod:`tests.integration.twisted_reactor`).

* :class:`Client`: an Autobahn-style ApplicationSession whose join, end and
  transport end are :class:`Latch` es, and which keeps what reached onUserError.
* :func:`connect`: ``async with connect(url, **runner_options) as session`` -- a
  joined session for the block, through ``ApplicationRunner(...).run(make,
  start_reactor=False)``; :func:`start`, :func:`outcome` and :func:`close` are
  its parts, for tests that watch a join fail or a session end.
* :func:`publish`: an acknowledged publication, awaited.
* :class:`Inbox`: an event handler that keeps its events and lets a scenario wait
  for them; :class:`Outgoing`: the WAMP messages a session sends (white box).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from twisted.internet import defer
from twisted.internet.defer import Deferred

from wamp_core.auth import CryptosignKey
from wamp_core.exception import ApplicationError
from wamp_core.messages import Error, Message
from wamp_core.request import Publication
from wamp_core.types import (
    CloseDetails,
    ComponentConfig,
    EventDetails,
    PublishOptions,
    SessionDetails,
)
from wamp_twisted import ApplicationRunner, ApplicationSession, Session

__all__ = [
    "REALM",
    "Client",
    "Inbox",
    "Latch",
    "Outgoing",
    "Received",
    "authentication",
    "close",
    "connect",
    "outcome",
    "publish",
    "start",
    "unique",
]

REALM = "realm1"

T = TypeVar("T")


def unique(prefix: str = "com.twisted") -> str:
    """A URI no other test uses (the shared node keeps registrations and retained events)."""
    return f"{prefix}.t{uuid.uuid4().hex}"


def authentication(principal: dict[str, Any], *, key_object: bool = False) -> dict[str, Any]:
    """``ApplicationRunner(authentication=...)`` for one principal of ``node.principals``,
    in the form Autobahn's Component takes (authmethod -> credentials)."""
    method, authid = principal["authmethod"], principal["authid"]
    if method == "ticket":
        return {"ticket": {"authid": authid, "ticket": principal["ticket"]}}
    if method == "wampcra":  # salted or not: the client learns the salt from CHALLENGE
        return {"wampcra": {"authid": authid, "secret": principal["secret"]}}
    if method == "cryptosign":
        seed = principal["private_seed_hex"]
        if key_object:
            return {"cryptosign": {"authid": authid, "key": CryptosignKey.from_hex(seed)}}
        return {"cryptosign": {"authid": authid, "privkey": seed}}
    if method == "scram":  # Crossbar's convention
        return {"scram": {"authid": authid, "password": principal["password"]}}
    raise ValueError(method)


# ---- waiting in the reactor thread


class Latch(Generic[T]):
    """A value that arrives once, for any number of waiters. (Awaiting a Deferred
    consumes its result, so every waiter gets a Deferred of its own.)"""

    def __init__(self) -> None:
        self._value: list[T] = []
        self._waiters: list[Deferred[T]] = []

    @property
    def is_set(self) -> bool:
        return bool(self._value)

    @property
    def value(self) -> T:
        return self._value[0]

    def set(self, value: T) -> None:
        if self._value:
            return
        self._value.append(value)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.called:  # (canceled by the scenario's timeout)
                waiter.callback(value)

    def wait(self) -> Deferred[T]:
        if self._value:
            return defer.succeed(self._value[0])
        waiter: Deferred[T] = Deferred()
        self._waiters.append(waiter)
        return waiter


@dataclass
class Received:
    """One event as a handler got it."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    details: EventDetails | None


class Inbox:
    """An event handler that keeps what it gets, and lets a scenario wait for it.
    Subscribe ``inbox.receive`` with ``SubscribeOptions(details_arg="details")`` to
    keep the details too."""

    def __init__(self) -> None:
        self.events: list[Received] = []
        self._waiters: list[tuple[Callable[[list[Received]], bool], Deferred[list[Received]]]] = []

    def receive(self, *args: Any, details: EventDetails | None = None, **kwargs: Any) -> None:
        self.events.append(Received(args, kwargs, details))
        waiting, self._waiters = self._waiters, []
        for done, waiter in waiting:
            if waiter.called:
                continue
            if done(self.events):
                waiter.callback(list(self.events))
            else:
                self._waiters.append((done, waiter))

    def wait_for(self, done: Callable[[list[Received]], bool]) -> Deferred[list[Received]]:
        if done(self.events):
            return defer.succeed(list(self.events))
        waiter: Deferred[list[Received]] = Deferred()
        self._waiters.append((done, waiter))
        return waiter

    async def take(self, count: int) -> list[Received]:
        """The first ``count`` events (waiting for them)."""
        events = await self.wait_for(lambda events: len(events) >= count)
        return events[:count]

    async def until(self, last: Any) -> list[Any]:
        """The first args of the events up to the one whose first arg is ``last``."""
        events = await self.wait_for(lambda events: any(e.args[0] == last for e in events))
        firsts = [e.args[0] for e in events]
        return firsts[: firsts.index(last) + 1]


# ---- sessions


class Client(ApplicationSession):
    """An Autobahn-style session the scenario drives from outside: its join, its
    end and its transport's end are Latches; errors in its code are kept."""

    def __init__(self, config: ComponentConfig | None = None):
        super().__init__(config)
        self.joined: Latch[SessionDetails] = Latch()
        self.left: Latch[CloseDetails] = Latch()
        self.disconnected: Latch[None] = Latch()
        self.settled: Latch[SessionDetails | CloseDetails] = Latch()  # joined or refused
        self.user_errors: list[tuple[BaseException, str]] = []

    def onJoin(self, details: SessionDetails) -> Any:
        self.joined.set(details)
        self.settled.set(details)

    def onLeave(self, details: CloseDetails) -> None:
        self.left.set(details)
        self.settled.set(details)
        self.disconnect()

    def onDisconnect(self) -> None:
        self.disconnected.set(None)

    def onUserError(self, fail: BaseException, msg: str) -> None:
        self.user_errors.append((fail, msg))


async def start(
    url: str, make: Callable[[ComponentConfig], Client], realm: str = REALM, **options: Any
) -> Client:
    """Connect a session with ApplicationRunner (no reconnect) and return it, not
    yet joined: run() fires with the protocol once the transport is connected."""
    runner = ApplicationRunner(url, realm, **options)
    proto = await runner.run(make, start_reactor=False)
    client = proto.session
    assert isinstance(client, Client)
    return client


async def outcome(client: Client) -> SessionDetails | CloseDetails:
    """How the join ended: the SessionDetails, or the CloseDetails of a refusal."""
    return await client.settled.wait()


async def close(client: Client) -> None:
    """Leave (if still joined) and wait until the transport has closed."""
    if client.is_attached():
        await client.leave()
    client.disconnect()
    await client.disconnected.wait()


@asynccontextmanager
async def connect(
    url: str, make: Callable[[ComponentConfig], Client] = Client, **options: Any
) -> AsyncIterator[Client]:
    """A joined session for the block (``options`` go to ApplicationRunner); a
    refused join raises ApplicationError with the router's reason and message.
    On a normal exit nothing may have reached onUserError."""
    client = await start(url, make, **options)
    try:
        joined = await outcome(client)
        if isinstance(joined, CloseDetails):
            message = () if joined.message is None else (joined.message,)
            raise ApplicationError(joined.reason or "", *message)
        yield client
    finally:
        await close(client)
    assert client.user_errors == []


class Outgoing:
    """White box: every WAMP message a session queues for the router from now on
    (its core encodes each message as it is queued, through ``encoder``)."""

    def __init__(self, session: Session) -> None:
        self.sent: list[Message] = []
        self.error_sent: Latch[Error] = Latch()
        assert session._proto is not None
        core_session = session._proto.connection.session
        encode = core_session.encoder
        assert encode is not None

        def recording(message: Message) -> Any:
            self.sent.append(message)
            if isinstance(message, Error):
                self.error_sent.set(message)
            return encode(message)

        core_session.encoder = recording


async def publish(
    session: Session,
    topic: str,
    *args: Any,
    options: PublishOptions | None = None,
    **kwargs: Any,
) -> Publication:
    """Publish with acknowledge (``options`` must ask for it) and wait for the router."""
    options = options or PublishOptions(acknowledge=True)
    assert options.acknowledge, "an unacknowledged publication has nothing to wait for"
    request = session.publish(topic, *args, options=options, **kwargs)
    assert request is not None
    publication = await request
    assert isinstance(publication, Publication)
    return publication

"""What a soak client does, apart from its event loop (benchmarks/soak.py and
tests/integration/test_soak.py run it through benchmarks/_soak_client.py).

One :class:`Client` per WAMP client: a reconnecting ``Component`` of wamp_anyio
(asyncio or trio) or wamp_twisted with one role:

* ``callee``: registers ``PROCEDURE`` (shared, ``invoke: roundrobin``) on every join;
* ``caller``: while joined, calls ``PROCEDURE`` with a call timeout, ``INFLIGHT``
  calls at a time, each checked against what it sent;
* ``publisher``: while joined, publishes ``[tag, seq]`` to ``TOPIC`` with
  ``acknowledge``, and keeps when each publication was sent and acknowledged;
* ``subscriber``: subscribes ``TOPIC`` on every join and keeps, per session, what it
  received and when it was subscribed and lost.

Every request runs inside :meth:`Runtime.within` (timeout + margin): one that neither
completes nor fails by then is *hung*. Failures are counted by kind: a WAMP error URI
or one of wamp_core's exception names (a *clear* error), anything else is *unclear*.
The event loop's part (waits, timeouts, wake-ups) is a :class:`Runtime`.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wamp_core.exception import (
    ApplicationError,
    ProtocolError,
    SessionNotReady,
    TransportLost,
)
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions

PROCEDURE = "com.soak.echo"
TOPIC = "com.soak.topic"
ROLES = ("caller", "callee", "publisher", "subscriber")
INFLIGHT = 2  # calls at a time per caller
CLEAR_ERRORS = (ApplicationError, TransportLost, SessionNotReady, ProtocolError)

T = TypeVar("T")
FAILED: Any = object()  # what a request that failed or hung gave


class Hung(Exception):
    """A request neither completed nor failed within its timeout and the margin."""


def now() -> float:
    """CLOCK_MONOTONIC: one clock for every process of the machine (Linux)."""
    return time.monotonic()


class Changed(ABC):
    """Something a task waits on until it changes (the loop's own primitive)."""

    @abstractmethod
    def notify(self) -> None: ...

    @abstractmethod
    async def wait(self, seconds: float) -> None:
        """Until the next notify(), or ``seconds`` (then return all the same)."""


class Runtime(ABC):
    """The event loop's part: a plain wait, a bounded wait, a wake-up primitive."""

    @abstractmethod
    async def sleep(self, seconds: float) -> None: ...

    @abstractmethod
    async def within(self, seconds: float, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()``; raise Hung (after canceling it) if it takes ``seconds``."""

    @abstractmethod
    def changed(self) -> Changed: ...


@dataclass
class Attempt:
    """One session of a client: from its transport opening to its end."""

    connected: float
    ready: float | None = None  # registrations/subscriptions done (Component's "ready")
    ended: float | None = None
    # Compact on purpose: what the soak records grows for the whole run, and the
    # clients' RSS growth is a target (record_bytes() says how much is the records').
    received: dict[str, array[int]] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "ready": self.ready,
            "ended": self.ended,
            "received": {tag: seqs.tolist() for tag, seqs in self.received.items()},
        }


@dataclass
class Settings:
    call_timeout: float = 3.0
    margin: float = 5.0  # a request is hung after call_timeout + margin
    call_pause: float = 0.02  # between a caller's calls (each of its INFLIGHT loops)
    publish_pause: float = 0.1
    served: int = 1  # successes per session before the parent hears "served"


class Client:
    """One WAMP client with one role; ``emit`` reports its joins to the parent."""

    def __init__(
        self,
        name: str,
        role: str,
        runtime: Runtime,
        settings: Settings,
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.name = name
        self.role = role
        self.rt = runtime
        self.settings = settings
        self.emit = emit
        self.session: Any = None  # the joined session, or None
        self.change = runtime.changed()
        self.running = True
        self.attempts: list[Attempt] = []
        self.ops = Counter[str]()  # made, ok, wrong, hung
        self.failures = Counter[str]()  # kind -> count
        self.unclear: list[str] = []  # the first few unclear errors, as text
        self.publications = array("d")  # seq, sent, acknowledged; flat and compact
        self.invocations = 0
        self._seq = 0
        self._served = 0  # successes of this session

    # -- the component's listeners

    def on_connect(self, session: Any, transport: Any) -> None:
        self.attempts.append(Attempt(now()))

    def on_ready(self, session: Any) -> None:
        t = now()
        if self.attempts:
            self.attempts[-1].ready = t
        self.session = session
        self._served = 0
        self.emit({"ev": "ready", "client": self.name, "t": t})
        self.change.notify()

    def on_disconnect(self, session: Any, was_clean: bool) -> None:
        t = now()
        if self.attempts and self.attempts[-1].ended is None:
            self.attempts[-1].ended = t
        self.session = None
        self.emit({"ev": "gone", "client": self.name, "t": t})
        self.change.notify()

    # -- what the component registers and subscribes

    def echo(self, value: Any) -> Any:
        self.invocations += 1
        return value

    def register_options(self) -> RegisterOptions:
        return RegisterOptions(invoke="roundrobin")

    def on_event(self, tag: str, seq: int) -> None:
        if self.attempts:
            received = self.attempts[-1].received
            if tag not in received:
                received[tag] = array("q")
            received[tag].append(seq)
        if self.session is not None:  # joined and ready: the subscriber is served again
            self._count_served()

    # -- the active roles

    async def run_caller(self, lane: int) -> None:
        options = CallOptions(timeout=self.settings.call_timeout)
        count = 0
        while self.running:
            session = await self._joined()
            if session is None:
                return
            count += 1
            value = [self.name, lane, count]
            outcome = await self._request(
                functools.partial(session.call, PROCEDURE, value, options=options)
            )
            if outcome is not FAILED:
                if outcome == value:
                    self.ops["ok"] += 1
                    self._count_served()
                else:
                    self.ops["wrong"] += 1
            await self.rt.sleep(self.settings.call_pause)

    async def run_publisher(self) -> None:
        options = PublishOptions(acknowledge=True)
        while self.running:
            session = await self._joined()
            if session is None:
                return
            self._seq += 1
            seq, sent = self._seq, now()
            outcome = await self._request(
                functools.partial(session.publish, TOPIC, self.name, seq, options=options)
            )
            if outcome is not FAILED:
                self.ops["ok"] += 1
                self.publications.extend((seq, sent, now()))
                self._count_served()
            await self.rt.sleep(self.settings.publish_pause)

    async def _joined(self) -> Any:
        """The joined session once there is one, or None once stopped."""
        while self.running and self.session is None:
            await self.change.wait(1.0)
        return self.session if self.running else None

    async def _request(self, make: Callable[[], Any]) -> Any:
        """Run one request: what it gave, or FAILED if it failed or hung (counted by kind)."""
        self.ops["made"] += 1
        limit = self.settings.call_timeout + self.settings.margin
        try:
            return await self.rt.within(limit, make)
        except Hung:
            self.ops["hung"] += 1
        except CLEAR_ERRORS as exc:
            self.failures[_kind(exc)] += 1
        except Exception as exc:
            self.failures[f"unclear:{type(exc).__name__}"] += 1
            if len(self.unclear) < 5:
                self.unclear.append(repr(exc))
        return FAILED

    def _count_served(self) -> None:
        """Tell the parent once this session has been served ``settings.served`` times."""
        self._served += 1
        if self._served == self.settings.served:
            self.emit({"ev": "served", "client": self.name, "t": now()})

    def stop(self) -> None:
        self.running = False
        self.change.notify()

    def record_bytes(self) -> int:
        """What the soak's own records of this client hold (they grow by design)."""
        arrays = [self.publications, *(a for at in self.attempts for a in at.received.values())]
        return sum(len(a) * a.itemsize for a in arrays) + 200 * len(self.attempts)

    def report(self) -> dict[str, Any]:
        pubs = self.publications
        return {
            "name": self.name,
            "role": self.role,
            "ops": dict(self.ops),
            "failures": dict(self.failures),
            "unclear": self.unclear,
            "publications": [
                [int(pubs[i]), pubs[i + 1], pubs[i + 2]] for i in range(0, len(pubs), 3)
            ],
            "invocations": self.invocations,
            "attempts": [a.report() for a in self.attempts],
        }


def _kind(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return exc.error
    return type(exc).__name__


def wire(component: Any, client: Client) -> None:
    """Attach ``client``'s role and listeners to a Component (either adapter's)."""
    component.on("connect", client.on_connect)
    component.on("ready", client.on_ready)
    component.on("disconnect", client.on_disconnect)
    if client.role == "callee":
        component.register(PROCEDURE, options=client.register_options())(client.echo)
    elif client.role == "subscriber":
        component.subscribe(TOPIC)(client.on_event)


def transports(url: str, serializer: str, fast_retry: float) -> list[dict[str, Any]]:
    """A Component's transports: retry for ever, quickly (the router comes back soon)."""
    kind = "rawsocket" if url.startswith("rs") else "websocket"
    return [
        {
            "type": kind,
            "url": url,
            "serializers": [serializer],
            "max_retries": -1,
            "initial_retry_delay": fast_retry,
            "max_retry_delay": 1.0,
            "retry_delay_growth": 1.5,
            "retry_delay_jitter": 0.1,
        }
    ]

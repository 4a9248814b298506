"""The Host interface: everything the shared client runtime asks of an adapter.

Two objects of an adapter serve it, as each has its own lifetime:

- :class:`Host` (a Protocol) is the connection's side, one per transport (wamp_anyio's
  ``Driver``, wamp_twisted's ``WampProtocol``): ``SessionCore`` asks it for futures,
  settles them, has it run invocations and deliver events, and hands it the
  session's lifecycle events.
- :class:`SessionHost` (an abstract base class) is the session's side, which outlives
  its transports (both adapters' ``Session``): ``SessionHooks`` asks it to run the
  hooks and answer a challenge, for the connection, the clock and the joined core,
  and how to return what ``register``/``subscribe`` made.

Both are generic over what differs between event loops: ``FutureT``, the future
``SessionCore`` hands out (wamp_anyio's ``Future``, a Twisted ``Deferred``), and
``RequestT``, what ``register``/``subscribe`` return to the application (wamp_anyio's
awaitable ``Request``, a ``Deferred``). mypy --strict checks each adapter against them:
``SessionCore(connection, host)`` takes a Host structurally, and an adapter's
``Session`` that lacks or mistypes a ``SessionHost`` method is an error. ``Any``
stays only where application payloads are arbitrary (call arguments, results).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeAlias, TypeVar

from wamp_core.events import Challenged, Joined, Left
from wamp_core.transports import TransportClosed, TransportOpened

if TYPE_CHECKING:  # core imports this module: its names only for annotations
    from wamp_core.application.core import SessionCore
    from wamp_core.application.shaping import Endpoint, Handler
    from wamp_core.connection import Connection
    from wamp_core.types import Challenge, CloseDetails

__all__ = ["FutureT", "HookName", "Host", "RequestT", "SessionEvent", "SessionHost"]

FutureT = TypeVar("FutureT")
RequestT = TypeVar("RequestT")

SessionEvent: TypeAlias = TransportOpened | Challenged | Joined | Left | TransportClosed
"""The events of a session's life, which the host turns into hook calls."""

HookName: TypeAlias = Literal["on_connect", "on_welcome", "on_join", "on_leave", "on_disconnect"]
"""The hooks ``SessionHooks.lifecycle_event`` runs through ``SessionHost._run_hook``."""


class Host(Protocol[FutureT]):
    """The connection's side of an adapter: what ``SessionCore`` calls."""

    def create_future(self) -> FutureT:
        """A new, unsettled future of the adapter's kind."""

    def resolve(self, future: FutureT, value: object) -> None:
        """Settle ``future`` with ``value`` (a no-op if it is settled already)."""

    def reject(self, future: FutureT, error: BaseException) -> None:
        """Fail ``future`` with ``error`` (a no-op if it is settled already)."""

    def flush(self) -> None:
        """What the connection queued must be written (now or very soon)."""

    def start_invocation(
        self, request_id: int, endpoint: Endpoint, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Run ``endpoint`` for INVOCATION ``request_id``; report back to the core."""

    def cancel_invocation(self, request_id: int) -> None:
        """INTERRUPT (or the session ended): stop that invocation, if it still runs."""

    def deliver_event(
        self, handler: Handler, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Give ``handler`` one event, after its earlier ones."""

    def drop_handler(self, handler: Handler) -> None:
        """No more events reach ``handler`` (its waiting ones are dropped)."""

    def session_event(self, event: SessionEvent) -> None:
        """The session's life went on (opened, challenged, joined, left, closed)."""

    def user_error(self, error: BaseException, text: str) -> None:
        """Application code raised where nobody awaits it."""


class SessionHost(ABC, Generic[FutureT, RequestT]):
    """The session's side of an adapter: what ``SessionHooks`` calls."""

    @abstractmethod
    def _run_hook(
        self, hook: Callable[..., object], name: HookName, *args: object, after_leave: bool = False
    ) -> None:
        """Run ``hook(*args)`` on its own (a task, a Deferred); what it raises goes to
        ``on_user_error``. ``after_leave``: start once ``on_leave`` has finished."""

    @abstractmethod
    def _run_challenge(self, challenge: Challenge) -> None:
        """Ask ``on_challenge`` and send its signature (or abort the join)."""

    @abstractmethod
    def _session_over(self, details: CloseDetails | None) -> None:
        """The session ended (``details``) or the transport closed (None)."""

    @abstractmethod
    def _connection(self) -> Connection | None:
        """The connection the session runs on, None when it has none."""

    @abstractmethod
    def _clock(self) -> float:
        """The adapter's clock (seconds), for the session's deadlines."""

    @abstractmethod
    def _flush(self) -> None:
        """Write what the session queued."""

    @abstractmethod
    def disconnect(self) -> None:
        """Close the transport (a session still open ends with TransportLost)."""

    @abstractmethod
    def _joined_core(self, what: str) -> SessionCore[FutureT]:
        """The SessionCore of a joined session (SessionNotReady naming ``what`` if not)."""

    @abstractmethod
    def _issue(self, make: Callable[[], list[FutureT]], many: bool) -> RequestT:
        """What register/subscribe return, from the futures ``make()`` creates: one,
        or (``many``) all of them together."""

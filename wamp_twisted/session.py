"""Session, ApplicationSession and ApplicationSessionFactory for Twisted.

Requests return Deferreds: ``call`` (``Deferred.cancel()`` sends CANCEL with
``session.cancel_mode``), ``register``, ``subscribe``, ``publish`` (a Deferred only
with ``acknowledge``). Hooks and handlers may be plain functions, inlineCallbacks
functions or coroutine functions (run with ``ensureDeferred``); an error nobody
waits for reaches ``on_user_error`` (``onUserError``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from wamp_core.application import SessionCore, SessionEvent
from wamp_core.application.hooks import AutobahnHooks, SessionHooks
from wamp_core.application.host import HookName
from wamp_core.connection import Connection
from wamp_core.exception import ApplicationError, SessionNotReady
from wamp_core.types import (
    CallOptions,
    Challenge,
    CloseDetails,
    ComponentConfig,
    PublishOptions,
    SessionDetails,
)
from wamp_twisted.protocol import RequestDeferred, WampProtocol, call_deferred

__all__ = ["ApplicationSession", "ApplicationSessionFactory", "Session"]

DEFAULT_CANCEL_MODE = "kill"

# A session's tables start as these shared empty ones and get their own at the first
# entry (only the places that add check; iterating or popping an empty one changes
# nothing): a session that never defines, leaves or runs a long hook owns none.
_EMPTY_LIST: list[Any] = []
_EMPTY_DICT: dict[Any, Any] = {}


class Session(SessionHooks[RequestDeferred, defer.Deferred[Any]]):
    """A WAMP session on Twisted; override the snake_case hooks."""

    log = Logger()

    def __init__(self, config: ComponentConfig | None = None):
        self.config = config or ComponentConfig(realm="realm1")
        self.cancel_mode = DEFAULT_CANCEL_MODE
        self.details: SessionDetails | None = None
        self._proto: WampProtocol[Session] | None = None
        self._pending_errors: list[tuple[type[BaseException], str | None]] = _EMPTY_LIST
        self._leave_waiters: list[defer.Deferred[CloseDetails]] = _EMPTY_LIST
        self._leave_done: defer.Deferred[Any] | None = None
        # running hooks -> canceled by us
        self._hooks: dict[defer.Deferred[Any], bool] = _EMPTY_DICT

    # ---- hooks (override; plain, inlineCallbacks or async)

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        """Application code raised where nobody waits for it (a handler, a hook)."""
        self.log.failure("{msg}", Failure(fail), msg=msg)  # type: ignore[no-untyped-call]

    # ---- state

    def _clock(self) -> float:
        return float(self._transport().reactor.seconds())

    def _flush(self) -> None:
        self._transport().pump()

    def _joined_core(self, what: str) -> SessionCore[RequestDeferred]:
        return self._joined(what).core

    def _issue(self, make: Callable[[], list[RequestDeferred]], many: bool) -> defer.Deferred[Any]:
        futures = make()
        return _all(futures) if many else futures[0]

    def _connection(self) -> Connection | None:
        return self._proto.connection if self._proto is not None else None

    def _transport(self) -> WampProtocol[Session]:
        if self._proto is None:
            raise SessionNotReady("the session has no transport")
        return self._proto

    def _joined(self, what: str) -> WampProtocol[Session]:
        proto = self._proto
        if proto is None or not proto.connection.session.is_joined:
            raise SessionNotReady(f"cannot {what}: the session is not joined")
        return proto

    # ---- actions

    def leave(
        self, reason: str | None = None, message: str | None = None
    ) -> defer.Deferred[CloseDetails]:
        """Send GOODBYE; the Deferred fires with the CloseDetails when the session ended."""
        proto = self._transport()
        done: defer.Deferred[CloseDetails] = defer.Deferred()
        if self._leave_waiters is _EMPTY_LIST:
            self._leave_waiters = []
        self._leave_waiters.append(done)
        proto.core.leave(reason, message)
        return done

    def disconnect(self) -> None:
        """Close the transport (a session still open ends with TransportLost)."""
        if self._proto is not None:
            self._proto.close()

    def define(self, exception: type[BaseException], error: str | None = None) -> None:
        """Map an exception class to an error URI, both ways (Autobahn's ``define``)."""
        if self._pending_errors is _EMPTY_LIST:
            self._pending_errors = []
        self._pending_errors.append((exception, error))
        if self._proto is not None:
            self._proto.core.define(exception, error)

    def call(
        self, procedure: str, *args: Any, options: CallOptions | None = None, **kwargs: Any
    ) -> defer.Deferred[Any]:
        """Send CALL; the Deferred gives the single result, a CallResult, or None.
        ``Deferred.cancel()`` sends CANCEL (mode ``self.cancel_mode``)."""
        # _joined() inlined: this is the hot path of a caller.
        proto = self._proto
        if proto is None or not proto.connection.session.is_joined:
            raise SessionNotReady("cannot call: the session is not joined")
        # The time matters only to a call with a timeout (its deadline); without
        # options the session keeps the time of the last bytes received.
        now = proto.reactor.seconds() if options is not None else None
        request_id, result = proto.core.call(procedure, args, kwargs, options, now)
        request: RequestDeferred = result
        request.call_id = request_id  # what its canceller needs
        mode = self.cancel_mode
        if mode != RequestDeferred.cancel_mode:  # the class attribute holds the default
            request.cancel_mode = mode
        return request

    def publish(
        self, topic: str, *args: Any, options: PublishOptions | None = None, **kwargs: Any
    ) -> defer.Deferred[Any] | None:
        """Publish; with ``PublishOptions(acknowledge=True)`` a Deferred of the Publication."""
        proto = self._joined("publish")
        result: defer.Deferred[Any] | None = proto.core.publish(topic, args, kwargs, options)
        return result

    # ---- what the protocol tells us (WampProtocol calls these; not for applications)

    def attach_protocol(self, proto: WampProtocol[Session]) -> None:
        self._proto = proto
        self.details = None
        self._leave_done = None
        for exception, error in self._pending_errors:
            proto.core.define(exception, error)

    def detach_protocol(self, proto: WampProtocol[Session]) -> None:
        if self._proto is proto:
            self._leave_waiters_fire(CloseDetails("wamp.close.transport_lost", None))
            self._end_hooks()

    def _end_hooks(self) -> None:
        """The transport closed: cancel what still runs of this session's hooks (an
        on_join awaiting forever), as wamp_anyio does; on_leave and on_disconnect
        are not tracked, they finish."""
        for running in list(self._hooks):
            self._hooks[running] = True
            running.cancel()

    def report_user_error(self, error: BaseException, text: str) -> None:
        try:
            self.on_user_error(error, text)
        except Exception:
            self.log.failure("on_user_error raised")

    def handle_session_event(self, event: SessionEvent) -> None:
        """Turn the core's session events into hook calls (wamp_core's one order)."""
        self.lifecycle_event(event)

    def _session_over(self, details: CloseDetails | None) -> None:
        if details is not None:
            self._leave_waiters_fire(details)

    def _leave_waiters_fire(self, details: CloseDetails) -> None:
        waiters, self._leave_waiters = self._leave_waiters, _EMPTY_LIST
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(details)

    def _run_hook(
        self, hook: Callable[..., object], name: HookName, *args: object, after_leave: bool = False
    ) -> None:
        after = self._leave_done
        if after_leave and after is not None and not after.called:
            # Autobahn's order: this one (on_disconnect) once on_leave has finished.
            after.addBoth(lambda _: self._start_hook(hook, name, args))
            return
        self._start_hook(hook, name, args)

    def _start_hook(
        self, hook: Callable[..., object], name: HookName, args: tuple[object, ...]
    ) -> None:
        running = call_deferred(hook, *args)
        if not running.called and name not in ("on_leave", "on_disconnect"):
            if self._hooks is _EMPTY_DICT:
                self._hooks = {}
            self._hooks[running] = False
            running.addBoth(self._hook_ended, running)
        done = running.addCallbacks(_nothing, self._hook_failed, errbackArgs=(name,))
        if name == "on_leave":
            self._leave_done = done

    def _hook_ended(self, result: Any, running: defer.Deferred[Any]) -> Any:
        canceled = self._hooks.pop(running, False)
        error = result.value if isinstance(result, Failure) else None
        if canceled and isinstance(error, defer.CancelledError):
            return None  # we canceled it as the transport closed: not an error
        return result

    def _hook_failed(self, failure: Failure, name: str) -> None:
        error = failure.value
        assert isinstance(error, BaseException)
        self.report_user_error(error, f"{name} raised")

    def _run_challenge(self, challenge: Challenge) -> None:
        proto = self._proto
        assert proto is not None
        session = proto.connection.session

        def answered(signature: Any) -> None:
            if session.in_session:
                # A string, or UTF-8 bytes (Autobahn's auth.compute_wcs gives bytes);
                # anything else raises, and failed() aborts the join.
                session.authenticate(signature)
                proto.pump()

        def failed(failure: Failure) -> None:
            error = failure.value
            assert isinstance(error, BaseException)
            self.report_user_error(error, "on_challenge raised")
            if session.in_session:
                session.abort(ApplicationError.AUTHENTICATION_FAILED, str(error))
                proto.pump()

        # failed() also takes what answered() raises: the join ends, it never hangs.
        call_deferred(self.on_challenge, challenge).addCallback(answered).addErrback(failed)


class ApplicationSession(AutobahnHooks[RequestDeferred, defer.Deferred[Any]], Session):
    """A WAMP session with Autobahn's camelCase callbacks (override ``onJoin`` & co.;
    plain functions, inlineCallbacks generators or coroutines)."""


class ApplicationSessionFactory:
    """Makes ApplicationSession instances for a runner (Autobahn's factory)."""

    session: type[Session] = ApplicationSession

    def __init__(self, config: ComponentConfig | None = None):
        self.config = config or ComponentConfig(realm="realm1")

    def __call__(self, *args: Any) -> Session:
        config = args[0] if args and isinstance(args[0], ComponentConfig) else self.config
        session = self.session(config)
        session.factory = self  # type: ignore[attr-defined]
        return session


def _nothing(_: Any) -> None:
    return None


def _all(futures: list[RequestDeferred]) -> defer.Deferred[list[Any]]:
    """One Deferred for several requests: their results in order, or the first error."""
    return defer.gatherResults(list(futures), consumeErrors=True).addErrback(_first_error)


def _first_error(failure: Failure) -> Failure:
    error = failure.value
    if isinstance(error, defer.FirstError):
        sub = error.subFailure
        assert isinstance(sub, Failure)
        return sub
    return failure

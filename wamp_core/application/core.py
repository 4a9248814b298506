"""SessionCore: everything of the Autobahn façade that Twisted and anyio do alike.

It sits on a Connection and keeps what the application waits for (one waiter per
request), the endpoints and event handlers, and the error mapping. It never waits.
It runs one kind of application code itself: an event handler the adapter has
marked with ``Handler.direct`` (wamp_anyio does so for a plain function after its
first event) is called right here, in order, with no adapter frame per event; what
it raises, or returns other than None, goes to that ``direct`` callback. Everything
else goes through the :class:`Host` (the adapter): it creates and settles its own
future type, runs endpoints (invocations) and the other handlers the framework's
way, and writes ``connection.data_to_send()`` to its socket when asked to ``flush``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic

from wamp_core.application.errors import ErrorMapper
from wamp_core.application.host import FutureT, Host
from wamp_core.application.shaping import (
    Endpoint,
    Handler,
    call_result,
    event_call,
    invocation_call,
    run_direct,
    yield_payload,
)
from wamp_core.connection import Connection
from wamp_core.events import (
    Challenged,
    Joined,
    Left,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationRemoved,
    RequestFailed,
    SubscriptionCreated,
    SubscriptionRemoved,
)
from wamp_core.exception import ApplicationError, SessionNotReady
from wamp_core.messages import Event, Interrupt, Invocation, Result
from wamp_core.request import Publication, Registration, Subscription
from wamp_core.transports import TransportClosed, TransportOpened
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

__all__ = ["SessionCore"]


def _ignore(*args: Any, **kwargs: Any) -> None:
    """on_progress for a call whose application did not ask for progress."""


# A call's waiter context when its CallOptions asked for ``details``: its results
# (progressive ones too) are CallResults with the callee's identity. Kept with the
# waiter, so a RESULT of any other call costs no look-up of its options.
_DETAILS = "details"

# Every table of a SessionCore starts as this one shared empty dict and gets a dict
# of its own at its first entry (the only places that add to them check): an idle
# session that never registers, subscribes or calls costs no dicts (issue 15).
# Reads, pops and clears need no check: on an empty dict they change nothing.
_EMPTY: dict[Any, Any] = {}


class SessionCore(Generic[FutureT]):
    """The façade's bookkeeping over one Connection; see the module docstring.
    ``FutureT`` is the host's future type."""

    def __init__(
        self, connection: Connection, host: Host[FutureT], errors: ErrorMapper | None = None
    ):
        self.connection = connection
        self.session = connection.session
        self.host = host
        self.errors = errors or ErrorMapper()
        # request id -> (future, context: the Endpoint, Handler or handle it is about)
        self._waiters: dict[int, tuple[FutureT, Any]] = _EMPTY
        self._endpoints: dict[int, Endpoint] = _EMPTY  # registration id -> endpoint
        self._handlers: dict[int, list[Handler]] = _EMPTY  # subscription id -> handlers
        self._on_progress: dict[int, Callable[..., Any]] = _EMPTY
        self._active_invocations: dict[int, bool] = _EMPTY
        # Set by a host while it is inside its own loop that writes whatever the
        # Connection has queued once the events are handled (wamp_twisted's pump): the
        # requests its callbacks make then need not ask it to flush, one by one.
        self.batching = False

    # ---- requests: each returns the future the application awaits

    def call(
        self,
        procedure: str,
        args: tuple[Any, ...] | list[Any],
        kwargs: dict[str, Any],
        options: CallOptions | None = None,
        now: float | None = None,
    ) -> tuple[int, FutureT]:
        """Send CALL; returns (request id, future of the result). (``now`` may come
        positionally: a compiled call parses keyword arguments the slow way.)"""
        request_id = self.session.call(
            procedure, list(args) or None, kwargs or None, options, now=now
        )
        details = None
        if options is not None:
            if options.on_progress is not None:
                if self._on_progress is _EMPTY:
                    self._on_progress = {}
                self._on_progress[request_id] = options.on_progress
            if options.details:
                details = _DETAILS
        return request_id, self._wait(request_id, details)

    def register(
        self, fn: Callable[..., Any], procedure: str, options: RegisterOptions | None = None
    ) -> FutureT:
        """Send REGISTER; the future gives a Registration."""
        request_id = self.session.register(procedure, options)
        return self._wait(request_id, Endpoint(fn, procedure, options))

    def subscribe(
        self,
        fn: Callable[..., Any],
        topic: str,
        options: SubscribeOptions | None = None,
        *,
        buffer: int | None = None,
    ) -> FutureT:
        """Send SUBSCRIBE; the future gives a Subscription (one per handler)."""
        request_id = self.session.subscribe(topic, options)
        return self._wait(request_id, Handler(fn, topic, options, buffer=buffer))

    def publish(
        self,
        topic: str,
        args: tuple[Any, ...] | list[Any],
        kwargs: dict[str, Any],
        options: PublishOptions | None = None,
    ) -> FutureT | None:
        """Send PUBLISH; with ``acknowledge`` the future gives a Publication, else None."""
        request_id = self.session.publish(topic, list(args) or None, kwargs or None, options)
        if options is not None and options.acknowledge:
            return self._wait(request_id, None)
        self._flush()
        return None

    def cancel(self, request_id: int, mode: str = "kill", *, abandon: bool = True) -> None:
        """The application canceled a call it was awaiting."""
        if request_id in self._waiters and self.session.cancel(request_id, mode, abandon=abandon):
            if abandon:
                self._waiters.pop(request_id, None)
                self._on_progress.pop(request_id, None)
            self._flush()

    def leave(self, reason: str | None = None, message: str | None = None) -> None:
        self.session.leave(reason or "wamp.close.normal", message)
        self._flush()

    def define(self, exception: type[BaseException], error: str | None = None) -> None:
        self.errors.define(exception, error)

    def _flush(self) -> None:
        if not self.batching:
            self.host.flush()

    def _wait(self, request_id: int, context: object) -> FutureT:
        future = self.host.create_future()
        waiters = self._waiters
        if waiters is _EMPTY:
            waiters = self._waiters = {}
        waiters[request_id] = (future, context)
        self._flush()
        return future

    # ---- handles

    def _unregister(self, registration: Registration) -> FutureT:
        if not self.session.is_joined:
            raise SessionNotReady("cannot unregister: the session is not joined")
        request_id = self.session.unregister(registration.id)
        return self._wait(request_id, registration)

    def _unsubscribe(self, subscription: Subscription) -> FutureT:
        handlers = self._handlers.get(subscription.id, [])
        remaining = [h for h in handlers if h.subscription is not subscription]
        for handler in handlers:
            if handler.subscription is subscription:
                self.host.drop_handler(handler)  # no more events reach it
        if remaining:  # other handlers keep the router subscription alive
            self._handlers[subscription.id] = remaining
            future = self.host.create_future()
            self.host.resolve(future, None)
            return future
        if not self.session.is_joined:
            raise SessionNotReady("cannot unsubscribe: the session is not joined")
        request_id = self.session.unsubscribe(subscription.id)
        return self._wait(request_id, subscription)

    # ---- what the session says

    def handle(self, events: list[Any]) -> None:
        """Route the Connection's events to waiters, endpoints, handlers and the host."""
        for event in events:
            kind = type(event)
            if kind is Event:
                self._event(event)
            elif kind is Result:
                self._result(event)
            elif kind is Invocation:
                self._invocation(event)
            else:
                self._other(event)

    def _event(self, event: Event) -> None:
        for handler in self._handlers.get(event.subscription_id, ()):
            args, kwargs = event_call(handler, event)
            outcome = handler.direct
            if outcome is None:
                self.host.deliver_event(handler, args, kwargs)
            else:
                run_direct(handler, args, kwargs, outcome)

    def _result(self, result: Result) -> None:
        request_id = result.request_id
        # The session checked that a progressive result is for a call that asked for
        # progress, which only a call with an on_progress does: no need to look at the
        # result's details while no such call is pending (the common case).
        if self._on_progress and result.progress:
            on_progress: Callable[..., Any] = self._on_progress.get(request_id, _ignore)
            waiter = self._waiters.get(request_id)
            try:
                if waiter is not None and waiter[1] is _DETAILS:
                    on_progress(call_result(result, True))
                else:
                    on_progress(*(result.args or ()), **(result.kwargs or {}))
            except Exception as exc:
                self.host.user_error(exc, "on_progress raised")
            return
        # Not dict.pop(key, None): compiled, that is a generic method call; these are not.
        if self._on_progress:
            self._on_progress.pop(request_id, None)
        waiters = self._waiters
        waiter = waiters.get(request_id)
        if waiter is not None:
            del waiters[request_id]
            self.host.resolve(waiter[0], call_result(result, waiter[1] is _DETAILS))

    def _invocation(self, invocation: Invocation) -> None:
        request_id = invocation.request_id
        if request_id in self._active_invocations:
            return  # a further chunk of a progressive call invocation: not supported by endpoints
        endpoint = self._endpoints[invocation.registration_id]
        progress = None
        if invocation.details.get("receive_progress") is True:
            progress = self._progress_sender(request_id)
        active = self._active_invocations
        if active is _EMPTY:
            active = self._active_invocations = {}
        active[request_id] = progress is not None
        args, kwargs = invocation_call(endpoint, invocation, progress)
        self.host.start_invocation(request_id, endpoint, args, kwargs)

    def _progress_sender(self, request_id: int) -> Callable[..., None]:
        def progress(*args: Any, **kwargs: Any) -> None:
            self.session.yield_result(request_id, args, kwargs, progress=True)
            self._flush()

        return progress

    def _other(self, event: Any) -> None:
        kind = type(event)
        if kind is RequestFailed:
            self._failed(event)
        elif kind is RegistrationCreated:
            self._registered(event)
        elif kind is SubscriptionCreated:
            self._subscribed(event)
        elif kind is RegistrationRemoved:
            self._removed_registration(event)
        elif kind is SubscriptionRemoved:
            self._removed_subscription(event)
        elif kind is PublishAcknowledged:
            future, _ = self._waiters.pop(event.request_id)
            self.host.resolve(future, Publication(event.publication_id))
        elif kind is Interrupt:
            self._active_invocations.pop(event.request_id, None)
            self.host.cancel_invocation(event.request_id)
        else:
            assert kind in (Joined, Left, Challenged, TransportOpened, TransportClosed), event
            if kind is Left:
                self._session_ended()
            self.host.session_event(event)

    def _failed(self, event: RequestFailed) -> None:
        self._on_progress.pop(event.request_id, None)
        waiter = self._waiters.pop(event.request_id, None)
        if waiter is None:
            return
        error: BaseException = event.error
        if isinstance(error, ApplicationError):
            error = self.errors.from_wire(error)
        self.host.reject(waiter[0], error)

    def _registered(self, event: RegistrationCreated) -> None:
        future, endpoint = self._waiters.pop(event.request_id)
        registration = Registration(
            self,
            event.registration_id,
            endpoint.procedure,
            endpoint.fn,
            on_unregister=self._unregister,
        )
        endpoint.registration = registration
        if self._endpoints is _EMPTY:
            self._endpoints = {}
        self._endpoints[event.registration_id] = endpoint
        self.host.resolve(future, registration)

    def _subscribed(self, event: SubscriptionCreated) -> None:
        future, handler = self._waiters.pop(event.request_id)
        subscription = Subscription(
            event.subscription_id, handler.topic, self, handler.fn, on_unsubscribe=self._unsubscribe
        )
        handler.subscription = subscription
        if self._handlers is _EMPTY:
            self._handlers = {}
        self._handlers.setdefault(event.subscription_id, []).append(handler)
        self.host.resolve(future, subscription)

    def _removed_registration(self, event: RegistrationRemoved) -> None:
        # The session only removes what it created, and so did we (at RegistrationCreated).
        registration = self._endpoints.pop(event.registration_id).registration
        assert registration is not None
        registration.deactivate()
        if event.request_id:
            future, _ = self._waiters.pop(event.request_id)
            self.host.resolve(future, None)

    def _removed_subscription(self, event: SubscriptionRemoved) -> None:
        for handler in self._handlers.pop(event.subscription_id, ()):
            assert handler.subscription is not None
            handler.subscription.deactivate()
            self.host.drop_handler(handler)
        if event.request_id:
            future, _ = self._waiters.pop(event.request_id)
            self.host.resolve(future, None)

    def _session_ended(self) -> None:
        """Left: the session forgot its registrations and subscriptions; so do we."""
        for endpoint in self._endpoints.values():
            assert endpoint.registration is not None
            endpoint.registration.deactivate()
        for handlers in self._handlers.values():
            for handler in handlers:
                assert handler.subscription is not None
                handler.subscription.deactivate()
                self.host.drop_handler(handler)
        self._endpoints.clear()
        self._handlers.clear()
        for request_id in list(self._active_invocations):
            self.host.cancel_invocation(request_id)
        self._active_invocations.clear()

    # ---- what endpoints say back

    def invocation_returned(self, request_id: int, value: Any) -> None:
        self._active_invocations.pop(request_id, None)
        args, kwargs = yield_payload(value)
        try:
            self.session.yield_result(request_id, args, kwargs)
        except Exception as exc:  # e.g. a result the serializer cannot carry
            self.host.user_error(exc, f"the result of invocation {request_id} cannot be sent")
            uri, eargs, ekwargs = self.errors.to_wire(exc)
            self.session.yield_error(request_id, uri, eargs, ekwargs)
        self._flush()

    def invocation_raised(self, request_id: int, error: BaseException) -> None:
        self._active_invocations.pop(request_id, None)
        uri, args, kwargs = self.errors.to_wire(error)
        try:
            self.session.yield_error(request_id, uri, args, kwargs)
        except Exception as exc:
            self.host.user_error(exc, f"the error of invocation {request_id} cannot be sent")
            self.session.yield_error(request_id, uri)
        self._flush()

    def invocation_canceled(self, request_id: int) -> None:
        """The endpoint's task was canceled (after an INTERRUPT): tell the caller."""
        self._active_invocations.pop(request_id, None)
        self.session.yield_error(request_id, ApplicationError.CANCELED)
        self._flush()

    def fail_waiters(self, error: BaseException) -> None:
        """Anything still awaited fails (the adapter's last word on a dead connection)."""
        waiters, self._waiters = self._waiters, _EMPTY
        for future, _ in waiters.values():
            self.host.reject(future, error)

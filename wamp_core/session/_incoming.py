"""What the router sends: one handler per message, each checking the message against
the session's state and pending requests. A handler raises ProtocolError when the
router broke the rules; ClientSession turns that into ABORT protocol_violation."""

from __future__ import annotations

import sys
from typing import Any

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
from wamp_core.exception import ApplicationError, AuthenticationError, ProtocolError
from wamp_core.messages import (
    Abort,
    Authenticate,
    Challenge,
    Error,
    Event,
    Goodbye,
    Interrupt,
    Invocation,
    Published,
    Registered,
    Result,
    Subscribed,
    Unregistered,
    Unsubscribed,
    Welcome,
)
from wamp_core.session._base import (
    CALL,
    EMPTY_DICT,
    KIND_NAMES,
    PUBLISH,
    REGISTER,
    SUBSCRIBE,
    UNREGISTER,
    UNSUBSCRIBE,
    ActiveInvocation,
    Pending,
    SessionState,
)
from wamp_core.session._requests import RequestsMixin

GOODBYE_AND_OUT = "wamp.close.goodbye_and_out"

# The router's roles from WELCOME, one dict per distinct announcement, shared by the
# sessions it welcomed: a router announces the same roles to every session, and each
# copy costs over a kilobyte per session. Bounded: past the limit it starts afresh.
_SHARED_ROLES: dict[str, dict[str, Any]] = {}
SHARED_ROLES_LIMIT = 16


def shared_roles(roles: dict[str, Any]) -> dict[str, Any]:
    """An equal dict seen before, or ``roles`` (remembered). The key is the repr: it
    tells apart every value a deserializer makes (str, bytes, int, float, bool, None,
    list, dict), which equality does not (1 == 1.0 == True)."""
    key = repr(roles)
    known = _SHARED_ROLES.get(key)
    if known is not None:
        return known
    if len(_SHARED_ROLES) >= SHARED_ROLES_LIMIT:
        _SHARED_ROLES.clear()
    _SHARED_ROLES[key] = roles
    return roles


def shared_text(value: Any) -> Any:
    """The interned copy of a string (anything else as it is)."""
    return sys.intern(value) if type(value) is str else value


class IncomingMixin(RequestsMixin):
    """Handlers for router messages, grouped by the phase of the session.

    One chain of single inheritance (SessionBase <- RequestsMixin <- IncomingMixin <-
    ClientSession) rather than two mixins side by side, because mypyc compiles only
    single inheritance.
    """

    # ---- opening

    def _on_welcome(self, msg: Welcome) -> None:
        details = msg.details
        authenticator = self._authenticator
        if authenticator is not None:
            try:
                authenticator.on_welcome(details.get("authextra") or {})
            except Exception as exc:  # AuthenticationError, or a misconfigured authenticator
                self._abort_auth(_auth_failure(exc))
                return
        self._set_state(SessionState.JOINED)
        self.session_id = msg.session_id
        roles = self.router_roles = shared_roles(msg.roles)
        self._authenticator = None
        # The names most sessions share are interned: the application keeps them (in
        # SessionDetails) for as long as the session lives (issue 15).
        self._events.append(
            Joined(
                msg.session_id,
                shared_text(details.get("realm", self.realm)),
                details.get("authid"),
                shared_text(details.get("authrole")),
                shared_text(details.get("authmethod")),
                shared_text(details.get("authprovider")),
                details.get("authextra") or {},
                roles,
            )
        )

    def _on_challenge(self, msg: Challenge) -> None:
        self._set_state(SessionState.AUTHENTICATING)
        authenticator = next((a for a in self.authenticators if a.authmethod == msg.method), None)
        if authenticator is None:
            self._events.append(Challenged(msg.method, msg.extra))
            return
        self._authenticator = authenticator
        try:
            signature, extra = authenticator.on_challenge(msg.extra, self.channel_id)
        except Exception as exc:  # AuthenticationError, or e.g. no channel binding data
            self._abort_auth(_auth_failure(exc))
            return
        self._send(Authenticate(signature, extra))

    def _abort_auth(self, text: str) -> None:
        """We cannot (or will not) authenticate: ABORT, as the spec says the client MUST."""
        self._send(Abort(ApplicationError.AUTHENTICATION_FAILED, {"message": text}))
        left = Left(ApplicationError.AUTHENTICATION_FAILED, text, by_router=False, aborted=True)
        self._end(left, SessionState.CLOSED)

    def _on_abort(self, msg: Abort) -> None:
        message = msg.message
        self._fail_all(
            lambda: (
                ApplicationError(msg.reason, message) if message else ApplicationError(msg.reason)
            )
        )
        self._end(Left(msg.reason, message, by_router=True, aborted=True), SessionState.CLOSED)

    # ---- closing

    def _on_goodbye(self, msg: Goodbye) -> None:
        """The router closes the session: echo GOODBYE and end."""
        self._send(Goodbye(GOODBYE_AND_OUT))
        message = msg.message
        self._fail_all(
            lambda: (
                ApplicationError(msg.reason, message) if message else ApplicationError(msg.reason)
            )
        )
        self._end(Left(msg.reason, message, by_router=True, aborted=False), SessionState.CLOSED)

    def _on_goodbye_reply(self, msg: Goodbye) -> None:
        """The router answered our GOODBYE (with any reason: Crossbar says wamp.close.normal)."""
        self._end(
            Left(msg.reason, msg.message, by_router=False, aborted=False), SessionState.CLOSED
        )

    # ---- answers to our requests

    def _take(self, request_id: int, kind: int, name: str) -> Pending:
        pending = self._pending.get(request_id)
        if pending is None or pending.kind != kind:
            raise ProtocolError(
                f"{name} for request {request_id}, which is no pending {KIND_NAMES[kind]}"
            )
        del self._pending[request_id]
        return pending

    def _on_error(self, msg: Error) -> None:
        request_id = msg.request_id
        pending = self._pending.get(request_id)
        if pending is None:
            if msg.request_type == CALL and request_id in self._settled:
                del self._settled[request_id]
                return
            raise ProtocolError(f"ERROR for request {request_id}, which is not pending")
        if msg.request_type != pending.kind:
            raise ProtocolError(
                f"ERROR of request type {msg.request_type} answers request {request_id},"
                f" which is a {KIND_NAMES[pending.kind]}"
            )
        del self._pending[request_id]
        self._events.append(RequestFailed(request_id, pending.kind, _application_error(msg)))

    def _on_result(self, msg: Result) -> None:
        request_id = msg.request_id
        pending = self._pending.get(request_id)
        if pending is None or pending.kind != CALL:
            if request_id in self._settled:
                if not msg.progress:
                    del self._settled[request_id]
                return
            raise ProtocolError(f"RESULT for request {request_id}, which is no pending CALL")
        if msg.progress:
            if not pending.receive_progress:
                raise ProtocolError(
                    f"progressive RESULT for call {request_id}, which did not ask for progress"
                )
            if pending.timeout is not None:  # the timeout applies per result interval
                pending.deadline = self.now + pending.timeout
                self._arm(pending.deadline, "call", request_id)
        else:
            del self._pending[request_id]
        self._events.append(msg)

    def _on_registered(self, msg: Registered) -> None:
        pending = self._take(msg.request_id, REGISTER, "REGISTERED")
        procedure = pending.uri or ""
        if self._registrations is EMPTY_DICT:
            self._registrations = {}
        self._registrations[msg.registration_id] = procedure
        self._events.append(RegistrationCreated(msg.request_id, msg.registration_id, procedure))

    def _on_unregistered(self, msg: Unregistered) -> None:
        if msg.revoked:
            details = msg.details or {}
            registration_id = details["registration"]
            if self._registrations.pop(registration_id, None) is None:
                raise ProtocolError(
                    f"revocation of registration {registration_id}, which we do not have"
                )
            self._events.append(RegistrationRemoved(0, registration_id, details.get("reason")))
            return
        pending = self._take(msg.request_id, UNREGISTER, "UNREGISTERED")
        registration_id = pending.target or 0
        self._registrations.pop(registration_id, None)
        self._events.append(RegistrationRemoved(msg.request_id, registration_id))

    def _on_subscribed(self, msg: Subscribed) -> None:
        pending = self._take(msg.request_id, SUBSCRIBE, "SUBSCRIBED")
        topic = pending.uri or ""
        if self._subscriptions is EMPTY_DICT:
            self._subscriptions = {}
        self._subscriptions[msg.subscription_id] = topic
        self._events.append(SubscriptionCreated(msg.request_id, msg.subscription_id, topic))

    def _on_unsubscribed(self, msg: Unsubscribed) -> None:
        if msg.revoked:
            details = msg.details or {}
            subscription_id = details["subscription"]
            if self._subscriptions.pop(subscription_id, None) is None:
                raise ProtocolError(
                    f"revocation of subscription {subscription_id}, which we do not have"
                )
            self._events.append(SubscriptionRemoved(0, subscription_id, details.get("reason")))
            return
        pending = self._take(msg.request_id, UNSUBSCRIBE, "UNSUBSCRIBED")
        subscription_id = pending.target or 0
        self._subscriptions.pop(subscription_id, None)
        self._events.append(SubscriptionRemoved(msg.request_id, subscription_id))

    def _on_published(self, msg: Published) -> None:
        self._take(msg.request_id, PUBLISH, "PUBLISHED")
        self._events.append(PublishAcknowledged(msg.request_id, msg.publication_id))

    # ---- what the router delivers to us

    def _on_event(self, msg: Event) -> None:
        if msg.subscription_id not in self._subscriptions:
            raise ProtocolError(
                f"EVENT for subscription {msg.subscription_id}, which we do not have"
            )
        self._events.append(msg)

    def _on_invocation(self, msg: Invocation) -> None:
        if msg.registration_id not in self._registrations:
            raise ProtocolError(
                f"INVOCATION of registration {msg.registration_id}, which we do not have"
            )
        request_id = msg.request_id
        details = msg.details
        active = self._invocations.get(request_id)
        if active is not None:
            if not active.progressive_input:
                raise ProtocolError(f"a second INVOCATION with request {request_id}")
            active.progressive_input = details.get("progress") is True
            self._events.append(msg)
            return
        if request_id <= self._max_invocation_id:
            # Routers number invocations upwards (Crossbar: one counter per realm, so
            # with gaps). An old id is a chunk of an ended progressive invocation,
            # which the spec says to drop, or a reused id.
            if "progress" in details:
                return
            raise ProtocolError(
                f"INVOCATION request {request_id} is not above"
                f" the last one ({self._max_invocation_id})"
            )
        self._max_invocation_id = request_id
        active = ActiveInvocation(
            msg.registration_id,
            receive_progress=details.get("receive_progress") is True,
            progressive_input=details.get("progress") is True,
        )
        timeout = details.get("timeout")
        if timeout:  # a forwarded call timeout: we must answer wamp.error.timeout
            # In seconds: what Crossbar.io forwards is what Autobahn's caller sent.
            active.deadline = self.now + timeout
            self._arm(active.deadline, "invocation", request_id)
        if self._invocations is EMPTY_DICT:
            self._invocations = {}
        self._invocations[request_id] = active
        self._events.append(msg)

    def _on_interrupt(self, msg: Interrupt) -> None:
        request_id = msg.request_id
        if request_id in self._invocations:
            self._events.append(msg)
        elif request_id > self._max_invocation_id:
            raise ProtocolError(f"INTERRUPT for request {request_id}, which was never invoked")
        # else: it crossed our answer on the wire; nothing is left to interrupt.


def _auth_failure(exc: Exception) -> str:
    text = str(exc)
    return text if isinstance(exc, AuthenticationError) else f"{type(exc).__name__}: {text}"


def _application_error(msg: Error) -> ApplicationError:
    """The ERROR as the exception the application sees; its kwargs stay untouched."""
    args: tuple[Any, ...] = tuple(msg.args or ()) if msg.payload is None else (msg.payload,)
    error = ApplicationError(msg.error, *args)
    error.kwargs = dict(msg.kwargs or {})
    error.enc_algo = msg.details.get("enc_algo")
    error.callee = msg.details.get("callee")
    error.callee_authid = msg.details.get("callee_authid")
    error.callee_authrole = msg.details.get("callee_authrole")
    error.forward_for = msg.details.get("forward_for")
    return error

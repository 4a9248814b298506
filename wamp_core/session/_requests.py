"""What the application asks of the session: each method checks its input, queues
the message and returns the request id. A misuse raises before anything is queued."""

from __future__ import annotations

from typing import Any, overload

from wamp_core.events import Left
from wamp_core.exception import ApplicationError, FeatureNotSupported, SessionNotReady
from wamp_core.messages import (
    Abort,
    Authenticate,
    Call,
    Cancel,
    Error,
    Goodbye,
    Hello,
    Publish,
    Register,
    Subscribe,
    Unregister,
    Unsubscribe,
    Yield,
)
from wamp_core.session._base import (
    CALL,
    EMPTY_DICT,
    IN_SESSION,
    INVOCATION,
    PUBLISH,
    REGISTER,
    SUBSCRIBE,
    UNREGISTER,
    UNSUBSCRIBE,
    Pending,
    SessionBase,
    SessionState,
)
from wamp_core.session._roles import CLIENT_ROLES
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions
from wamp_core.uri import validate_pattern, validate_uri
from wamp_core.vocabulary import CANCEL_MODES


def _payload(args: Any, kwargs: Any, what: str) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """Positional and keyword arguments as the wire wants them (lists, str keys)."""
    if args is not None and not isinstance(args, (list, tuple)):
        raise TypeError(f"{what}: args must be a list or tuple, not {type(args).__name__}")
    if kwargs is not None:
        if not isinstance(kwargs, dict):
            raise TypeError(f"{what}: kwargs must be a dict, not {type(kwargs).__name__}")
        if not all(type(key) is str for key in kwargs):
            raise TypeError(f"{what}: kwargs keys must be strings")
    return (list(args) if isinstance(args, tuple) else args), kwargs


class RequestsMixin(SessionBase):
    """Opening, closing, and the requests of the four client roles."""

    # ---- opening and closing

    def join(self, *, now: float | None = None) -> None:
        """Send HELLO. Allowed when no session is open (also again after leaving)."""
        self._tick(now)
        if self.transport_gone:
            raise SessionNotReady("cannot join: the transport is gone")
        if self.state is not SessionState.CLOSED:
            raise SessionNotReady(f"cannot join: the session is {self.state.value}")
        self._next_id = 1
        self._max_invocation_id = 0
        self._send(Hello(self.realm, self._hello_details()))
        self._set_state(SessionState.JOINING)

    def _hello_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"roles": CLIENT_ROLES, "agent": self.agent}
        methods = [a.authmethod for a in self.authenticators]
        methods += [m for m in self.authmethods if m not in methods]
        if methods:
            details["authmethods"] = methods
        authid = self.authid or next((a.authid for a in self.authenticators if a.authid), None)
        if authid is not None:
            details["authid"] = authid
        authrole = self.authrole or next(
            (a.authrole for a in self.authenticators if a.authrole), None
        )
        if authrole is not None:
            details["authrole"] = authrole
        extra: dict[str, Any] = {}
        for authenticator in self.authenticators:
            extra.update(authenticator.authextra())
        extra.update(self.authextra or {})
        if extra:
            details["authextra"] = extra
        return details

    @overload
    def authenticate(self, signature: str, extra: dict[str, Any] | None = None) -> None: ...

    @overload
    def authenticate(self, signature: bytes, extra: dict[str, Any] | None = None) -> None: ...

    def authenticate(self, signature: object, extra: dict[str, Any] | None = None) -> None:
        """Answer a CHALLENGE the application received as a ``Challenged`` event.

        ``signature`` may be bytes holding UTF-8 text, as Autobahn's ``auth.compute_wcs``
        returns it; bytes that are not UTF-8 raise ValueError (adapters then abort the
        join with ``wamp.error.authentication_failed``). The implementation takes any
        object because the adapters pass on whatever an ``on_challenge`` hook returned,
        and anything else gets a TypeError that says so (not the compiled build's
        generic argument check)."""
        if self.state is not SessionState.AUTHENTICATING:
            raise SessionNotReady(f"no challenge to answer: the session is {self.state.value}")
        if isinstance(signature, bytes):
            try:
                signature = signature.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("signature bytes are not UTF-8 text") from None
        if not isinstance(signature, str):
            raise TypeError(f"signature must be a string, not {type(signature).__name__}")
        self._send(Authenticate(signature, dict(extra or {})))

    def abort(self, reason: str, message: str | None = None) -> None:
        """End the session at once with ABORT (e.g. when a challenge cannot be answered)."""
        if self.state not in IN_SESSION:
            raise SessionNotReady(f"cannot abort: the session is {self.state.value}")
        validate_uri(reason, what="abort reason")
        self._send(Abort(reason, {} if message is None else {"message": message}))
        self._fail_all(
            lambda: ApplicationError(reason, message) if message else ApplicationError(reason)
        )
        self._end(Left(reason, message, by_router=False, aborted=True), SessionState.CLOSED)

    def leave(
        self,
        reason: str = "wamp.close.normal",
        message: str | None = None,
        *,
        now: float | None = None,
    ) -> None:
        """Send GOODBYE; the session ends when the router answers (or close_timeout passes).

        Pending requests fail now with ApplicationError(reason): after GOODBYE the
        router's answers to them are not processed.
        """
        now = self._tick(now)
        self._require_joined("leave")
        validate_uri(reason, what="close reason")
        details = {} if message is None else {"message": message}
        self._send(Goodbye(reason, details))
        self._set_state(SessionState.LEAVING)
        self._fail_all(
            lambda: ApplicationError(reason, message) if message else ApplicationError(reason)
        )
        self._leave_deadline = now + self.close_timeout
        self._arm(self._leave_deadline, "leave", 0)

    # ---- caller

    def call(
        self,
        procedure: str,
        args: list[Any] | tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        options: CallOptions | None = None,
        *,
        now: float | None = None,
    ) -> int:
        """Send CALL. ``options.timeout`` (seconds) goes to the router and is also a
        local deadline: the call then fails with ``wamp.error.timeout`` and is canceled."""
        now = self._tick(now)
        self._require_joined("call")
        self._validate_uri(procedure, "procedure")
        args, kwargs = _payload(args, kwargs, "call")
        if options is None:  # the common case: nothing to look up
            request_id = self._next_id
            self._send_request(Call(request_id, procedure, args, kwargs, {}))
            table = self._pending  # _add_pending inline: the hot path
            if table is EMPTY_DICT:
                table = self._pending = {}
            table[request_id] = Pending(CALL, procedure)
            return request_id
        wire = options.message_attr()
        self._check_passthru(wire, "dealer")
        if wire.get("progress") and not self._router_has("dealer", "progressive_call_invocations"):
            raise FeatureNotSupported("the router does not support progressive call invocations")
        request_id = self._next_id
        self._send_request(Call(request_id, procedure, args, kwargs, wire))
        timeout = options.timeout or None
        pending = Pending(
            CALL,
            procedure,
            receive_progress=wire.get("receive_progress") is True,
            timeout=timeout,
            progressive_input=wire.get("progress") is True,
        )
        self._add_pending(request_id, pending)
        if timeout is not None:
            pending.deadline = now + timeout
            self._arm(pending.deadline, "call", request_id)
        return request_id

    def call_progress(
        self,
        request_id: int,
        args: list[Any] | tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        final: bool = False,
    ) -> None:
        """Send another chunk of a progressive call invocation (``progress`` on the first CALL)."""
        self._require_joined("continue a call")
        pending = self._pending.get(request_id)
        if pending is None or pending.kind != CALL or not pending.progressive_input:
            raise ValueError(f"request {request_id} is not an open progressive call")
        args, kwargs = _payload(args, kwargs, "call_progress")
        options = {} if final else {"progress": True}
        self._send(Call(request_id, pending.uri or "", args, kwargs, options))
        pending.progressive_input = not final

    def cancel(self, request_id: int, mode: str = "kill", *, abandon: bool = False) -> bool:
        """Send CANCEL for a pending call; False if it is no longer pending.

        With ``abandon`` the application stops waiting: no event will end the call
        and the router's late answer is dropped (what a canceled future wants).
        """
        if mode not in CANCEL_MODES:
            raise ValueError(f"cancel mode must be one of {', '.join(CANCEL_MODES)}, not {mode!r}")
        pending = self._pending.get(request_id)
        if self.state is not SessionState.JOINED or pending is None or pending.kind != CALL:
            return False
        supported = self._router_has("dealer", "call_canceling")
        if not supported and not abandon:
            raise FeatureNotSupported("the router does not support call canceling")
        if supported:
            self._send(Cancel(request_id, {"mode": mode}))
        if abandon:
            del self._pending[request_id]
            self._settle(request_id)
        return True

    # ---- callee

    def register(self, procedure: str, options: RegisterOptions | None = None) -> int:
        """Send REGISTER (``options.match`` allows prefix and wildcard procedures)."""
        self._require_joined("register")
        wire = options.message_attr() if options is not None else {}
        validate_pattern(procedure, wire.get("match", "exact"), what="procedure")
        request_id = self._next_id
        self._send_request(Register(request_id, procedure, wire))
        self._add_pending(request_id, Pending(REGISTER, procedure))
        return request_id

    def unregister(self, registration_id: int) -> int:
        self._require_joined("unregister")
        if registration_id not in self._registrations:
            raise ValueError(f"no registration {registration_id} in this session")
        request_id = self._next_id
        self._send_request(Unregister(request_id, registration_id))
        self._add_pending(request_id, Pending(UNREGISTER, target=registration_id))
        return request_id

    def yield_result(
        self,
        request_id: int,
        args: list[Any] | tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        progress: bool = False,
        options: dict[str, Any] | None = None,
    ) -> bool:
        """Answer an invocation; False if it is no longer active (interrupted, timed
        out, or the session ended), so a late answer is dropped, not an error."""
        args, kwargs = _payload(args, kwargs, "yield")
        invocation = self._invocations.get(request_id)
        if self.state is not SessionState.JOINED or invocation is None:
            return False
        if progress and not invocation.receive_progress:
            raise ValueError(f"the caller of invocation {request_id} did not ask for progress")
        wire = dict(options or {})
        if progress:
            wire["progress"] = True
        self._send(Yield(request_id, args, kwargs, wire))
        if not progress:
            del self._invocations[request_id]
        return True

    def yield_error(
        self,
        request_id: int,
        error: str,
        args: list[Any] | tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> bool:
        """Answer an invocation with an ERROR; False if it is no longer active."""
        validate_uri(error, what="error")
        args, kwargs = _payload(args, kwargs, "error")
        if self.state is not SessionState.JOINED or request_id not in self._invocations:
            return False
        self._send(Error(INVOCATION, request_id, error, args, kwargs))
        del self._invocations[request_id]
        return True

    # ---- publisher and subscriber

    def publish(
        self,
        topic: str,
        args: list[Any] | tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        options: PublishOptions | None = None,
    ) -> int:
        """Send PUBLISH. Only with ``acknowledge`` does an event (or failure) answer it."""
        self._require_joined("publish")
        self._validate_uri(topic, "topic")
        args, kwargs = _payload(args, kwargs, "publish")
        wire = options.message_attr() if options is not None else {}
        self._check_passthru(wire, "broker")
        request_id = self._next_id
        self._send_request(Publish(request_id, topic, args, kwargs, wire))
        if wire.get("acknowledge") is True:
            self._add_pending(request_id, Pending(PUBLISH, topic))
        return request_id

    def subscribe(self, topic: str, options: SubscribeOptions | None = None) -> int:
        """Send SUBSCRIBE (``options.match`` allows prefix and wildcard topics)."""
        self._require_joined("subscribe")
        wire = options.message_attr() if options is not None else {}
        validate_pattern(topic, wire.get("match", "exact"), what="topic")
        request_id = self._next_id
        self._send_request(Subscribe(request_id, topic, wire))
        self._add_pending(request_id, Pending(SUBSCRIBE, topic))
        return request_id

    def unsubscribe(self, subscription_id: int) -> int:
        self._require_joined("unsubscribe")
        if subscription_id not in self._subscriptions:
            raise ValueError(f"no subscription {subscription_id} in this session")
        request_id = self._next_id
        self._send_request(Unsubscribe(request_id, subscription_id))
        self._add_pending(request_id, Pending(UNSUBSCRIBE, target=subscription_id))
        return request_id

    def _check_passthru(self, wire: dict[str, Any], role: str) -> None:
        # Sending ppt_* to a router that did not announce it is a protocol violation.
        if "ppt_scheme" in wire and not self._router_has(role, "payload_passthru_mode"):
            raise FeatureNotSupported("the router does not support payload passthru mode")

"""A realm: its sessions, broker, dealer, roles and meta API.

The realm is where every message of a joined session goes (:meth:`Realm.receive`);
what it sends goes straight to the receivers' peers. A message that a client may
not send in a joined session raises :class:`~wamp_core.exception.ProtocolError`
for the caller (the connection) to turn into ABORT; nothing else escapes.

Tables: ``sessions`` (id -> session), ``_by_authid`` and ``_by_authrole`` (for the
exclusion lists and the meta API), each session's testaments, and those of the
broker and dealer. When every session has left, all of them are empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wamp_core.exception import ApplicationError, ProtocolError
from wamp_core.messages import (
    Call,
    Cancel,
    Error,
    Invocation,
    Message,
    Publish,
    Register,
    Result,
    Subscribe,
    Unregister,
    Unsubscribe,
    Yield,
)
from wamp_core.router._ids import RandomIds
from wamp_core.router.authorization import TRUSTED, RoleSet
from wamp_core.router.authorizer import Authorizer
from wamp_core.router.broker import Broker
from wamp_core.router.dealer import Dealer
from wamp_core.router.meta import META_PROCEDURES, Testament
from wamp_core.router.session import EncodingCache, RouterSession

__all__ = ["Realm"]


class Realm:
    """One realm of the router. ``timestamp`` gives the wall-clock time as the meta
    API shows it (the host's clock, passed in); ``ids`` draws session-independent
    random ids (publications, subscriptions, registrations)."""

    def __init__(
        self,
        name: str,
        roles: RoleSet,
        ids: RandomIds,
        *,
        timestamp: Callable[[], str],
        clock: Callable[[], float],
        max_retained: int = 10_000,
        max_testaments: int = 100,
    ) -> None:
        self.name = name
        self._clock = clock
        self._internal: RouterSession | None = None
        self._answers: dict[int, InternalAnswer] = {}
        self.roles = roles
        self.ids = ids
        self.sessions: dict[int, RouterSession] = {}
        self._by_authid: dict[str, dict[int, RouterSession]] = {}
        self._by_authrole: dict[str, dict[int, RouterSession]] = {}
        self.testaments: dict[int, list[Testament]] = {}
        self.max_testaments = max_testaments
        self.authorize = Authorizer(roles, self.internal_call, self.sessions, self._call_in_flight)
        self.broker = Broker(
            self.authorize, ids, self._meta_publish, now=timestamp, max_retained=max_retained
        )
        self.dealer = Dealer(self.authorize, ids, self._meta_publish, now=timestamp)

    def __repr__(self) -> str:
        return f"Realm({self.name!r}, sessions={len(self.sessions)})"

    # -- sessions ---------------------------------------------------------------------

    def join(self, session: RouterSession) -> None:
        """Add a session that the acceptor welcomed (its WELCOME is already queued)."""
        self.sessions[session.id] = session
        self._by_authid.setdefault(session.authid, {})[session.id] = session
        self._by_authrole.setdefault(session.authrole, {})[session.id] = session
        self._meta_publish("wamp.session.on_join", [session.details()], exclude=session.id)

    def leave(self, session: RouterSession) -> None:
        """Remove a session, however it ended: its testaments are published, its calls
        failed or interrupted, its subscriptions and registrations dropped."""
        if self.sessions.get(session.id) is not session:
            return
        for testament in self.testaments.pop(session.id, []):
            self.broker.publish(session, testament.message)
        self.authorize.forget(session)
        del self.sessions[session.id]
        _remove(self._by_authid, session.authid, session.id)
        _remove(self._by_authrole, session.authrole, session.id)
        self.dealer.remove_session(session)
        self.broker.remove_session(session)
        args = [session.id, session.authid, session.authrole]
        self._meta_publish("wamp.session.on_leave", args)

    def sessions_by_authid(self, authid: str) -> list[RouterSession]:
        return list(self._by_authid.get(authid, {}).values())

    def sessions_by_authrole(self, authrole: str) -> list[RouterSession]:
        return list(self._by_authrole.get(authrole, {}).values())

    def is_empty(self) -> bool:
        """Whether the realm holds nothing of any session."""
        return not (
            self.sessions
            or self._by_authid
            or self._by_authrole
            or self.testaments
            or not self.authorize.is_empty()
            or not self.broker.is_empty()
            or not self.dealer.is_empty()
        )

    # -- messages ---------------------------------------------------------------------

    def receive(self, session: RouterSession, message: Message, now: float) -> None:
        """One message of a joined session (not GOODBYE: the connection handles that).
        A session of a dynamic role may have to wait for its authorizer first."""
        if self.authorize.decides_at_once(session):
            self._dispatch(session, message, now)
        else:
            self.authorize.receive(session, message, now, self._dispatch)

    def _call_in_flight(self, session: RouterSession, request_id: int) -> bool:
        return self.dealer.in_flight(session, request_id)  # the dealer comes after the authorizer

    def _dispatch(self, session: RouterSession, message: Message, now: float) -> None:
        kind = type(message)
        if kind is Publish:
            self.broker.publish(session, message)  # type: ignore[arg-type]
        elif kind is Call:
            self._call(session, message, now)  # type: ignore[arg-type]
        elif kind is Yield:
            self.dealer.yield_(session, message)  # type: ignore[arg-type]
        elif kind is Subscribe:
            self.broker.subscribe(session, message)  # type: ignore[arg-type]
        elif kind is Unsubscribe:
            self.broker.unsubscribe(session, message)  # type: ignore[arg-type]
        elif kind is Register:
            self.dealer.register(session, message)  # type: ignore[arg-type]
        elif kind is Unregister:
            self.dealer.unregister(session, message)  # type: ignore[arg-type]
        elif kind is Cancel:
            self.dealer.cancel(session, message)  # type: ignore[arg-type]
        elif kind is Error and message.request_type == Invocation.CODE:  # type: ignore[attr-defined]
            self.dealer.invocation_error(session, message)  # type: ignore[arg-type]
        else:
            raise ProtocolError(f"a client does not send {message.NAME} in an established session")

    def next_deadline(self) -> float | None:
        return self.dealer.next_deadline()

    def handle_timer(self, now: float) -> None:
        self.dealer.handle_timer(now)

    # -- the router's own calls ---------------------------------------------------------

    def internal_call(
        self, procedure: str, args: list[Any], answered: InternalAnswer, timeout: float = 30.0
    ) -> None:
        """Call ``procedure`` as the router's trusted session (a dynamic authenticator);
        ``answered(args, None, "")`` or ``answered(None, error_uri, text)`` follows, at
        the latest when ``timeout`` (seconds) has passed."""
        if self._internal is None:
            peer = _InternalPeer(self._answers)
            session_id = self.ids.unique(self.sessions)
            self._internal = RouterSession(
                session_id, self.name, peer, authid="router", authrole=TRUSTED
            )
        request_id = self._internal.request_ids.next()
        self._answers[request_id] = answered
        call = Call(request_id, procedure, args, options={"timeout": timeout})
        self._call(self._internal, call, self._clock())

    # -- the meta API -----------------------------------------------------------------

    def _call(self, session: RouterSession, message: Call, now: float) -> None:
        procedure = META_PROCEDURES.get(message.procedure)
        if procedure is None:
            self.dealer.call(session, message, now)
            return
        if self.authorize.decide(session, message.procedure, "call") is None:
            text = f"session is not authorized to call procedure {message.procedure!r}"
            session.peer.send(
                Error(Call.CODE, message.request_id, ApplicationError.NOT_AUTHORIZED, [text])
            )
            return
        try:
            value = procedure(self, session, *(message.args or ()), **(message.kwargs or {}))
        except ApplicationError as error:
            session.peer.send(
                Error(Call.CODE, message.request_id, error.error, list(error.args), error.kwargs)
            )
        except TypeError as error:  # arguments that do not fit the procedure
            session.peer.send(
                Error(
                    Call.CODE, message.request_id, ApplicationError.INVALID_ARGUMENT, [str(error)]
                )
            )
        else:
            session.peer.send(Result(message.request_id, [] if value is None else [value]))

    def _meta_publish(self, topic: str, args: list[Any], exclude: int | None = None) -> None:
        self.broker.publish_internal(topic, args, exclude)


InternalAnswer = Callable[[list[Any] | None, str | None, str], None]


class _InternalPeer:
    """The peer of the router's own session: RESULT and ERROR go to the waiting callback."""

    def __init__(self, answers: dict[int, InternalAnswer]) -> None:
        self._answers = answers

    def send(self, message: Message) -> None:
        # Only RESULT and ERROR come here (the session subscribes and registers nothing),
        # each once per call: the dealer ends a call as it sends either.
        if type(message) is Result:
            self._answers.pop(message.request_id)(message.args or [], None, "")
        elif type(message) is Error:
            args = message.args or []
            text = args[0] if args and isinstance(args[0], str) else message.error
            self._answers.pop(message.request_id)(None, message.error, text)

    def send_shared(self, message: Message, cache: EncodingCache) -> None:
        self.send(message)

    def kill(self, reason: str, message: str | None) -> None:
        """The router's own session is never killed (it is not listed in the realm)."""

    def fail(self, error: ProtocolError) -> None:
        """Its messages are the router's own: they break no rule."""


def _remove(index: dict[str, dict[int, RouterSession]], key: str, session_id: int) -> None:
    group = index[key]
    del group[session_id]
    if not group:
        del index[key]

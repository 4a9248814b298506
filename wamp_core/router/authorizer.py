"""Deciding actions: static roles at once, dynamic roles by asking their authorizer.

A dynamic role (``Role(name, authorizer=URI)``, Crossbar.io's ``"authorizer"``) has each
PUBLISH, SUBSCRIBE, CALL and REGISTER decided by a procedure called as the router's
own session: ``authorizer(session_details, uri, action, options)``, answering ``True``
/ ``False`` or ``{"allow": bool, "disclose": bool, "cache": bool}``. An error, a
timeout or an answer of another shape denies. While a session waits for a decision,
its later messages wait behind it (their order is kept; at most ``max_waiting``, past
that the session is in violation); a decision with ``cache`` is remembered for that
session and URI (at most ``max_cached`` per session).

A decision that is needed where nothing can wait (a testament published as the
session leaves) and is not cached denies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wamp_core.exception import ProtocolError
from wamp_core.messages import Call, Message, Publish, Register, Subscribe
from wamp_core.router.authorization import Action, Permission, RoleSet
from wamp_core.router.session import RouterSession

__all__ = ["Authorizer"]

Dispatch = Callable[[RouterSession, Message, float], None]
InternalCall = Callable[[str, list[Any], Callable[[list[Any] | None, str | None, str], None]], None]
_Question = tuple[str, Action]


class Authorizer:
    """What the realm's broker and dealer ask before acting (:meth:`decide`), and the
    queue of messages waiting for a dynamic role's authorizer."""

    def __init__(
        self,
        roles: RoleSet,
        call: InternalCall,
        sessions: Mapping[int, RouterSession],
        in_flight: Callable[[RouterSession, int], bool],
        *,
        max_waiting: int = 1000,
        max_cached: int = 1000,
    ) -> None:
        self._roles = roles
        self._dynamic = roles.dynamic
        self._call = call
        self._sessions = sessions
        self._in_flight = in_flight  # whether a CALL continues a progressive call
        self.max_waiting = max_waiting
        self.max_cached = max_cached
        self._cache: dict[int, dict[_Question, Permission | None]] = {}
        self._waiting: dict[int, list[tuple[Message, float]]] = {}
        self._current: tuple[int, _Question, Permission | None] | None = None

    def decide(self, session: RouterSession, uri: str, action: Action) -> Permission | None:
        """The permission for ``session`` to do ``action`` on ``uri``, or None (denied).
        A method, not a callable object: compiled, the broker and dealer call it
        directly."""
        if session.authrole not in self._dynamic:
            return self._roles.allows(session.authrole, uri, action)
        current = self._current
        if current is not None and current[0] == session.id and current[1] == (uri, action):
            return current[2]
        return self._cache.get(session.id, {}).get((uri, action))

    def is_empty(self) -> bool:
        return not (self._cache or self._waiting)

    def forget(self, session: RouterSession) -> None:
        self._cache.pop(session.id, None)
        self._waiting.pop(session.id, None)

    def decides_at_once(self, session: RouterSession) -> bool:
        """Whether every message of ``session`` may be dispatched as it comes (its role
        is static, so nothing of it ever waits): the realm's fast path."""
        return session.authrole not in self._dynamic

    def receive(
        self, session: RouterSession, message: Message, now: float, dispatch: Dispatch
    ) -> None:
        """Dispatch ``message`` of a session of a dynamic role once it may be decided
        (at once, for most); a static role's session never waits (decides_at_once)."""
        waiting = self._waiting.get(session.id)
        if waiting is None:
            self._process(session, message, now, dispatch)
        elif len(waiting) >= self.max_waiting:
            raise ProtocolError(f"more than {self.max_waiting} messages wait for authorization")
        else:
            waiting.append((message, now))

    def _process(
        self, session: RouterSession, message: Message, now: float, dispatch: Dispatch
    ) -> bool:
        """Dispatch now (True), or ask the authorizer and keep the message (False)."""
        question = self._question(session, message)
        if question is None:
            dispatch(session, message, now)
            return True
        cached = self._cache.get(session.id, {})
        if question in cached:
            self._replay(session, message, now, dispatch, question, cached[question])
            return True
        self._waiting[session.id] = [(message, now)]
        self._ask(session, message, question, dispatch)
        return False

    def _question(self, session: RouterSession, message: Message) -> _Question | None:
        """What to ask about a message of a session of a dynamic role (None: nothing)."""
        kind = type(message)
        if kind is Publish:
            return message.topic, "publish"  # type: ignore[attr-defined]
        if kind is Subscribe:
            return message.topic, "subscribe"  # type: ignore[attr-defined]
        if kind is Register:
            return message.procedure, "register"  # type: ignore[attr-defined]
        if kind is Call and not self._in_flight(session, message.request_id):  # type: ignore[attr-defined]
            return message.procedure, "call"  # type: ignore[attr-defined]
        return None

    def _ask(
        self, session: RouterSession, message: Message, question: _Question, dispatch: Dispatch
    ) -> None:
        role = self._roles.roles[session.authrole]
        assert role.authorizer is not None
        uri, action = question
        options = dict(getattr(message, "options", {}))

        def answered(result: list[Any] | None, error: str | None, text: str) -> None:
            if self._sessions.get(session.id) is not session:
                return  # it left meanwhile (forget() dropped what waited)
            decision, cache = _decision(uri, action, None if error else result)
            if cache:
                mine = self._cache.setdefault(session.id, {})
                if len(mine) >= self.max_cached:
                    mine.clear()
                mine[question] = decision
            self._resume(session, question, decision, dispatch)

        self._call(role.authorizer, [session.details(), uri, action, options], answered)

    def _resume(
        self,
        session: RouterSession,
        question: _Question,
        decision: Permission | None,
        dispatch: Dispatch,
    ) -> None:
        waiting = self._waiting.pop(session.id)
        first, now = waiting[0]
        rest = waiting[1:]
        # The first message asked the question: an action that, decided, breaks no rule.
        self._replay(session, first, now, dispatch, question, decision)
        try:
            for index, (message, when) in enumerate(rest):
                if self._sessions.get(session.id) is not session:
                    return  # dispatching ended the session (a cut-off)
                if not self._process(session, message, when, dispatch):
                    self._waiting[session.id].extend(rest[index + 1 :])
                    return
        except ProtocolError as error:
            # Found late, while another connection (the authorizer's) is being served:
            # it is still this session's violation.
            self.forget(session)
            session.peer.fail(error)

    def _replay(
        self,
        session: RouterSession,
        message: Message,
        now: float,
        dispatch: Dispatch,
        question: _Question,
        decision: Permission | None,
    ) -> None:
        self._current = (session.id, question, decision)
        try:
            dispatch(session, message, now)
        finally:
            self._current = None


def _decision(uri: str, action: Action, result: list[Any] | None) -> tuple[Permission | None, bool]:
    """(the permission or None, whether to cache it) from the authorizer's RESULT."""
    answer = result[0] if result else None
    if type(answer) is bool:
        allow, disclose, cache = answer, False, False
    elif isinstance(answer, dict) and type(answer.get("allow")) is bool:
        allow = answer["allow"]
        disclose = answer.get("disclose") is True
        cache = answer.get("cache") is True
    else:
        return None, False  # an error, or an answer of no known shape: deny
    if not allow:
        return None, cache
    permission = Permission(uri, "exact", frozenset((action,)), disclose, disclose, cache)
    return permission, cache

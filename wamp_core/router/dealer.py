"""The dealer: registrations, calls, invocations (``basic/rpc.md``, and the Advanced
Profile's pattern-based and shared registrations, progressive call results and
invocations, call canceling, call timeouts, caller identification, payload passthru
registration revocation, and Crossbar.io's ``force_reregister`` and callee
``concurrency`` register options).

Tables, all cleaned up as calls end and sessions go:

* ``_matcher``: ``(uri, match) -> Registration``; ``_by_id``: id -> Registration;
  ``_routes``: procedure -> the registration ``_matcher`` resolved it to (a cache:
  emptied whenever a registration is created or deleted, bounded);
  ``_of_session``: callee session id -> its registration ids;
* the calls in flight, on their sessions: ``RouterSession.calls`` (the caller's, by
  CALL request id) and ``RouterSession.invocations`` (the callee's, by INVOCATION
  request id); a look-up is one dict look-up, and a session's calls are at hand
  when it leaves; ``_in_flight_count`` counts them;
* ``_deadlines``: a heap of ``(deadline, sequence, call)``; entries whose call
  has ended are dropped when they come up or when the heap holds twice the calls.

Where Crossbar.io and the spec differ, we do as Crossbar.io (docs/architecture.md):
``CALL.Options.timeout`` is in seconds, and a call that times out or whose callee
leaves ends with ERROR ``wamp.error.canceled``.

``REGISTER.Options.force_reregister`` (Crossbar.io's ``processRegister``): once the
REGISTER is authorized, an existing registration of the same URI and match policy is
taken from all its callees (UNREGISTERED with request 0, ``registration`` and
``reason`` ``wamp.error.unregistered``; no ``on_unregister``/``on_delete`` meta events,
as Crossbar.io publishes none for them) and the new callee gets a new registration,
whatever the invocation policies. Invocations in flight on the old callees go on:
their answers still reach the callers.

``REGISTER.Options.concurrency`` (Crossbar.io's ``_call``): at most that many
invocations of the registration in flight on that callee; a call that finds no room
ends with ERROR ``crossbar.error.max_concurrency_reached``. single, first and last
look at the one callee they pick; roundrobin goes on to the next callee with room;
random draws among the callees with room (Crossbar.io does not limit random). A call
counts until it ends (its final YIELD, ERROR, a cancel that ends it, its timeout,
either side leaving). Registrations without limits take the same path as before.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any

from wamp_core.exception import ProtocolError
from wamp_core.messages import (
    Call,
    Cancel,
    Error,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Result,
    Unregister,
    Unregistered,
    Yield,
)
from wamp_core.router._ids import RandomIds
from wamp_core.router.authorizer import Authorizer
from wamp_core.router.broker import MAX_ROUTES, MetaPublish, match_policy
from wamp_core.router.broker import PASSTHRU as _PASSTHRU
from wamp_core.router.session import RouterSession
from wamp_core.uri import MatchPolicy, UriMatcher

__all__ = ["CANCELED", "Dealer", "Registration"]

CANCELED = "wamp.error.canceled"
NOT_AUTHORIZED = "wamp.error.not_authorized"
NO_SUCH_PROCEDURE = "wamp.error.no_such_procedure"
NO_SUCH_REGISTRATION = "wamp.error.no_such_registration"
ALREADY_EXISTS = "wamp.error.procedure_already_exists"
MAX_CONCURRENCY = "crossbar.error.max_concurrency_reached"
KICKED = "wamp.error.unregistered"
OTHER_POLICY = "wamp.error.procedure_exists_with_different_invocation_policy"
INVALID_URI = "wamp.error.invalid_uri"


class _Slot:
    """A callee's ``concurrency`` on one registration, and its calls in flight there."""

    __slots__ = ("current", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.current = 0

    def full(self) -> bool:
        return self.current >= self.limit


class Registration:
    """One procedure pattern, its invocation policy and its callees (in order)."""

    __slots__ = ("callees", "created", "id", "invoke", "limits", "match", "next_index", "uri")

    def __init__(
        self, registration_id: int, uri: str, match: MatchPolicy, invoke: str, created: str
    ) -> None:
        self.id = registration_id
        self.uri = uri
        self.match = match
        self.invoke = invoke
        self.created = created
        self.callees: list[RouterSession] = []
        self.next_index = 0  # roundrobin's next callee
        # Callee session id -> its concurrency slot, for callees that set one (most none).
        self.limits: dict[int, _Slot] = {}

    def details(self) -> dict[str, Any]:
        """As the meta API describes it."""
        return {
            "id": self.id,
            "created": self.created,
            "uri": self.uri,
            "match": self.match,
            "invoke": self.invoke,
        }


class _Call:
    """A call in flight: one caller's request, one callee's invocation."""

    __slots__ = (
        "callee",
        "caller",
        "invocation_id",
        "killed",
        "open_input",
        "progress",
        "registration_id",
        "request_id",
        "slot",
    )

    def __init__(
        self,
        caller: RouterSession,
        request_id: int,
        callee: RouterSession,
        invocation_id: int,
        registration_id: int,
        slot: _Slot | None,
        *,
        progress: bool,
        open_input: bool,
    ) -> None:
        self.caller = caller
        self.request_id = request_id
        self.callee = callee
        self.invocation_id = invocation_id
        self.registration_id = registration_id
        self.slot = slot  # the callee's concurrency slot, if it set one
        self.progress = progress  # the caller takes progressive results
        self.open_input = open_input  # the caller will send more CALLs (progressive input)
        self.killed = False  # canceled with mode "kill": the callee's answer ends it


class Dealer:
    """Routes calls of one realm. ``meta`` publishes the meta API's events."""

    def __init__(
        self, authorize: Authorizer, ids: RandomIds, meta: MetaPublish, *, now: Callable[[], str]
    ) -> None:
        self._authorize = authorize
        self._ids = ids
        self._meta = meta
        self._now = now
        self._matcher: UriMatcher[Registration] = UriMatcher()
        self._routes: dict[str, Registration | None] = {}
        self._by_id: dict[int, Registration] = {}
        self._of_session: dict[int, set[int]] = {}
        self._in_flight_count = 0
        self._deadlines: list[tuple[float, int, _Call]] = []
        self._sequence = 0

    # -- what the meta API and tests read ---------------------------------------------

    @property
    def registrations(self) -> Mapping[int, Registration]:
        return self._by_id

    def lookup(self, uri: str, match: str) -> Registration | None:
        return self._matcher.get(uri, match)

    def best_match(self, uri: str) -> Registration | None:
        return self._matcher.resolve(uri)

    def in_flight(self, session: RouterSession, request_id: int) -> bool:
        """Whether ``session`` has a call with ``request_id`` in flight."""
        return request_id in session.calls

    @property
    def calls_in_flight(self) -> int:
        return self._in_flight_count

    def is_empty(self) -> bool:
        """Whether nothing of any session is left."""
        return not (
            self._by_id
            or self._of_session
            or self._in_flight_count
            or self._deadlines
            or len(self._matcher)
        )

    # -- REGISTER / UNREGISTER --------------------------------------------------------

    def register(self, session: RouterSession, message: Register) -> None:
        uri, match = message.procedure, match_policy(message.match)
        options = message.options
        invoke = options.get("invoke", "single")
        force = options.get("force_reregister") is True
        failure = self._refuse_register(session, uri, match, invoke, force=force)
        if failure is not None:
            session.peer.send(Error(Register.CODE, message.request_id, failure[0], [failure[1]]))
            return
        registration = self._matcher.get(uri, match)
        kicked: list[RouterSession] = []
        kicked_id = 0
        if registration is not None and force:
            kicked, kicked_id = self._delete(registration), registration.id
            registration = None
        created = registration is None
        if registration is None:
            registration_id = self._ids.unique(self._by_id)
            registration = Registration(registration_id, uri, match, invoke, self._now())
            self._matcher.add(uri, match, registration)
            self._routes.clear()
            self._by_id[registration.id] = registration
        registration.callees.append(session)
        concurrency = options.get("concurrency")
        if concurrency is not None:
            registration.limits[session.id] = _Slot(concurrency)
        self._of_session.setdefault(session.id, set()).add(registration.id)
        # The tables are settled before anything is sent: a send may cut a slow peer
        # off, and its leaving then finds them consistent.
        for callee in kicked:
            if callee.has_feature("callee", "registration_revocation"):
                details = {"registration": kicked_id, "reason": KICKED}
                callee.peer.send(Unregistered(0, details))
        session.peer.send(Registered(message.request_id, registration.id))
        if created:
            self._meta("wamp.registration.on_create", [session.id, registration.details()])
        self._meta("wamp.registration.on_register", [session.id, registration.id])

    def _refuse_register(
        self, session: RouterSession, uri: str, match: str, invoke: str, *, force: bool
    ) -> tuple[str, str] | None:
        if uri.startswith("wamp."):
            return INVALID_URI, f"register for restricted procedure URI {uri!r}"
        if self._authorize.decide(session, uri, "register") is None:
            return NOT_AUTHORIZED, f"session is not authorized to register procedure {uri!r}"
        existing = self._matcher.get(uri, match)
        if existing is None or force:
            return None
        if "single" in (invoke, existing.invoke) or session in existing.callees:
            return ALREADY_EXISTS, f"register for already registered procedure {uri!r}"
        if invoke != existing.invoke:
            return OTHER_POLICY, (
                f"procedure {uri!r} is registered with invocation policy {existing.invoke!r}"
            )
        return None

    def unregister(self, session: RouterSession, message: Unregister) -> None:
        registration = self._by_id.get(message.registration_id)
        if registration is None or session not in registration.callees:
            text = f"no registration {message.registration_id} of this session"
            session.peer.send(
                Error(Unregister.CODE, message.request_id, NO_SUCH_REGISTRATION, [text])
            )
            return
        session.peer.send(Unregistered(message.request_id))
        self._remove_callee(session, registration)

    def revoke(self, session_id: int, registration_id: int, reason: str | None = None) -> bool:
        """End a callee's registration from the router's side (meta API): UNREGISTERED
        with the registration in its details, if the callee understands revocation."""
        registration = self._by_id.get(registration_id)
        callees = () if registration is None else registration.callees
        callee = next((s for s in callees if s.id == session_id), None)
        if registration is None or callee is None:
            return False
        if callee.has_feature("callee", "registration_revocation"):
            details: dict[str, Any] = {"registration": registration.id}
            if reason is not None:
                details["reason"] = reason
            callee.peer.send(Unregistered(0, details))
        self._remove_callee(callee, registration)
        return True

    def _delete(self, registration: Registration) -> list[RouterSession]:
        """Take ``registration`` from all its callees at once (force_reregister), with
        no meta events (as Crossbar.io); the callees it had."""
        callees = registration.callees
        registration.callees = []
        registration.limits = {}
        for callee in callees:
            self._drop_from_session(callee, registration)
        self._forget(registration)
        return callees

    def _drop_from_session(self, session: RouterSession, registration: Registration) -> None:
        mine = self._of_session[session.id]
        mine.discard(registration.id)
        if not mine:
            del self._of_session[session.id]

    def _forget(self, registration: Registration) -> None:
        self._matcher.remove(registration.uri, registration.match)
        self._routes.clear()
        del self._by_id[registration.id]

    def _remove_callee(self, session: RouterSession, registration: Registration) -> None:
        registration.callees.remove(session)
        if registration.limits:
            registration.limits.pop(session.id, None)
        self._drop_from_session(session, registration)
        self._meta("wamp.registration.on_unregister", [session.id, registration.id])
        if not registration.callees:
            self._forget(registration)
            self._meta("wamp.registration.on_delete", [session.id, registration.id])

    # -- CALL -------------------------------------------------------------------------

    def call(self, session: RouterSession, message: Call, now: float) -> None:
        ongoing = session.calls.get(message.request_id)
        if ongoing is not None:
            self._continue_call(ongoing, message)
            return
        procedure = message.procedure
        permission = self._authorize.decide(session, procedure, "call")
        if permission is None:
            text = f"session is not authorized to call procedure {procedure!r}"
            session.peer.send(Error(Call.CODE, message.request_id, NOT_AUTHORIZED, [text]))
            return
        registration = self._route(procedure)
        if registration is None:
            text = f"no callee registered for procedure {procedure!r}"
            session.peer.send(Error(Call.CODE, message.request_id, NO_SUCH_PROCEDURE, [text]))
            return
        slot: _Slot | None = None
        if registration.limits:
            picked = self._pick_with_room(registration)
            if isinstance(picked, str):
                session.peer.send(Error(Call.CODE, message.request_id, MAX_CONCURRENCY, [picked]))
                return
            callee, slot = picked
        else:
            callee = self._pick(registration)
        options = message.options
        disclose = permission.disclose_caller or options.get("disclose_me") is True
        record = _Call(
            session,
            message.request_id,
            callee,
            callee.request_ids.next(),
            registration.id,
            slot,
            progress=options.get("receive_progress") is True,
            open_input=options.get("progress") is True,
        )
        details = _invocation_details(registration, message, session, disclose, record.progress)
        self._track(record)
        timeout = options.get("timeout")
        # Most calls have none: skip the isinstance (`int | float` builds a union each time).
        if timeout is not None and isinstance(timeout, int | float) and timeout > 0:
            self._sequence += 1
            heapq.heappush(self._deadlines, (now + timeout, self._sequence, record))
        callee.peer.send(
            Invocation(
                record.invocation_id,
                registration.id,
                message.args,
                message.kwargs,
                details,
                message.payload,
            )
        )

    def _route(self, procedure: str) -> Registration | None:
        routes = self._routes
        if procedure in routes:
            return routes[procedure]
        if len(routes) >= MAX_ROUTES:
            routes.clear()  # bounded, whatever procedures the clients call
        registration = routes[procedure] = self._matcher.resolve(procedure)
        return registration

    def _continue_call(self, record: _Call, message: Call) -> None:
        """Another CALL with the request id of a call in flight: the next chunk of a
        progressive call invocation, or a violation."""
        if not record.open_input:
            raise ProtocolError(f"CALL with request id {message.request_id} already in flight")
        record.open_input = message.options.get("progress") is True
        details: dict[str, Any] = {"progress": True} if record.open_input else {}
        invocation = Invocation(
            record.invocation_id,
            record.registration_id,
            message.args,
            message.kwargs,
            details,
            message.payload,
        )
        record.callee.peer.send(invocation)

    def _pick(self, registration: Registration) -> RouterSession:
        callees = registration.callees
        invoke = registration.invoke
        if invoke == "last":
            return callees[-1]
        if invoke == "roundrobin":
            index = registration.next_index % len(callees)
            registration.next_index = index + 1
            return callees[index]
        if invoke == "random":
            return callees[self._ids.draw() % len(callees)]
        return callees[0]  # single, first

    def _pick_with_room(
        self, registration: Registration
    ) -> tuple[RouterSession, _Slot | None] | str:
        """A callee with room under its concurrency (and its slot), or why there is none."""
        callees, limits, invoke = registration.callees, registration.limits, registration.invoke
        if invoke == "roundrobin":
            # From the next callee on, once round; the next call starts after the one found.
            count = len(callees)
            start = registration.next_index % count
            for step in range(count):
                index = (start + step) % count
                slot = limits.get(callees[index].id)
                if slot is None or not slot.full():
                    registration.next_index = index + 1
                    return callees[index], slot
            # All full, so all have a slot; the text names the last one's (as Crossbar.io).
            limit = limits[callees[start - 1].id].limit
            return (
                f"maximum concurrency {limit} of all callee/endpoints reached "
                "(on round-robin registration)"
            )
        if invoke == "random":
            free = [c for c in callees if not (c.id in limits and limits[c.id].full())]
            if not free:
                return (
                    "maximum concurrency of all callee/endpoints reached (on random registration)"
                )
            callee = free[self._ids.draw() % len(free)]
            return callee, limits.get(callee.id)
        callee = self._pick(registration)  # single, first, last: that one callee or none
        slot = limits.get(callee.id)
        if slot is not None and slot.full():
            return (
                f"maximum concurrency {slot.limit} of callee/endpoint reached "
                "(on non-shared/single registration)"
            )
        return callee, slot

    # -- answers from the callee ------------------------------------------------------

    def yield_(self, session: RouterSession, message: Yield) -> None:
        record = session.invocations.get(message.request_id)
        if record is None:
            return  # the call ended meanwhile (canceled, timed out, caller gone)
        options = message.options
        progress = options.get("progress") is True
        if progress and not record.progress:
            return  # the caller did not ask for progressive results
        details: dict[str, Any] = {"progress": True} if progress else {}
        if options:  # most YIELDs have none: skip the look-ups
            for key in _PASSTHRU:
                if key in options:
                    details[key] = options[key]
        if not progress:
            self._untrack(record)
        result = Result(record.request_id, message.args, message.kwargs, details, message.payload)
        record.caller.peer.send(result)

    def invocation_error(self, session: RouterSession, message: Error) -> None:
        record = session.invocations.get(message.request_id)
        if record is None:
            return
        self._untrack(record)
        record.caller.peer.send(
            Error(
                Call.CODE,
                record.request_id,
                message.error,
                message.args,
                message.kwargs,
                dict(message.details),
                message.payload,
            )
        )

    # -- canceling and timeouts -------------------------------------------------------

    def cancel(self, session: RouterSession, message: Cancel) -> None:
        record = session.calls.get(message.request_id)
        if record is None or record.killed:
            return  # already answered, or a second CANCEL
        mode = message.options.get("mode", "killnowait")
        if not record.callee.has_feature("callee", "call_canceling"):
            mode = "skip"
        if mode != "skip":
            record.callee.peer.send(Interrupt(record.invocation_id, {"mode": mode}))
        if mode == "kill":
            record.killed = True  # the callee's ERROR (or result) will end it
            return
        self._untrack(record)
        text = "call canceled by the caller"
        session.peer.send(Error(Call.CODE, record.request_id, CANCELED, [text]))

    def next_deadline(self) -> float | None:
        deadlines = self._deadlines
        while deadlines and not self._in_flight(deadlines[0][2]):
            heapq.heappop(deadlines)
        return deadlines[0][0] if deadlines else None

    def handle_timer(self, now: float) -> None:
        """End every call whose timeout has passed."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            record = heapq.heappop(deadlines)[2]
            if not self._in_flight(record):
                continue
            self._untrack(record)
            if record.callee.has_feature("callee", "call_canceling"):
                record.callee.peer.send(Interrupt(record.invocation_id, {"mode": "killnowait"}))
            error = Error(Call.CODE, record.request_id, CANCELED, ["timeout reached"])
            record.caller.peer.send(error)

    # -- sessions leaving -------------------------------------------------------------

    def remove_session(self, session: RouterSession) -> None:
        """Fail the calls on a departed callee, interrupt the invocations of a departed
        caller, and drop its registrations."""
        # Each send may cut a slow peer off, which removes its calls too: look every
        # entry up again instead of trusting the lists taken first.
        for invocation_id in sorted(session.invocations):
            record = session.invocations.get(invocation_id)
            if record is None:
                continue
            self._untrack(record)
            if record.caller is not session:
                text = "callee disconnected from in-flight request"
                record.caller.peer.send(Error(Call.CODE, record.request_id, CANCELED, [text]))
        for request_id in sorted(session.calls):
            record = session.calls.get(request_id)
            if record is None:
                continue
            self._untrack(record)
            if record.callee.has_feature("callee", "call_canceling"):
                record.callee.peer.send(Interrupt(record.invocation_id, {"mode": "killnowait"}))
        for registration_id in sorted(self._of_session.get(session.id, ())):
            self._remove_callee(session, self._by_id[registration_id])

    # -- the call tables --------------------------------------------------------------

    def _in_flight(self, record: _Call) -> bool:
        # By identity: a later call may reuse an ended one's request id.
        return record.caller.calls.get(record.request_id) is record

    def _track(self, record: _Call) -> None:
        record.caller.calls[record.request_id] = record
        record.callee.invocations[record.invocation_id] = record
        self._in_flight_count += 1
        if record.slot is not None:
            record.slot.current += 1

    def _untrack(self, record: _Call) -> None:
        del record.caller.calls[record.request_id]
        del record.callee.invocations[record.invocation_id]
        self._in_flight_count -= 1
        if record.slot is not None:
            record.slot.current -= 1
        if len(self._deadlines) > 2 * self._in_flight_count + 16:
            # Ended calls leave their deadline behind; keep the heap in proportion.
            self._deadlines = [d for d in self._deadlines if self._in_flight(d[2])]
            heapq.heapify(self._deadlines)
        elif not self._in_flight_count:
            self._deadlines.clear()


def _invocation_details(
    registration: Registration,
    message: Call,
    caller: RouterSession,
    disclose: bool,
    progress: bool,
) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if registration.match != "exact":
        details["procedure"] = message.procedure
    if disclose:
        details["caller"] = caller.id
        details["caller_authid"] = caller.authid
        details["caller_authrole"] = caller.authrole
    if progress:
        details["receive_progress"] = True
    options = message.options
    if options:  # most CALLs have none: skip the look-ups
        if options.get("progress") is True:
            details["progress"] = True
        for key in _PASSTHRU:
            if key in options:
                details[key] = options[key]
    return details

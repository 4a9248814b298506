"""A hypothesis state machine: several of our client Connections joined to the router
in memory, doing random registrations, calls (with timeouts, progress, cancels),
answers, subscriptions, publications, leaves and abrupt disconnects, with time moving.

Invariants: no exception escapes the router (or the clients, but for documented local
misuse); every request of every client ends exactly once; and once every client has
gone, the realm and the router hold nothing of them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.conftest import MACHINE_EXAMPLES
from tests.router_harness import Client, Net
from wamp_core.events import (
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationRemoved,
    RequestFailed,
    SubscriptionCreated,
    SubscriptionRemoved,
)
from wamp_core.messages import Interrupt, Invocation, Result
from wamp_core.session import SessionState
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

SLOTS = 3
PROCEDURES = ("com.p.a", "com.p.b", "com.q", "com.x.a")
REGISTRATIONS = (
    ("com.p.a", "exact"),
    ("com.q", "exact"),
    ("com.p", "prefix"),
    ("com..a", "wildcard"),
)
TOPICS = ("com.t.a", "com.t.b", "com.u")
PATTERNS = (("com.p", "prefix"), ("com..a", "wildcard"), ("com.q", "exact"))
ENDINGS = (RequestFailed, RegistrationCreated, SubscriptionCreated, PublishAcknowledged)

slot = st.integers(0, SLOTS - 1)


class RouterMachine(RuleBasedStateMachine):
    @initialize(
        serializers=st.lists(
            st.sampled_from(["json", "msgpack", "cbor"]), min_size=SLOTS, max_size=SLOTS
        )
    )
    def start(self, serializers: list[str]) -> None:
        self.net = Net()
        self.now = 0.0
        self.serializers = serializers
        self.clients: list[Client | None] = [self._new(i) for i in range(SLOTS)]
        self.pending: dict[tuple[int, int], str] = {}  # (client id, request id) -> kind
        self.ended: set[tuple[int, int]] = set()
        self.invocations: dict[int, list[int]] = {}  # client id -> invocation request ids
        self.registrations: dict[int, list[int]] = {}
        self.subscriptions: dict[int, list[int]] = {}

    def _new(self, index: int) -> Client:
        return self.net.client(serializer=self.serializers[index], close_timeout=5.0)

    # -- bookkeeping --------------------------------------------------------------------

    def _joined(self, index: int) -> Client | None:
        client = self.clients[index]
        if client is None or client.conn.session.state is not SessionState.JOINED:
            return None
        return client

    def _track(self, client: Client, request_id: int, kind: str) -> None:
        key = (id(client), request_id)
        assert key not in self.pending, f"request id {request_id} reused while pending"
        self.pending[key] = kind

    def _end(self, client: Client, request_id: int) -> None:
        key = (id(client), request_id)
        assert key in self.pending, (
            f"request {request_id} ended but was not pending ({key in self.ended})"
        )
        del self.pending[key]
        self.ended.add(key)

    def _collect(self) -> None:
        self.net.pump(self.now)
        for client in [c for c in self.clients if c is not None]:
            for event in client.conn.events():
                self._on_event(client, event)

    def _on_event(self, client: Client, event: Any) -> None:
        if isinstance(event, Result):
            if not event.details.get("progress"):
                self._end(client, event.request_id)
        elif isinstance(event, ENDINGS):
            self._end(client, event.request_id)
            if isinstance(event, RegistrationCreated):
                self.registrations.setdefault(id(client), []).append(event.registration_id)
            elif isinstance(event, SubscriptionCreated):
                mine = self.subscriptions.setdefault(id(client), [])
                if event.subscription_id not in mine:  # the same topic twice: one subscription
                    mine.append(event.subscription_id)
        elif isinstance(event, RegistrationRemoved | SubscriptionRemoved):
            if event.request_id:
                self._end(client, event.request_id)
        elif isinstance(event, Invocation):
            self.invocations.setdefault(id(client), []).append(event.request_id)
        elif isinstance(event, Interrupt):
            client.conn.session.yield_error(event.request_id, "wamp.error.canceled")

    # -- rules --------------------------------------------------------------------------

    @rule(
        index=slot,
        pattern=st.sampled_from(REGISTRATIONS),
        invoke=st.sampled_from(["single", "roundrobin", "first", "last", "random"]),
    )
    def register(self, index: int, pattern: tuple[str, str], invoke: str) -> None:
        client = self._joined(index)
        if client is None:
            return
        procedure, match = pattern
        options = RegisterOptions(match=match, invoke=invoke)  # type: ignore[arg-type]
        self._track(client, client.session.register(procedure, options), "register")
        self._collect()

    @rule(index=slot, data=st.data())
    def unregister(self, index: int, data: st.DataObject) -> None:
        client = self._joined(index)
        mine = self.registrations.get(id(client), []) if client else []
        if client is None or not mine:
            return
        registration = mine.pop(data.draw(st.integers(0, len(mine) - 1)))
        self._track(client, client.session.unregister(registration), "unregister")
        self._collect()

    @rule(
        index=slot,
        procedure=st.sampled_from(PROCEDURES),
        timeout=st.sampled_from([None, 1, 3]),
        progress=st.booleans(),
    )
    def call(self, index: int, procedure: str, timeout: int | None, progress: bool) -> None:
        client = self._joined(index)
        if client is None:
            return
        on_progress = (lambda *args, **kwargs: None) if progress else None
        options = CallOptions(timeout=timeout, on_progress=on_progress)
        self._track(client, client.session.call(procedure, [index], options=options), "call")
        self._collect()

    @rule(index=slot, data=st.data(), mode=st.sampled_from(["skip", "kill", "killnowait"]))
    def cancel(self, index: int, data: st.DataObject, mode: str) -> None:
        client = self._joined(index)
        calls = [
            r
            for (c, r), kind in self.pending.items()
            if client and c == id(client) and kind == "call"
        ]
        if client is None or not calls:
            return
        client.session.cancel(data.draw(st.sampled_from(sorted(calls))), mode)
        self._collect()

    @rule(index=slot, data=st.data(), how=st.sampled_from(["result", "progress", "error"]))
    def answer(self, index: int, data: st.DataObject, how: str) -> None:
        client = self._joined(index)
        waiting = self.invocations.get(id(client), []) if client else []
        if client is None or not waiting:
            return
        request_id = waiting[data.draw(st.integers(0, len(waiting) - 1))]
        session = client.conn.session
        if how == "error":
            session.yield_error(request_id, "com.error.failed", ["no"])
        elif (
            how == "progress"
            and session._invocations.get(request_id) is not None
            and session._invocations[request_id].receive_progress
        ):
            session.yield_result(request_id, ["partial"], progress=True)
            self._collect()
            return
        else:
            session.yield_result(request_id, ["done"])
        waiting.remove(request_id)
        self._collect()

    @rule(index=slot, topic=st.sampled_from(PATTERNS + tuple((t, "exact") for t in TOPICS)))
    def subscribe(self, index: int, topic: tuple[str, str]) -> None:
        client = self._joined(index)
        if client is None:
            return
        uri, match = topic
        options = SubscribeOptions(match=match)  # type: ignore[arg-type]
        self._track(client, client.session.subscribe(uri, options), "subscribe")
        self._collect()

    @rule(index=slot, data=st.data())
    def unsubscribe(self, index: int, data: st.DataObject) -> None:
        client = self._joined(index)
        mine = self.subscriptions.get(id(client), []) if client else []
        if client is None or not mine:
            return
        subscription = mine.pop(data.draw(st.integers(0, len(mine) - 1)))
        self._track(client, client.session.unsubscribe(subscription), "unsubscribe")
        self._collect()

    @rule(
        index=slot,
        topic=st.sampled_from(TOPICS),
        acknowledge=st.booleans(),
        exclude_me=st.booleans(),
    )
    def publish(self, index: int, topic: str, acknowledge: bool, exclude_me: bool) -> None:
        client = self._joined(index)
        if client is None:
            return
        options = PublishOptions(acknowledge=acknowledge, exclude_me=exclude_me)
        request_id = client.session.publish(topic, [index], options=options)
        if acknowledge:
            self._track(client, request_id, "publish")
        self._collect()

    @rule(step=st.sampled_from([0.5, 1.0, 2.5]))
    def time_passes(self, step: float) -> None:
        self.now += step
        self._collect()

    @rule(index=slot)
    def leave(self, index: int) -> None:
        client = self._joined(index)
        if client is None:
            return
        client.session.leave()
        self._collect()

    @rule(index=slot)
    def disconnect(self, index: int) -> None:
        client = self.clients[index]
        if client is None:
            return
        client.conn.close()
        self._collect()
        self._forget(index)

    @rule(index=slot)
    def reconnect(self, index: int) -> None:
        client = self.clients[index]
        if client is not None and client.conn.session.state in (
            SessionState.JOINED,
            SessionState.LEAVING,
        ):
            return
        if client is not None:
            client.conn.close()
            self._collect()
            self._forget(index)
        self.clients[index] = self._new(index)
        self._collect()

    def _forget(self, index: int) -> None:
        client = self.clients[index]
        assert client is not None
        gone = id(client)
        assert not [k for k in self.pending if k[0] == gone], (
            "a closed client left requests pending"
        )
        self.invocations.pop(gone, None)
        self.registrations.pop(gone, None)
        self.subscriptions.pop(gone, None)
        self.clients[index] = None

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def router_matches_the_sessions(self) -> None:
        if not hasattr(self, "net"):
            return
        realm = self.net.router.realms["realm1"]
        joined = {
            c.conn.session.session_id
            for c in self.clients
            if c and c.conn.session.state is SessionState.JOINED
        }
        assert joined <= set(realm.sessions)

    @invariant()
    def what_is_pending_is_a_call_the_router_has(self) -> None:
        """Everything but a call is answered at once; a call waits only while the dealer
        still has it (an answer lost by the router would leave it pending here)."""
        if not hasattr(self, "net"):
            return
        realm = self.net.router.realms["realm1"]
        by_client = {id(c): c for c in self.clients if c is not None}
        for (client_id, request_id), kind in self.pending.items():
            assert kind == "call", (kind, request_id)
            session_id = by_client[client_id].conn.session.session_id
            assert session_id is not None
            session = realm.sessions[session_id]
            assert realm.dealer.in_flight(session, request_id), (
                f"call {request_id} lost by the router"
            )

    def teardown(self) -> None:
        if not hasattr(self, "net"):
            return
        for index in range(SLOTS):
            if self.clients[index] is not None:
                self.clients[index].conn.close()  # type: ignore[union-attr]
                self._collect()
                self._forget(index)
        self.now += 100
        self._collect()
        assert not self.pending
        self.net.assert_empty()


TestRouterMachine = RouterMachine.TestCase
TestRouterMachine.settings = settings(
    max_examples=MACHINE_EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

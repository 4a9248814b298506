"""The adapter-independent application layer, driven without any event loop."""

from __future__ import annotations

import math
from typing import Any

import pytest

import wamp_core as wamp
from tests.harness import ROUTER_ROLES
from wamp_core.application import (
    ApplicationModel,
    Backoff,
    Endpoint,
    ErrorMapper,
    Handler,
    SessionCore,
    call_result,
    event_call,
    yield_payload,
)
from wamp_core.application.connect import authenticators_from, build_connection, serializer_names
from wamp_core.application.hooks import session_details
from wamp_core.application.url import parse_url
from wamp_core.auth import AuthTicket
from wamp_core.connection import Connection
from wamp_core.events import Joined, Left
from wamp_core.exception import (
    ApplicationError,
    InvalidUriError,
    NotAuthorized,
    SessionNotReady,
    TransportLost,
)
from wamp_core.messages import (
    Call,
    Error,
    Event,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
)
from wamp_core.request import Publication, Registration, Subscription
from wamp_core.serializers import get_serializer
from wamp_core.session import ClientSession
from wamp_core.testing.router import ScriptedRouter
from wamp_core.transports import RawSocketClientTransport, TransportOpened
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)

# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "kind", "secure", "host", "port", "resource", "unix"),
    [
        ("ws://127.0.0.1:8080/ws", "websocket", False, "127.0.0.1", 8080, "/ws", None),
        ("wss://example.com/ws?x=1", "websocket", True, "example.com", 443, "/ws?x=1", None),
        ("ws://example.com", "websocket", False, "example.com", 80, "/", None),
        ("rs://127.0.0.1:8081", "rawsocket", False, "127.0.0.1", 8081, "/", None),
        ("rss://localhost:9000", "rawsocket", True, "localhost", 9000, "/", None),
        ("ws+unix:///tmp/n.sock:/ws", "websocket", False, "", 0, "/ws", "/tmp/n.sock"),
        ("ws+unix:///tmp/n.sock#/ws", "websocket", False, "", 0, "/ws", "/tmp/n.sock"),
        ("ws+unix://%2Ftmp%2Fn.sock/ws", "websocket", False, "", 0, "/ws", "/tmp/n.sock"),
        ("rs+unix:///tmp/r.sock", "rawsocket", False, "", 0, "/", "/tmp/r.sock"),
    ],
)
def test_parse_url(
    url: str, kind: str, secure: bool, host: str, port: int, resource: str, unix: str | None
) -> None:
    target = parse_url(url)
    assert (
        target.kind,
        target.secure,
        target.host,
        target.port,
        target.resource,
        target.unix_path,
    ) == (
        kind,
        secure,
        host,
        port,
        resource,
        unix,
    )


def test_host_headers() -> None:
    assert parse_url("ws://h:8080/").host_header == "h:8080"
    assert parse_url("wss://h/").host_header == "h"
    assert parse_url("ws://[::1]:9/").host_header == "[::1]:9"
    assert parse_url("ws+unix:///s").host_header == "localhost"


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://h/", "unsupported URL scheme"),
        ("ws:///path", "no host"),
        ("rs://h", "needs a port"),
        ("ws://h:99999/", "invalid port"),
        ("rs+unix://", "no socket path"),
    ],
)
def test_bad_urls(url: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_url(url)
    with pytest.raises(TypeError):
        parse_url(5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- building a connection


def test_build_connection_websocket_and_rawsocket() -> None:
    conn = build_connection(
        "ws://h:1/ws",
        "realm1",
        serializers=["wamp.2.json", get_serializer("msgpack.batched")],
        headers={"X": "1"},
        websocket_options={"autoPingInterval": 5.0, "close_timeout": 2.0},
        authentication={"ticket": {"authid": "joe", "ticket": "t"}},
    )
    assert conn.session.realm == "realm1"
    assert [a.authmethod for a in conn.session.authenticators] == ["ticket"]
    assert b"wamp.2.json, wamp.2.msgpack.batched" in conn.data_to_send()
    raw = build_connection("rs://h:1", "r", serializers="cbor")
    assert isinstance(raw.transport, RawSocketClientTransport)
    assert raw.data_to_send() == bytes([0x7F, 0xF3, 0, 0])
    assert serializer_names(None, parse_url("rs://h:1")) == ["msgpack"]
    assert serializer_names(None, parse_url("ws://h")) == ["cbor", "msgpack", "json"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"serializers": []}, ValueError),
        ({"serializers": [5]}, TypeError),
        ({"websocket_options": {"bogus": 1}}, ValueError),
        ({"authentication": [("ticket", {})]}, TypeError),
        ({"authentication": {"ticket": 5}}, TypeError),
    ],
)
def test_build_connection_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        build_connection("ws://h/", "r", **kwargs)


def test_authenticators_from_objects_and_none() -> None:
    ticket = AuthTicket("joe", "t")
    assert authenticators_from({"ticket": ticket}) == [ticket]
    assert authenticators_from(None) == []


# ---------------------------------------------------------------- backoff


def test_backoff_delays_with_seeded_jitter() -> None:
    backoff = Backoff(
        initial_retry_delay=1.0, max_retry_delay=5.0, retry_delay_growth=2.0, retry_delay_jitter=0.5
    )
    delays = [backoff.delay(n, lambda: 0.5) for n in range(5)]
    assert delays == [1.25, 2.25, 4.25, 5.25, 5.25]
    assert backoff.may_retry(10**6)
    assert Backoff(retry_delay_jitter=lambda: 0.3).delay(0, lambda: 0.9) == pytest.approx(1.3)
    assert Backoff(max_retries=2).may_retry(1) and not Backoff(max_retries=2).may_retry(2)
    assert Backoff(max_retries=-1).may_retry(100)
    assert Backoff(retry_delay_growth=10.0, max_retry_delay=7.0).delay(10**4, lambda: 0) == 7.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -2},
        {"initial_retry_delay": -1},
        {"max_retry_delay": math.nan},
        {"retry_delay_growth": 0.5},
        {"retry_delay_jitter": -1},
    ],
)
def test_backoff_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


# ---------------------------------------------------------------- application model


def test_application_model() -> None:
    model = ApplicationModel("com.example")

    @model.register()
    def add(a: int, b: int) -> int:
        return a + b

    @model.register("com.other.mul")
    def mul(a: int, b: int) -> int:
        return a * b

    @model.subscribe(options=SubscribeOptions(match="prefix"))
    def on_event() -> None: ...

    @model.signal("onjoined")
    def joined() -> None: ...

    assert [(d.uri, d.fn) for d in model.procedures] == [
        ("com.example.add", add),
        ("com.other.mul", mul),
    ]
    assert model.handlers[0].uri == "com.example.on_event"
    assert model.signals == {"onjoined": [joined]}
    with pytest.raises(ValueError, match="signal"):
        model.signal("onwhatever")
    with pytest.raises(ValueError, match="no prefix"):
        ApplicationModel().register()(add)
    with pytest.raises(InvalidUriError):
        ApplicationModel("bad prefix")
    with pytest.raises(InvalidUriError):
        model.subscribe("a..b")(joined)


# ---------------------------------------------------------------- errors


class Oops(Exception):
    pass


@wamp.error("com.example.decorated")
class Decorated(Exception):
    def __init__(self, text: str):
        super().__init__(text)


class NeedsKeyword(Exception):
    def __init__(self, *, code: int):
        super().__init__(code)


def test_error_mapping_both_ways() -> None:
    errors = ErrorMapper()
    errors.define(Oops, "com.example.oops")
    errors.define(Decorated)
    assert errors.to_wire(Oops("a", 1)) == ("com.example.oops", ["a", 1], {})
    assert errors.to_wire(Decorated("x")) == ("com.example.decorated", ["x"], {})
    assert errors.to_wire(NotAuthorized("no")) == ("wamp.error.not_authorized", ["no"], {})
    assert errors.to_wire(ApplicationError("com.e", 1, k=2)) == ("com.e", [1], {"k": 2})
    assert errors.to_wire(KeyError("k")) == ("wamp.error.runtime_error", ["k"], {})
    back = errors.from_wire(ApplicationError("com.example.oops", "a", 1))
    assert isinstance(back, Oops) and back.args == ("a", 1)
    router_error = ApplicationError("wamp.error.invalid_uri", "u")
    assert errors.from_wire(router_error) is router_error
    plain = ApplicationError("com.unknown")
    assert errors.from_wire(plain) is plain
    untouched = ErrorMapper()  # the defaults are shared until a define(), not changed
    assert untouched.to_wire(Oops("a")) == ("wamp.error.runtime_error", ["a"], {})
    assert untouched.to_wire(NotAuthorized("no")) == ("wamp.error.not_authorized", ["no"], {})
    assert not isinstance(untouched.from_wire(ApplicationError("com.example.oops")), Oops)


def test_error_mapping_fallbacks_and_misuse() -> None:
    errors = ErrorMapper()
    errors.define(NeedsKeyword, "com.kw")
    errors.define(Decorated)
    keyword = ApplicationError("com.kw")
    keyword.kwargs = {"code": 3}
    assert isinstance(errors.from_wire(keyword), NeedsKeyword)
    no_fit = ApplicationError("com.kw", "positional")
    assert errors.from_wire(no_fit) is no_fit  # the class takes neither form
    extra_kwargs = ApplicationError("com.example.decorated", "text")
    extra_kwargs.kwargs = {"unexpected": 1}
    assert isinstance(errors.from_wire(extra_kwargs), Decorated)
    with pytest.raises(TypeError):
        errors.define("not a class")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"no @wamp\.error"):
        errors.define(Oops)


# ---------------------------------------------------------------- shaping


def test_call_result_shapes() -> None:
    assert call_result(Result(1, [5])) == 5
    assert call_result(Result(1)) is None
    two = call_result(Result(1, [1, 2], details={"callee": 9}))
    assert isinstance(two, CallResult) and two.results == (1, 2) and two.callee == 9
    keywords = call_result(Result(1, None, {"a": 1}))
    assert isinstance(keywords, CallResult) and keywords.kwresults == {"a": 1}
    assert call_result(Result(1, details={"enc_algo": "x_e"}, payload=b"x")) == b"x"
    one = call_result(Result(1, [5], details={"callee": 9}), details=True)
    assert isinstance(one, CallResult) and one.results == (5,) and one.callee == 9
    empty = call_result(Result(1), details=True)
    assert isinstance(empty, CallResult) and empty.results == () and empty.kwresults == {}


def test_yield_payload_shapes() -> None:
    assert yield_payload(5) == ([5], None)
    assert yield_payload(None) == ([None], None)
    assert yield_payload(CallResult(1, 2, k=3)) == ([1, 2], {"k": 3})
    assert yield_payload(CallResult()) == (None, None)


# ---------------------------------------------------------------- SessionCore over a connection


class FakeFuture:
    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = False


class FakeHost:
    """Records what the core asks of its adapter."""

    def __init__(self) -> None:
        self.flushes = 0
        self.invocations: list[tuple[int, Endpoint, tuple[Any, ...], dict[str, Any]]] = []
        self.canceled: list[int] = []
        self.delivered: list[tuple[Handler, tuple[Any, ...], dict[str, Any]]] = []
        self.session_events: list[Any] = []
        self.user_errors: list[tuple[BaseException, str]] = []
        self.dropped: list[Handler] = []

    def create_future(self) -> FakeFuture:
        return FakeFuture()

    def resolve(self, future: FakeFuture, value: Any) -> None:
        future.value, future.done = value, True

    def reject(self, future: FakeFuture, error: BaseException) -> None:
        future.error, future.done = error, True

    def flush(self) -> None:
        self.flushes += 1

    def start_invocation(
        self, request_id: int, endpoint: Endpoint, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.invocations.append((request_id, endpoint, args, kwargs))

    def cancel_invocation(self, request_id: int) -> None:
        self.canceled.append(request_id)

    def deliver_event(
        self, handler: Handler, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.delivered.append((handler, args, kwargs))

    def drop_handler(self, handler: Handler) -> None:
        self.dropped.append(handler)

    def session_event(self, event: Any) -> None:
        self.session_events.append(event)

    def user_error(self, error: BaseException, text: str) -> None:
        self.user_errors.append((error, text))


class Pair:
    """A SessionCore on a joined Connection, and the router on the other end."""

    def __init__(self) -> None:
        self.router = ScriptedRouter("rawsocket", "json")
        self.conn = Connection(
            RawSocketClientTransport("json"),
            ClientSession("realm1"),
        )
        self.host = FakeHost()
        self.core = SessionCore(self.conn, self.host)
        self.router.receive_data(self.conn.data_to_send())
        self.conn.receive_data(self.router.data_to_send())
        self.router.receive_data(self.conn.data_to_send())
        assert isinstance(self.router.received()[0], Hello)
        self.deliver(Welcome(1, {"roles": ROUTER_ROLES}))

    def deliver(self, *messages: Any) -> None:
        self.router.send(*messages)
        self.conn.receive_data(self.router.data_to_send())
        self.core.handle(self.conn.events())

    def sent(self) -> list[Any]:
        self.router.receive_data(self.conn.data_to_send())
        return self.router.received()


def test_core_session_events_reach_the_host() -> None:
    pair = Pair()
    kinds = [type(e) for e in pair.host.session_events]
    assert kinds == [TransportOpened, Joined]


def test_core_call_with_progress_and_result() -> None:
    pair = Pair()
    progress: list[Any] = []
    request_id, future = pair.core.call(
        "com.p", (1,), {"k": 2}, CallOptions(on_progress=lambda *a, **k: progress.append((a, k)))
    )
    (call,) = pair.sent()
    assert isinstance(call, Call) and call.args == [1] and call.kwargs == {"k": 2}
    pair.deliver(
        Result(request_id, [1], {"x": 1}, details={"progress": True}), Result(request_id, [3])
    )
    assert progress == [((1,), {"x": 1})]
    assert future.done and future.value == 3


def test_core_call_with_details() -> None:
    """details=True shapes that call's results (progressive too) as CallResults;
    another call pending at the same time keeps the plain shapes."""
    pair = Pair()
    progress: list[Any] = []
    options = CallOptions(on_progress=progress.append, details=True)
    detailed, detailed_future = pair.core.call("com.p", (), {}, options)
    plain, plain_future = pair.core.call("com.p", (), {}, CallOptions(on_progress=progress.append))
    lone, lone_future = pair.core.call("com.p", (), {}, CallOptions(details=True))
    identity = {"callee": 3, "callee_authid": "a", "callee_authrole": "r"}
    pair.deliver(
        Result(detailed, [1], details={"progress": True, **identity}),
        Result(plain, [2], details={"progress": True, **identity}),
        Result(detailed, [3], details=identity),
        Result(plain, [4], details=identity),
        Result(lone, [5]),
    )
    chunk, plain_chunk = progress
    assert isinstance(chunk, CallResult) and chunk.results == (1,) and chunk.callee == 3
    assert plain_chunk == 2
    final = detailed_future.value
    assert isinstance(final, CallResult) and final.results == (3,)
    assert (final.callee, final.callee_authid, final.callee_authrole) == (3, "a", "r")
    assert plain_future.value == 4
    lone_result = lone_future.value
    assert isinstance(lone_result, CallResult) and lone_result.results == (5,)


def test_core_on_progress_errors_go_to_the_host() -> None:
    pair = Pair()

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    request_id, future = pair.core.call("com.p", (), {}, CallOptions(on_progress=broken))
    pair.deliver(Result(request_id, [1], details={"progress": True}))
    assert pair.host.user_errors and not future.done
    pair.deliver(Result(request_id, [2], details={"progress": True}))
    pair.core.cancel(request_id)


def test_core_call_errors_map_to_defined_exceptions() -> None:
    pair = Pair()
    pair.core.define(Oops, "com.example.oops")
    request_id, future = pair.core.call("com.p", (), {})
    pair.deliver(Error(48, request_id, "com.example.oops", ["bad"]))
    assert isinstance(future.error, Oops) and future.error.args == ("bad",)
    request_id, future = pair.core.call("com.p", (), {})
    pair.conn.close()
    pair.core.handle(pair.conn.events())
    assert isinstance(future.error, TransportLost)


def test_core_cancel_abandons_the_call() -> None:
    pair = Pair()
    request_id, future = pair.core.call("com.p", (), {})
    pair.sent()
    pair.core.cancel(request_id, "killnowait")
    (cancel,) = pair.sent()
    assert cancel.mode == "killnowait"
    pair.deliver(Error(48, request_id, "wamp.error.canceled"))
    assert not future.done
    pair.core.cancel(request_id)  # no longer pending: nothing happens


def test_core_register_invoke_and_answer() -> None:
    pair = Pair()

    def add(a: int, b: int, details: CallDetails | None = None) -> int:
        return a + b

    future = pair.core.register(add, "com.add", RegisterOptions(details_arg="details"))
    (register,) = pair.sent()
    assert isinstance(register, Register)
    pair.deliver(Registered(register.request_id, 77))
    registration = future.value
    assert isinstance(registration, Registration) and registration.procedure == "com.add"
    pair.deliver(Invocation(5, 77, [1, 2], details={"caller": 9, "receive_progress": True}))
    request_id, endpoint, args, kwargs = pair.host.invocations[0]
    assert (request_id, endpoint.fn, args) == (5, add, (1, 2))
    details = kwargs["details"]
    assert (
        isinstance(details, CallDetails) and details.caller == 9 and details.procedure == "com.add"
    )
    assert details.progress is not None
    details.progress(0.5)
    pair.core.invocation_returned(5, 3)
    first, final = pair.sent()
    assert isinstance(first, Yield) and first.progress and first.args == [0.5]
    assert isinstance(final, Yield) and final.args == [3]


def test_core_invocation_errors_and_cancel() -> None:
    pair = Pair()
    pair.core.define(Oops, "com.example.oops")
    future = pair.core.register(lambda: None, "com.p")
    (register,) = pair.sent()
    pair.deliver(Registered(register.request_id, 1))
    pair.deliver(Invocation(1, 1), Invocation(2, 1), Invocation(3, 1), Invocation(4, 1))
    pair.core.invocation_raised(1, Oops("x"))
    pair.deliver(Interrupt(2, {"mode": "kill"}))
    assert pair.host.canceled == [2]
    pair.core.invocation_canceled(2)
    pair.core.invocation_returned(3, object())  # cannot be encoded: a runtime error instead
    error_4 = ValueError("y")
    pair.core.invocation_raised(4, error_4)
    errors = pair.sent()
    assert [(e.request_id, e.error) for e in errors] == [
        (1, "com.example.oops"),
        (2, "wamp.error.canceled"),
        (3, "wamp.error.runtime_error"),
        (4, "wamp.error.runtime_error"),
    ]
    assert len(pair.host.user_errors) == 1
    assert future.done


def test_core_invocation_error_that_cannot_be_sent() -> None:
    pair = Pair()
    pair.core.register(lambda: None, "com.p")
    (register,) = pair.sent()
    pair.deliver(Registered(register.request_id, 1), Invocation(1, 1))
    pair.core.invocation_raised(1, ApplicationError("com.e", object()))
    (error,) = pair.sent()
    assert error.error == "com.e" and error.args is None
    assert pair.host.user_errors


def test_core_unregister_and_revocation() -> None:
    pair = Pair()
    futures = [pair.core.register(lambda: None, uri) for uri in ("com.a", "com.b")]
    for register, registration_id in zip(pair.sent(), (1, 2), strict=True):
        pair.deliver(Registered(register.request_id, registration_id))
    first, second = (f.value for f in futures)
    done = first.unregister()
    (unregister,) = pair.sent()
    assert isinstance(unregister, Unregister)
    pair.deliver(Unregistered(unregister.request_id))
    assert done.done and not first.active
    pair.deliver(Unregistered(0, {"registration": 2, "reason": "killed"}))
    assert not second.active


def test_core_subscribe_several_handlers_on_one_subscription() -> None:
    pair = Pair()
    seen: list[Any] = []
    f1 = pair.core.subscribe(
        lambda *a, **k: seen.append(a), "com.t", SubscribeOptions(details_arg="details")
    )
    f2 = pair.core.subscribe(lambda *a: seen.append(a), "com.t")
    s1, s2 = pair.sent()
    assert isinstance(s1, Subscribe)
    pair.deliver(
        Subscribed(s1.request_id, 9), Subscribed(s2.request_id, 9)
    )  # one router subscription
    sub1, sub2 = f1.value, f2.value
    assert isinstance(sub1, Subscription) and sub1.id == sub2.id == 9
    pair.deliver(Event(9, 100, [1], details={"publisher": 5}))
    (_, args1, kwargs1), (_, args2, kwargs2) = pair.host.delivered
    assert args1 == args2 == (1,)
    assert isinstance(kwargs1["details"], EventDetails) and kwargs1["details"].publisher == 5
    assert kwargs2 == {}
    done = sub1.unsubscribe()  # another handler remains: no UNSUBSCRIBE
    assert done.done and pair.sent() == []
    done = sub2.unsubscribe()
    (unsubscribe,) = pair.sent()
    assert isinstance(unsubscribe, Unsubscribe)
    pair.deliver(Unsubscribed(unsubscribe.request_id))
    assert done.done and not sub2.active


def test_core_calls_a_direct_handler_itself() -> None:
    pair = Pair()
    seen: list[Any] = []
    outcomes: list[tuple[Handler, Any, Exception | None]] = []

    def handler(n: int, **kwargs: Any) -> Any:
        seen.append((n, kwargs))
        if n == 2:
            raise ValueError("two")
        return None if n == 1 else n * 10

    future = pair.core.subscribe(handler, "com.t", SubscribeOptions(details_arg="details"))
    (subscribe,) = pair.sent()
    pair.deliver(Subscribed(subscribe.request_id, 9))
    pair.deliver(Event(9, 100, [0]))
    ((plain, _, _),) = pair.host.delivered  # the host sees the first event and opts in
    plain.direct = lambda h, value, error: outcomes.append((h, value, error))
    pair.deliver(Event(9, 101, [1]), Event(9, 102, [2]), Event(9, 103, [3], {"k": "v"}))
    assert len(pair.host.delivered) == 1  # the core called the handler itself
    assert [n for n, _ in seen] == [1, 2, 3]  # the host's own delivery recorded nothing
    assert isinstance(seen[0][1]["details"], EventDetails) and seen[2][1]["k"] == "v"
    (h1, value1, error1), (h2, value2, error2) = outcomes  # nothing for the None result
    assert h1 is plain and value1 is None and isinstance(error1, ValueError)
    assert h2 is plain and value2 == 30 and error2 is None
    assert future.done


def test_core_subscription_revocation_and_leave() -> None:
    pair = Pair()
    f = pair.core.subscribe(lambda: None, "com.t")
    (subscribe,) = pair.sent()
    pair.deliver(Subscribed(subscribe.request_id, 9))
    pair.deliver(Unsubscribed(0, {"subscription": 9}))
    assert not f.value.active
    f = pair.core.subscribe(lambda: None, "com.t")
    g = pair.core.register(lambda: None, "com.p")
    subscribe, register = pair.sent()
    pair.deliver(
        Subscribed(subscribe.request_id, 9), Registered(register.request_id, 3), Invocation(1, 3)
    )
    pair.core.leave()
    with pytest.raises(SessionNotReady):  # leaving: the handles are still active
        f.value.unsubscribe()
    with pytest.raises(SessionNotReady):
        g.value.unregister()
    pair.deliver(Goodbye("wamp.close.normal"))
    assert not f.value.active and not g.value.active
    assert pair.host.canceled == [1]
    assert isinstance(pair.host.session_events[-1], Left)


def test_core_publish_with_and_without_acknowledge() -> None:
    pair = Pair()
    assert pair.core.publish("com.t", (1,), {}) is None
    future = pair.core.publish("com.t", (), {"k": 1}, PublishOptions(acknowledge=True))
    plain, acked = pair.sent()
    assert isinstance(plain, Publish) and isinstance(acked, Publish)
    pair.deliver(Published(acked.request_id, 321))
    assert future.value == Publication(321)


def test_core_fail_waiters() -> None:
    pair = Pair()
    _, future = pair.core.call("com.p", (), {})
    pair.core.fail_waiters(TransportLost("gone"))
    assert isinstance(future.error, TransportLost)


def test_core_progressive_call_invocation_chunks_are_ignored() -> None:
    pair = Pair()
    pair.core.register(lambda: None, "com.p")
    (register,) = pair.sent()
    pair.deliver(Registered(register.request_id, 1))
    pair.deliver(Invocation(1, 1, [1], details={"progress": True}), Invocation(1, 1, [2]))
    assert len(pair.host.invocations) == 1


def test_core_encrypted_payload_reaches_endpoint_and_handler() -> None:
    pair = Pair()
    pair.core.register(lambda payload: payload, "com.p")
    pair.core.subscribe(lambda payload: None, "com.t")
    register, subscribe = pair.sent()
    pair.deliver(Registered(register.request_id, 1), Subscribed(subscribe.request_id, 2))
    pair.deliver(Invocation(1, 1, details={"enc_algo": "x_e"}, payload=b"sealed"))
    pair.deliver(Event(2, 1, details={"enc_algo": "x_e"}, payload=b"sealed"))
    assert pair.host.invocations[0][2] == (b"sealed",)
    assert pair.host.delivered[0][1] == (b"sealed",)


def test_core_cancel_and_wait_for_the_router() -> None:
    pair = Pair()
    request_id, future = pair.core.call("com.p", (), {}, CallOptions(on_progress=print))
    pair.sent()
    pair.core.cancel(request_id, "kill", abandon=False)
    (cancel,) = pair.sent()
    assert cancel.mode == "kill"
    pair.deliver(Error(48, request_id, "wamp.error.canceled"))
    assert (
        isinstance(future.error, ApplicationError) and future.error.error == "wamp.error.canceled"
    )


def test_core_answers_after_the_waiters_were_failed() -> None:
    pair = Pair()
    first, _ = pair.core.call("com.p", (), {})
    second, _ = pair.core.call("com.p", (), {})
    pair.core.fail_waiters(TransportLost("gone"))
    pair.deliver(Result(first, [1]), Error(48, second, "com.e"))  # nobody waits any more
    assert pair.host.user_errors == []


def test_endpoint_and_handler_defaults() -> None:
    endpoint = Endpoint(print, "com.p")
    assert endpoint.concurrency is None and endpoint.details_arg is None
    assert Endpoint(print, "com.p", RegisterOptions(concurrency=2)).concurrency == 2
    assert Handler(print, "com.t").details_arg is None


def test_event_call_arguments() -> None:
    handler = Handler(print, "com.t")
    assert event_call(handler, Event(1, 2, [1, 2])) == ((1, 2), {})
    with_kwargs = Event(1, 2, [1], {"k": 3})
    args, kwargs = event_call(handler, with_kwargs)
    assert (args, kwargs) == ((1,), {"k": 3})
    kwargs["changed"] = True  # the handler's own copy: the message is untouched
    assert with_kwargs.kwargs == {"k": 3}


def test_session_abort() -> None:
    pair = Pair()
    _, future = pair.core.call("com.p", (), {})
    pair.sent()
    pair.conn.session.abort("wamp.close.killed", "stop")
    pair.core.handle(pair.conn.events())
    (abort,) = pair.sent()
    assert abort.reason == "wamp.close.killed" and abort.message == "stop"
    assert isinstance(future.error, ApplicationError)
    assert isinstance(pair.host.session_events[-1], Left)
    with pytest.raises(SessionNotReady):
        pair.conn.session.abort("wamp.close.killed")


# ---------------------------------------------------------------- hooks


def test_session_hooks_defaults_and_autobahn_names() -> None:
    from tests.test_lifecycle_core import Detached
    from wamp_core.application.hooks import AutobahnHooks, SessionHooks
    from wamp_core.types import Challenge, CloseDetails, ComponentConfig, SessionDetails

    class Base(Detached):
        def __init__(self) -> None:
            self.config = ComponentConfig(realm="r1")
            self.calls: list[Any] = []
            self.join = lambda realm, *a, **k: self.calls.append(("join", realm))  # type: ignore[method-assign]
            self.disconnect = lambda: self.calls.append("disconnect")  # type: ignore[method-assign]

        def on_user_error(self, fail: BaseException, msg: str) -> None:
            self.calls.append(("error", msg))

    class Camel(AutobahnHooks[object, object], Base):
        pass

    for session in (Base(), Camel()):
        session.on_connect()
        session.on_welcome(object())
        session.on_join(SessionDetails())
        session.on_leave(CloseDetails())
        session.on_disconnect()
        session.on_user_error(ValueError(), "boom")
        with pytest.raises(ApplicationError, match="no answer for a ticket challenge"):
            session.on_challenge(Challenge("ticket"))
        assert session.calls == [("join", "r1"), "disconnect", ("error", "boom")]
    with pytest.raises(NotImplementedError):
        SessionHooks.on_user_error(Base(), ValueError(), "x")


def test_application_decorators_collect_into_the_model() -> None:
    from wamp_core.application.app import ApplicationDecorators

    app = ApplicationDecorators("com.app")

    @app.register()
    def add(a: int, b: int) -> int:
        return a + b

    @app.subscribe("com.app.news")
    def news() -> None: ...

    @app.signal("onleave")
    def bye() -> None: ...

    model = app._model
    assert [(d.uri, d.fn) for d in model.procedures] == [("com.app.add", add)]
    assert [(d.uri, d.fn) for d in model.handlers] == [("com.app.news", news)]
    assert model.signals == {"onleave": [bye]}


def test_session_details_from_joined() -> None:
    joined = Joined(7, "realm1", "joe", "user", "ticket", "static", {"x": 1}, {})
    details = session_details(joined, get_serializer("cbor"))
    assert (details.realm, details.session, details.authid, details.authrole) == (
        "realm1",
        7,
        "joe",
        "user",
    )
    assert (details.authmethod, details.authprovider, details.authextra) == (
        "ticket",
        "static",
        {"x": 1},
    )
    assert details.serializer == "cbor"
    assert session_details(joined, None).serializer is None


def test_an_application_sets_up_every_session_and_forgets_it_after() -> None:
    import asyncio

    from wamp_core.application.app import ApplicationDecorators

    done: list[str] = []

    class Fake:
        async def register(self, fn: Any, uri: str, options: Any) -> None:
            done.append(f"register {uri}")

        def subscribe(self, fn: Any, uri: str, options: Any) -> None:
            done.append(f"subscribe {uri}")

    app = ApplicationDecorators("com.app")
    app.register()(lambda: None)
    app.subscribe("com.app.news")(lambda: None)

    @app.signal("onjoined")
    async def joined() -> None:
        done.append("onjoined")

    app.signal("onleave")(lambda: done.append("onleave"))
    first, second = Fake(), Fake()
    asyncio.run(app.joined(first))
    assert app.session is first
    assert done == ["register com.app.<lambda>", "subscribe com.app.news", "onjoined"]
    asyncio.run(app.joined(second))
    asyncio.run(app.left(first))  # a late leave of an earlier session changes nothing
    assert app.session is second
    asyncio.run(app.left(second))
    assert app.session is None and done[-1] == "onleave"

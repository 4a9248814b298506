"""wamp_twisted against a real Crossbar.io router, under the real Twisted reactor.

The issue's acceptance list, each feature through the Autobahn-style Twisted API
(``ApplicationRunner(...).run(make, start_reactor=False)``, Deferred-returning
``call``/``register``/``subscribe``/``publish``): every authentication method
(and a wrong credential for each; onChallenge answers), both transports with the
three serializers and Unix sockets, progressive results, the three cancel modes
through ``Deferred.cancel()``, call timeouts, pattern-based and shared
registrations, caller and publisher disclosure, publisher exclusion and
black/white listing, acknowledged publications, retained events, the session
meta API, errors with args and kwargs both ways, custom exceptions, onUserError,
sessions the router ends or we disconnect, and oversized messages. Service
start/stop and the router restart are in ``test_twisted_reconnect.py``; TLS and
proxies in ``test_proxy_and_tls.py``.

The global reactor runs once per process, in a thread (``twisted_reactor.py``);
each test hands a scenario (an ``async def``) to it and waits for its outcome,
bounded by TIMEOUT. Scenarios assert inside the reactor thread; a failed
assertion comes back to the test as it is. Sessions come from
``twisted_client.py``. Tests on the shared ``crossbar`` node work under URIs of
their own (``unique()``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.defer import CancelledError, Deferred

import wamp_core as wamp
from tests.integration.crossbar_node import CrossbarNode
from tests.integration.twisted_client import (
    REALM,
    Client,
    Inbox,
    Latch,
    Outgoing,
    authentication,
    close,
    connect,
    outcome,
    publish,
    start,
    unique,
)
from tests.integration.twisted_reactor import ReactorThread
from wamp_core.auth import compute_wcs, derive_key
from wamp_core.exception import ApplicationError, SessionNotReady, TransportLost
from wamp_core.messages import Cancel, Error
from wamp_core.request import Publication, Registration, Subscription
from wamp_core.transports import MessageTooBigToSend
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    Challenge,
    CloseDetails,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)
from wamp_twisted import ApplicationRunner, Session
from wamp_twisted.util import sleep

pytestmark = pytest.mark.integration

SERIALIZERS = ["json", "msgpack", "cbor"]
TIMEOUT = 15.0  # seconds for any one scenario; they take well under one
NOT_AUTHORIZED = ApplicationError.NOT_AUTHORIZED

# What Crossbar 26.10.1 answers to a wrong credential (see test_router_smoke.py).
WRONG_CREDENTIAL_MESSAGES = {
    "ticket": "ticket in static WAMP-Ticket authentication is invalid",
    "wampcra": "WAMP-CRA client signature is invalid",
    "wampcra_salted": "WAMP-CRA client signature is invalid",
    "cryptosign": (
        "extra.pubkey provided does not match any one of authorized_keys for the principal"
    ),
    "scram": "SCRAM authentication failed",
}


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@pytest.fixture
def run(reactor_thread: ReactorThread) -> Callable[..., Any]:
    """``run(scenario, *args)``: the scenario in the reactor thread, within TIMEOUT."""
    return functools.partial(reactor_thread.run, timeout=TIMEOUT)


def echo(*args: Any, **kwargs: Any) -> CallResult:
    return CallResult(*args, **kwargs)


# ---- authentication


AUTH_CASES = [
    ("ticket", "ws", False),
    ("wampcra", "rs", False),
    ("wampcra_salted", "ws", False),
    ("cryptosign", "rs", False),
    ("cryptosign", "ws", True),  # key=CryptosignKey instead of Autobahn's privkey=
    ("scram", "rs", False),
]


@pytest.mark.parametrize(
    ("name", "transport", "key_object"),
    AUTH_CASES,
    ids=[f"{n}-{t}{'-key' if k else ''}" for n, t, k in AUTH_CASES],
)
def test_authenticate(
    crossbar: CrossbarNode, run: Callable[..., Any], name: str, transport: str, key_object: bool
) -> None:
    principal = dict(crossbar.principals[name])
    auth = authentication(principal, key_object=key_object)

    async def scenario() -> None:
        async with connect(crossbar.urls[transport], authentication=auth) as session:
            details = session.details
            assert details is not None and details == session.joined.value
            assert details.authid == principal["authid"]
            assert details.authmethod == principal["authmethod"]
            assert (details.authrole, details.authprovider) == (principal["role"], "static")
            # The router agrees on who we are.
            own = await session.call("wamp.session.get", session.session_id)
            assert (own["authid"], own["authrole"]) == (principal["authid"], principal["role"])

    run(scenario)


class ChallengeAnswerer(Client):
    """Autobahn's way: join with authmethods in onConnect, sign in onChallenge
    (``config.extra`` holds the principal, as ApplicationRunner(extra=...) gave it)."""

    def onConnect(self) -> None:
        principal = self.config.extra
        self.join(REALM, authmethods=[principal["authmethod"]], authid=principal["authid"])

    def onChallenge(self, challenge: Challenge) -> Any:
        principal = self.config.extra
        if challenge.method == "ticket":
            return principal["ticket"]
        key: str | bytes = principal["secret"]
        if "salt" in challenge.extra:
            extra = challenge.extra
            key = derive_key(key, extra["salt"], extra["iterations"], extra["keylen"])
        # bytes, as Autobahn's auth.compute_wcs returns it (Autobahn decodes it)
        return compute_wcs(key, challenge.extra["challenge"])


@pytest.mark.parametrize("name", ["ticket", "wampcra", "wampcra_salted"])
def test_authenticate_in_on_challenge(
    crossbar: CrossbarNode, run: Callable[..., Any], name: str
) -> None:
    principal = dict(crossbar.principals[name])

    async def scenario() -> None:
        async with connect(crossbar.rs_url, ChallengeAnswerer, extra=principal) as session:
            assert session.details is not None
            assert session.details.authid == principal["authid"]
            assert session.details.authmethod == principal["authmethod"]

    run(scenario)


class NoAnswer(ChallengeAnswerer):
    """An onChallenge that raises, or returns what is not a signature."""

    def onChallenge(self, challenge: Challenge) -> Any:
        answer = self.config.extra["answer"]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (ValueError("no key here"), "no key here"),
        (42, "signature must be a string, not int"),
        (None, "signature must be a string, not NoneType"),
        (b"\xff", "signature bytes are not UTF-8 text"),  # UTF-8 bytes are an answer
    ],
    ids=["raises", "int", "none", "undecodable-bytes"],
)
def test_no_answer_to_a_challenge_aborts(
    crossbar: CrossbarNode, run: Callable[..., Any], answer: Any, message: str
) -> None:
    """Our ABORT (wamp.error.authentication_failed) ends the join at once, onLeave
    says why and onUserError has the error: no session hangs in authentication."""
    principal = {**crossbar.principals["wampcra"], "answer": answer}

    async def scenario() -> None:
        client = await start(crossbar.ws_url, NoAnswer, extra=principal)
        details = await outcome(client)
        assert details == CloseDetails(ApplicationError.AUTHENTICATION_FAILED, message)
        await client.disconnected.wait()
        ((error, text),) = client.user_errors
        assert (str(error), text) == (message, "on_challenge raised")

    run(scenario)


@pytest.mark.parametrize("name", list(WRONG_CREDENTIAL_MESSAGES))
def test_wrong_credential_is_a_clear_error(
    crossbar: CrossbarNode, run: Callable[..., Any], name: str
) -> None:
    """As in Autobahn, a refused join is onLeave with the router's reason and
    message (onJoin never runs), and the transport closes; with no reconnect the
    runner is done."""
    principal = dict(crossbar.wrong_principals[name])

    async def scenario() -> None:
        runner = ApplicationRunner(crossbar.ws_url, REALM, authentication=authentication(principal))
        proto = await runner.run(Client, start_reactor=False)
        client = proto.session
        assert isinstance(client, Client)
        details = await outcome(client)
        assert details == CloseDetails(NOT_AUTHORIZED, WRONG_CREDENTIAL_MESSAGES[name])
        await client.disconnected.wait()
        assert runner.done is not None
        await runner.done
        assert not client.joined.is_set and not client.is_attached()
        assert client.user_errors == []

    run(scenario)


def test_unknown_authid_and_unknown_realm(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    nobody = {"ticket": {"authid": "nobody", "ticket": "x"}}

    async def scenario() -> None:
        with pytest.raises(ApplicationError) as caught:
            async with connect(crossbar.rs_url, authentication=nobody):
                pytest.fail("joined as nobody")
        assert (caught.value.error, caught.value.args) == (
            NOT_AUTHORIZED,
            ('no principal with authid "nobody" exists',),
        )
        client = await start(crossbar.ws_url, Client, realm="com.twisted.no_such_realm")
        assert await outcome(client) == CloseDetails(
            ApplicationError.NO_SUCH_REALM,
            'no realm "com.twisted.no_such_realm" exists on this router',
        )
        await client.disconnected.wait()

    run(scenario)


# ---- transports and serializers

# Through every serializer and back: text beyond ASCII, the largest exact JSON
# integer of WAMP ids, floats, nesting, and binary (JSON's "\0" + base64 rule).
PAYLOAD = {
    "text": "grüße ☃ \U0001f600",
    "big": 2**53,
    "negative": -7,
    "float": 1.5,
    "nested": [1, [None, True, False], {"k": "v"}],
    "binary": b"\x00\x01\xfe\xff",
}


async def round_trip(session: Session) -> None:
    procedure = unique()
    await session.register(echo, procedure)
    result = await session.call(procedure, PAYLOAD, b"\x00raw", flag=True, data=b"\xff")
    assert isinstance(result, CallResult)
    assert result.results == (PAYLOAD, b"\x00raw")
    assert result.kwresults == {"flag": True, "data": b"\xff"}
    count = await session.call("wamp.session.count")
    assert isinstance(count, int) and count >= 1


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("transport", ["ws", "rs"])
def test_transport_and_serializer(
    crossbar: CrossbarNode, run: Callable[..., Any], transport: str, serializer: str
) -> None:
    async def scenario() -> None:
        async with connect(crossbar.urls[transport], serializers=[serializer]) as session:
            assert session.details is not None
            assert session.details.serializer == serializer
            await round_trip(session)

    run(scenario)


@pytest.mark.parametrize("endpoint", ["ws_unix", "rs_unix"])
def test_unix_sockets(crossbar: CrossbarNode, run: Callable[..., Any], endpoint: str) -> None:
    async def scenario() -> None:
        async with connect(crossbar.urls[endpoint], serializers=["cbor"]) as session:
            await round_trip(session)
            transport = (await session.call("wamp.session.get", session.session_id))["transport"]
            framing = "websocket" if endpoint.startswith("ws") else "rawsocket"
            assert (transport["channel_framing"], transport["is_secure"]) == (framing, False)
            assert transport["peer"] == "unix"

    run(scenario)


# ---- RPC


def test_endpoint_and_handler_styles(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """Endpoints and event handlers may be plain functions, inlineCallbacks
    generators, coroutine functions, or return a Deferred; the returned handles
    unregister and unsubscribe."""
    base = unique()
    heard: dict[str, Latch[tuple[Any, ...]]] = {name: Latch() for name in ("plain", "gen", "coro")}

    def plain(x: int) -> int:
        return x + 1

    @defer.inlineCallbacks
    def generator(x: int) -> Any:
        value = yield defer.succeed(x * 10)
        return value

    async def coroutine(x: int) -> int:
        await sleep(0)
        return x * 100

    def deferred(x: int) -> Deferred[int]:
        return defer.succeed(-x)

    @defer.inlineCallbacks
    def gen_handler(*args: Any) -> Any:
        yield sleep(0)
        heard["gen"].set(args)

    async def coro_handler(*args: Any) -> None:
        await sleep(0)
        heard["coro"].set(args)

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as callee, connect(crossbar.rs_url) as caller:
            registrations = []
            for fn in (plain, generator, coroutine, deferred):
                registration = await callee.register(fn, f"{base}.{fn.__name__}")
                assert isinstance(registration, Registration) and registration.active
                registrations.append(registration)
            results = [
                await caller.call(f"{base}.{r.procedure.rsplit('.')[-1]}", 3) for r in registrations
            ]
            assert results == [4, 30, 300, -3]
            subscriptions: list[Subscription] = [
                await callee.subscribe(lambda *a: heard["plain"].set(a), f"{base}.topic"),
                await callee.subscribe(gen_handler, f"{base}.topic"),
                await callee.subscribe(coro_handler, f"{base}.topic"),
            ]
            await publish(caller, f"{base}.topic", 7)
            for latch in heard.values():
                assert await latch.wait() == (7,)

            await registrations[0].unregister()
            assert not registrations[0].active
            with pytest.raises(ApplicationError) as caught:
                await caller.call(f"{base}.plain", 1)
            assert caught.value.error == ApplicationError.NO_SUCH_PROCEDURE
            for subscription in subscriptions:
                await subscription.unsubscribe()
                assert not subscription.active
            stats = await caller.call("wamp.subscription.lookup", f"{base}.topic")
            assert stats is None  # no subscription left at the router

    run(scenario)


def test_progressive_results(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    procedure = unique()

    async def countdown(n: int, details: CallDetails) -> str:
        for i in range(n, 0, -1):
            if details.progress is not None:  # only when the caller asked
                details.progress(i, remaining=i)
            await sleep(0.01)
        return "liftoff"

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url, serializers=["json"]) as callee,
            connect(crossbar.rs_url, serializers=["cbor"]) as caller,
        ):
            await callee.register(countdown, procedure, RegisterOptions(details_arg="details"))
            chunks: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            options = CallOptions(on_progress=lambda *a, **kw: chunks.append((a, kw)))
            assert await caller.call(procedure, 3, options=options) == "liftoff"
            assert chunks == [((i,), {"remaining": i}) for i in (3, 2, 1)]
            # Without on_progress: no progress is asked for, only the final result.
            assert await caller.call(procedure, 2) == "liftoff"
            assert len(chunks) == 3

    run(scenario)


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
def test_cancel(crossbar: CrossbarNode, run: Callable[..., Any], mode: str) -> None:
    """``Deferred.cancel()`` on a call's Deferred sends CANCEL in the session's
    ``cancel_mode`` and fails the Deferred with CancelledError: "skip" leaves the
    callee running; "kill" and "killnowait" interrupt it, its endpoint's Deferred is
    canceled and it answers wamp.error.canceled."""
    procedure, ping = unique(), unique()
    started: Latch[None] = Latch()
    finished: Latch[None] = Latch()
    releases: list[Deferred[None]] = []
    outcomes: list[str] = []

    async def slow() -> str:
        started.set(None)
        release: Deferred[None] = Deferred()
        releases.append(release)
        try:
            await release
            outcomes.append("returned")
            return "late"
        except CancelledError:
            outcomes.append("canceled")
            raise
        finally:
            finished.set(None)

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as callee, connect(crossbar.rs_url) as caller:
            await callee.register(slow, procedure)
            await callee.register(lambda: "pong", ping)
            callee_sent, caller_sent = Outgoing(callee), Outgoing(caller)
            caller.cancel_mode = mode
            call = caller.call(procedure)
            await started.wait()
            call.cancel()
            with pytest.raises(CancelledError):
                await call
            assert [m.mode for m in caller_sent.sent if isinstance(m, Cancel)] == [mode]
            # A later call passes the router after the CANCEL: any INTERRUPT for the
            # callee is on its wire before this call's INVOCATION.
            assert await caller.call(ping) == "pong"
            for release in releases:
                if not release.called:
                    release.callback(None)
            await finished.wait()
            if mode == "skip":
                assert outcomes == ["returned"]  # never interrupted
                assert not callee_sent.error_sent.is_set
            else:
                assert outcomes == ["canceled"]
                await callee_sent.error_sent.wait()
                errors = [m for m in callee_sent.sent if isinstance(m, Error)]
                assert [(e.request_type, e.error) for e in errors] == [
                    (68, ApplicationError.CANCELED)  # ERROR for an INVOCATION
                ]
            # Both sessions still work.
            assert await caller.call(ping) == "pong"

    run(scenario)


def test_call_timeout(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """Our own deadline ends the call with wamp.error.timeout (the router's timer, on
    the wire's whole seconds rounded up plus one, comes later), and the callee's
    invocation is interrupted."""
    procedure = unique()
    interrupted: Latch[None] = Latch()

    async def slow() -> None:
        try:
            await sleep(30)
        except CancelledError:
            interrupted.set(None)
            raise

    async def scenario() -> None:
        from twisted.internet import reactor

        clock: Any = reactor  # (the module is typed as a module)
        async with connect(crossbar.ws_url) as callee, connect(crossbar.rs_url) as caller:
            await callee.register(slow, procedure)
            began = clock.seconds()
            with pytest.raises(ApplicationError) as caught:
                await caller.call(procedure, options=CallOptions(timeout=0.3))
            assert caught.value.error == ApplicationError.TIMEOUT
            assert clock.seconds() - began >= 0.3  # (our deadline, on the same clock)
            await interrupted.wait()  # the invocation does not run on for 30 s
            # A call within its timeout is unaffected.
            await callee.register(lambda: "quick", f"{procedure}.quick")
            options = CallOptions(timeout=5)
            assert await caller.call(f"{procedure}.quick", options=options) == "quick"

    run(scenario)


def test_pattern_based_registrations(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    base = unique()

    def which(*args: Any, details: CallDetails) -> str | None:
        return details.procedure

    options = {
        "prefix": RegisterOptions(match="prefix", details_arg="details"),
        "wildcard": RegisterOptions(match="wildcard", details_arg="details"),
        "exact": RegisterOptions(details_arg="details"),
    }

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as callee, connect(crossbar.rs_url) as caller:
            await callee.register(which, f"{base}.prefix", options["prefix"])
            await callee.register(which, f"{base}..op", options["wildcard"])
            await callee.register(which, f"{base}.exact", options["exact"])
            for procedure in (
                f"{base}.prefix.a.b",
                f"{base}.prefix",
                f"{base}.x.op",
                f"{base}.exact",
            ):
                assert await caller.call(procedure, 1) == procedure
            with pytest.raises(ApplicationError) as caught:
                await caller.call(f"{base}.x.other")
            assert caught.value.error == ApplicationError.NO_SUCH_PROCEDURE

    run(scenario)


def test_shared_registration_roundrobin(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    procedure = unique()

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            callees = [await stack.enter_async_context(connect(crossbar.ws_url)) for _ in "ab"]
            caller = await stack.enter_async_context(connect(crossbar.rs_url))
            for index, callee in enumerate(callees):
                await callee.register(
                    lambda index=index: index, procedure, RegisterOptions(invoke="roundrobin")
                )
            served = [await caller.call(procedure) for _ in range(6)]
            first = served[0]
            assert served == [first, 1 - first] * 3

    run(scenario)


def test_caller_disclosure(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    procedure = unique()

    def who(details: CallDetails) -> list[Any]:
        return [details.caller, details.caller_authid, details.caller_authrole]

    joe = authentication(crossbar.principals["ticket"])

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url) as callee,
            connect(crossbar.rs_url, authentication=joe) as caller,
        ):
            await callee.register(who, procedure, RegisterOptions(details_arg="details"))
            assert await caller.call(procedure) == [caller.session_id, "joe", "user"]

    run(scenario)


def test_application_error_with_args_and_kwargs(
    crossbar: CrossbarNode, run: Callable[..., Any]
) -> None:
    """What a callee raises reaches the caller intact, both ways between a JSON and a
    MessagePack session; so does a plain exception (as wamp.error.runtime_error with
    its args), and the router's own errors are ApplicationErrors too."""
    base = unique()

    def failing(name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise ApplicationError(f"{base}.{name}.error", *args, a=3, echo=kwargs)

        return fail

    def fail_plain() -> None:
        raise ValueError("bad value", 7)

    async def fail_later() -> None:
        await sleep(0)
        raise ApplicationError(f"{base}.later", "after a while")

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url, serializers=["json"]) as json_session,
            connect(crossbar.rs_url, serializers=["msgpack"]) as msgpack_session,
        ):
            sessions = {"json": json_session, "msgpack": msgpack_session}
            for name, session in sessions.items():
                await session.register(failing(name), f"{base}.{name}.fail")
                await session.register(fail_plain, f"{base}.{name}.plain")
            for callee, caller in (("json", "msgpack"), ("msgpack", "json")):
                with pytest.raises(ApplicationError) as caught:
                    await sessions[caller].call(f"{base}.{callee}.fail", 1, 2, nested=[{"x": None}])
                error = caught.value
                assert (error.error, error.args) == (f"{base}.{callee}.error", (1, 2))
                assert error.kwargs == {"a": 3, "echo": {"nested": [{"x": None}]}}

                with pytest.raises(ApplicationError) as caught:
                    await sessions[caller].call(f"{base}.{callee}.plain")
                assert caught.value.error == ApplicationError.RUNTIME_ERROR
                assert caught.value.args == ("bad value", 7)

            await json_session.register(fail_later, f"{base}.later")
            with pytest.raises(ApplicationError) as caught:
                await msgpack_session.call(f"{base}.later")
            assert (caught.value.error, caught.value.args) == (f"{base}.later", ("after a while",))

            with pytest.raises(ApplicationError) as caught:
                await json_session.call(f"{base}.missing")
            assert caught.value.error == ApplicationError.NO_SUCH_PROCEDURE
            assert await json_session.call("wamp.session.count") >= 2  # all still well

    run(scenario)


class OutOfStock(Exception):
    """Mapped with ``define(OutOfStock, uri)``."""


@wamp.error("com.twisted.features.error.too_small")
class TooSmall(Exception):
    """Mapped with ``@wamp.error`` and ``define(TooSmall)``."""


def test_custom_exceptions(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    base = unique()
    out_of_stock = f"{base}.out_of_stock"

    def order(item: str, amount: int) -> str:
        if amount > 3:
            raise OutOfStock(f"only 3 {item}s left", 3)
        return "ordered"

    def compare(a: int, b: int) -> None:
        if a < b:
            raise TooSmall(f"off by {b - a}")

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url) as callee,
            connect(crossbar.rs_url) as caller,
            connect(crossbar.ws_url) as unaware,  # defines nothing
        ):
            for session in (callee, caller):
                session.define(OutOfStock, out_of_stock)
                session.define(TooSmall)
            await callee.register(order, f"{base}.order")
            await callee.register(compare, f"{base}.compare")

            assert await caller.call(f"{base}.order", "donut", 2) == "ordered"
            with pytest.raises(OutOfStock) as caught:
                await caller.call(f"{base}.order", "donut", 12)
            assert caught.value.args == ("only 3 donuts left", 3)
            with pytest.raises(TooSmall) as too_small:
                await caller.call(f"{base}.compare", 1, 10)
            assert too_small.value.args == ("off by 9",)

            # On the wire it is an ERROR with the URI: a session without the mapping
            # gets an ApplicationError.
            with pytest.raises(ApplicationError) as plain:
                await unaware.call(f"{base}.order", "donut", 12)
            assert (plain.value.error, plain.value.args) == (
                out_of_stock,
                ("only 3 donuts left", 3),
            )
            with pytest.raises(ApplicationError) as plain:
                await unaware.call(f"{base}.compare", 1, 10)
            assert plain.value.error == "com.twisted.features.error.too_small"

    run(scenario)


# ---- PubSub

WITH_DETAILS = SubscribeOptions(details_arg="details")
ACKNOWLEDGED = PublishOptions(acknowledge=True)


def test_publisher_disclosure_and_acknowledged_publish(
    crossbar: CrossbarNode, run: Callable[..., Any]
) -> None:
    topic = unique()
    peter = authentication(crossbar.principals["wampcra"])

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url, serializers=["cbor"]) as subscriber,
            connect(crossbar.rs_url, authentication=peter) as publisher,
        ):
            inbox = Inbox()
            await subscriber.subscribe(inbox.receive, topic, WITH_DETAILS)
            publication = await publish(publisher, topic, 1, "two", three=3.5)
            assert isinstance(publication, Publication)
            assert isinstance(publication.id, int) and publication.id > 0
            assert publisher.publish(topic, "unacknowledged") is None
            first, second = await inbox.take(2)
            assert (first.args, first.kwargs) == ((1, "two"), {"three": 3.5})
            details = first.details
            assert details is not None
            assert details.publication == publication.id
            assert details.publisher == publisher.session_id
            assert (details.publisher_authid, details.publisher_authrole) == ("peter", "user")
            assert details.topic == topic
            assert second.args == ("unacknowledged",)

    run(scenario)


def test_publisher_exclusion(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    topic = unique()
    hear_myself = PublishOptions(acknowledge=True, exclude_me=False)

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as session:
            inbox = Inbox()
            await session.subscribe(inbox.receive, topic, WITH_DETAILS)
            await publish(session, topic, "excluded by default")
            await publish(session, topic, "heard", options=hear_myself)
            # The first publication would have arrived before the second.
            (event,) = await inbox.take(1)
            assert event.args == ("heard",)
            assert event.details is not None
            assert event.details.publisher == session.session_id
            assert len(inbox.events) == 1

    run(scenario)


def test_exclude_and_eligible(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """Black- and whitelisting by session id, authid and authrole."""
    topic = unique()
    joe = authentication(crossbar.principals["ticket"])  # authid joe, role user

    def options(**kwargs: Any) -> PublishOptions:
        return PublishOptions(acknowledge=True, **kwargs)

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url) as publisher,
            connect(crossbar.rs_url, authentication=joe) as user,
            connect(crossbar.ws_url) as anonymous,
        ):
            user_inbox, anonymous_inbox = Inbox(), Inbox()
            await user.subscribe(user_inbox.receive, topic)
            await anonymous.subscribe(anonymous_inbox.receive, topic)
            assert user.session_id is not None and anonymous.session_id is not None
            await publish(publisher, topic, 1, options=options(exclude=[user.session_id]))
            await publish(publisher, topic, 2, options=options(eligible=[user.session_id]))
            await publish(publisher, topic, 3, options=options(exclude_authid=["joe"]))
            await publish(publisher, topic, 4, options=options(eligible_authrole=["user"]))
            await publish(
                publisher,
                topic,
                5,
                options=options(
                    eligible=[user.session_id, anonymous.session_id], exclude=[user.session_id]
                ),
            )
            await publish(publisher, topic, "end", options=options())
            assert await user_inbox.until("end") == [2, 4, "end"]
            assert await anonymous_inbox.until("end") == [1, 3, 5, "end"]

    run(scenario)


def test_retained_event(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    topic = unique()

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as publisher:
            kept = await publish(
                publisher, topic, "kept", n=1, options=PublishOptions(acknowledge=True, retain=True)
            )
            assert isinstance(kept, Publication)
        async with connect(crossbar.rs_url, serializers=["json"]) as late:
            inbox = Inbox()
            retained = SubscribeOptions(get_retained=True, details_arg="details")
            await late.subscribe(inbox.receive, topic, retained)
            (event,) = await inbox.take(1)
            assert (event.args, event.kwargs) == (("kept",), {"n": 1})
            assert event.details is not None and event.details.retained is True
        async with connect(crossbar.rs_url) as late:
            # Without get_retained nothing comes: the next event is a new one.
            inbox = Inbox()
            await late.subscribe(inbox.receive, topic, WITH_DETAILS)
            hear_myself = PublishOptions(acknowledge=True, exclude_me=False)
            await publish(late, topic, "new", options=hear_myself)
            (event,) = await inbox.take(1)
            assert event.args == ("new",)
            assert event.details is not None and not event.details.retained

    run(scenario)


def test_decorated_handler_object(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """``subscribe(obj)`` and ``register(obj)`` with ``@wamp.subscribe``/``@wamp.register``."""
    base = unique()
    heard: Latch[str] = Latch()

    class Handlers:
        @wamp.register(f"{base}.add")
        def add(self, a: int, b: int) -> int:
            return a + b

        @wamp.subscribe(f"{base}.news")
        def news(self, text: str) -> None:
            heard.set(text)

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as session, connect(crossbar.rs_url) as other:
            handlers = Handlers()
            registrations = await session.register(handlers)
            subscriptions = await session.subscribe(handlers)
            assert [r.procedure for r in registrations] == [f"{base}.add"]
            assert len(subscriptions) == 1 and subscriptions[0].active
            assert await other.call(f"{base}.add", 2, 3) == 5
            await publish(other, f"{base}.news", "hi")
            assert await heard.wait() == "hi"

    run(scenario)


def test_pattern_based_subscriptions(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    base = unique()

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as subscriber, connect(crossbar.rs_url) as publisher:
            by_prefix, by_wildcard = Inbox(), Inbox()
            prefix = SubscribeOptions(match="prefix", details_arg="details")
            wildcard = SubscribeOptions(match="wildcard", details_arg="details")
            await subscriber.subscribe(by_prefix.receive, base, prefix)
            await subscriber.subscribe(by_wildcard.receive, f"{base}..temp", wildcard)
            topics = [f"{base}.kitchen.temp", f"{base}.hall.light", f"{base}.hall.temp"]
            for topic in topics:
                await publish(publisher, topic, topic)
            prefixed = await by_prefix.take(3)
            assert [e.args[0] for e in prefixed] == topics
            assert [e.details.topic for e in prefixed if e.details] == topics
            temperatures = await by_wildcard.take(2)
            assert [e.details.topic for e in temperatures if e.details] == [topics[0], topics[2]]

    run(scenario)


# ---- the session meta API


def test_session_meta_api(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    joe = authentication(crossbar.principals["ticket"])

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url, authentication=joe) as first,
            connect(crossbar.rs_url, serializers=["json"]) as second,
        ):
            count = await first.call("wamp.session.count")
            assert isinstance(count, int) and count >= 2
            listed = await second.call("wamp.session.list")
            assert {first.session_id, second.session_id} <= set(listed)
            own = await first.call("wamp.session.get", first.session_id)
            assert own["session"] == first.session_id
            assert (own["authid"], own["authrole"], own["authmethod"]) == ("joe", "user", "ticket")
            with pytest.raises(ApplicationError) as caught:
                await first.call("wamp.session.get", 1)  # no such session
            assert caught.value.error == ApplicationError.NO_SUCH_SESSION

    run(scenario)


# ---- sessions ending


def test_leaving(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """leave() fires with the CloseDetails once the router answered; onLeave and
    onDisconnect follow; the session refuses requests after."""

    async def scenario() -> None:
        client = await start(crossbar.ws_url, Client)
        await client.joined.wait()
        details = await client.leave(message="bye")
        assert details == CloseDetails("wamp.close.normal", None)
        assert await client.left.wait() == details
        await client.disconnected.wait()
        assert not client.is_attached() and not client.is_connected()
        with pytest.raises(SessionNotReady):
            client.call("wamp.session.count")
        with pytest.raises(SessionNotReady):
            client.publish("com.twisted.anything")

    run(scenario)


def test_router_ends_the_session(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """The router kills our session (``wamp.session.kill``: GOODBYE): a pending call
    fails at once with the router's reason, onLeave hears it, the transport closes."""
    procedure = unique()

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as other:
            await other.register(lambda: sleep(30), procedure)
            victim = await start(crossbar.rs_url, Client)
            await victim.joined.wait()
            pending = victim.call(procedure)
            # Once a later call has its answer, the first CALL is at the router.
            assert await victim.call("wamp.session.count") >= 2
            await other.call(
                "wamp.session.kill",
                victim.session_id,
                reason="com.twisted.killed",
                message="go away",
            )
            with pytest.raises(ApplicationError) as caught:
                await pending
            assert (caught.value.error, caught.value.args) == ("com.twisted.killed", ("go away",))
            assert await victim.left.wait() == CloseDetails("com.twisted.killed", "go away")
            await victim.disconnected.wait()
            assert not victim.is_attached()
            assert await other.call("wamp.session.count") >= 1

    run(scenario)


def test_disconnect_fails_what_is_pending(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """disconnect() with requests in flight: each Deferred fails with TransportLost,
    onLeave hears wamp.close.transport_lost, then onDisconnect."""
    procedure = unique()

    async def scenario() -> None:
        async with connect(crossbar.ws_url) as other:
            await other.register(lambda: sleep(30), procedure)
            client = await start(crossbar.rs_url, Client)
            await client.joined.wait()
            call = client.call(procedure)
            subscribing = client.subscribe(lambda: None, unique())
            publishing = client.publish(unique(), options=ACKNOWLEDGED)
            client.disconnect()
            for pending in (call, subscribing, publishing):
                assert pending is not None
                with pytest.raises(TransportLost):
                    await pending
            left = await client.left.wait()
            assert left.reason == CloseDetails.REASON_TRANSPORT_LOST
            await client.disconnected.wait()

    run(scenario)


class Careless(Client):
    """Raises in onJoin (after joining: the session goes on)."""

    def onJoin(self, details: SessionDetails) -> None:
        super().onJoin(details)
        raise RuntimeError("onJoin broke")


def test_user_errors(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """Errors nobody waits for reach onUserError, and the session goes on: from a
    hook, from an event handler (plain or async); an endpoint's error is an answer
    to its caller, not a user error."""
    topic, procedure = unique(), unique()

    def broken_handler(n: int) -> None:
        raise ValueError(f"handler broke on {n}")

    async def broken_async_handler(n: int) -> None:
        await sleep(0)
        raise KeyError(n)

    async def scenario() -> None:
        client = await start(crossbar.ws_url, Careless)
        try:
            await client.joined.wait()
            await client.subscribe(broken_handler, topic)
            await client.subscribe(broken_async_handler, topic)
            await client.register(broken_handler, procedure)
            inbox = Inbox()
            await client.subscribe(inbox.receive, topic)
            async with connect(crossbar.rs_url) as other:
                for n in (1, 2):
                    await publish(other, topic, n)
                await inbox.take(2)
                with pytest.raises(ApplicationError) as caught:
                    await other.call(procedure, 3)
                assert caught.value.args == ("handler broke on 3",)
            assert client.is_attached()
            reported = [(repr(error), text) for error, text in client.user_errors]
            assert reported[0] == ("RuntimeError('onJoin broke')", "on_join raised")
            in_handlers = f"event handler for {topic} raised"
            assert sorted(reported[1:]) == [
                ("KeyError(1)", in_handlers),
                ("KeyError(2)", in_handlers),
                ("ValueError('handler broke on 1')", in_handlers),
                ("ValueError('handler broke on 2')", in_handlers),
            ]
        finally:
            await close(client)

    run(scenario)


# ---- oversized messages


def test_outgoing_message_over_the_limit_fails_the_request_only(
    crossbar: CrossbarNode, run: Callable[..., Any]
) -> None:
    """Over the WebSocket limit we set: the request that made the message raises
    MessageTooBigToSend before anything is sent, and the session goes on."""
    base = unique()
    limit = 4096
    big = "x" * (2 * limit)
    small_messages = {"max_message_size": limit}

    async def scenario() -> None:
        async with (
            connect(crossbar.ws_url, websocket_options=small_messages) as small,
            connect(crossbar.rs_url) as other,
        ):
            inbox = Inbox()
            await other.subscribe(inbox.receive, f"{base}.topic")
            await small.register(echo, f"{base}.echo")
            small.publish(f"{base}.topic", "before")
            with pytest.raises(MessageTooBigToSend) as caught:
                small.call(f"{base}.echo", big)
            assert f"exceeds the router's limit ({limit} bytes)" in str(caught.value)
            with pytest.raises(MessageTooBigToSend):
                small.publish(f"{base}.topic", big, options=ACKNOWLEDGED)
            small.publish(f"{base}.topic", "after")
            # Nothing else was lost or disturbed.
            assert await small.call(f"{base}.echo", "small") == "small"
            assert [e.args[0] for e in await inbox.take(2)] == ["before", "after"]
            assert small.is_attached()

    run(scenario)


def test_incoming_message_over_our_websocket_limit(
    crossbar: CrossbarNode, run: Callable[..., Any]
) -> None:
    """WebSocket negotiates no limit: a message over ours ends the connection
    (close 1009), and what was pending fails at once with a TransportLost that
    says why."""
    base = unique()
    limit = 4096

    async def scenario() -> None:
        async with connect(crossbar.rs_url) as other:
            await other.register(lambda n: "w" * n, f"{base}.make")
            await other.register(lambda: sleep(30), f"{base}.wait")
            small = await start(
                crossbar.ws_url, Client, websocket_options={"max_message_size": limit}
            )
            await small.joined.wait()
            waiting = small.call(f"{base}.wait")
            assert await small.call(f"{base}.make", 10) == "w" * 10
            with pytest.raises(TransportLost) as caught:
                await small.call(f"{base}.make", 2 * limit)
            assert f"exceeds the limit of {limit}" in str(caught.value), caught.value
            with pytest.raises(TransportLost):
                await waiting
            await small.disconnected.wait()
            assert not small.is_attached()

    run(scenario)

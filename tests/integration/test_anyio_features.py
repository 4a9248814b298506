"""wamp_anyio against a real Crossbar.io router, under asyncio and trio.

The issue's acceptance list, each feature through the structured API
(``async with wamp_anyio.connect(...) as session``): every authentication method
(and a wrong credential for each), every transport and serializer (TLS and Unix
sockets too), progressive results, the three cancel modes, call timeouts,
pattern-based and shared registrations, caller and publisher disclosure,
publisher exclusion and black/white listing, acknowledged publications, retained
events, the session meta API, errors with args and kwargs, custom exceptions,
sessions the router ends, and oversized messages. The router restart tests
(ApplicationRunner, ``reconnecting()``) are in ``test_anyio_reconnect.py``: they
need a node of their own.

Everything runs on the shared ``crossbar`` node: each test works under URIs of its
own (``unique()``), and every test is bounded by ``anyio.fail_after``.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest

import wamp_core as wamp
from tests.integration.crossbar_node import CrossbarNode
from wamp_anyio import ReceivedEvent, Session, connect
from wamp_core.auth import CryptosignKey
from wamp_core.exception import ApplicationError, SessionNotReady, TransportLost
from wamp_core.messages import Cancel, Error, Message
from wamp_core.request import Publication
from wamp_core.transports import MessageTooBigToSend
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REALM = "realm1"
SERIALIZERS = ["json", "msgpack", "cbor"]
TIMEOUT = 15.0  # seconds for any one test; they take well under one
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


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def unique(prefix: str = "com.anyio") -> str:
    """A URI no other test uses (the shared node keeps registrations and retained events)."""
    return f"{prefix}.t{uuid.uuid4().hex}"


def authentication(principal: dict[str, Any], *, key_object: bool = False) -> dict[str, Any]:
    """``connect(authentication=...)`` for one principal of ``node.principals``,
    in the form Autobahn's Component takes (authmethod -> credentials)."""
    method, authid = principal["authmethod"], principal["authid"]
    if method == "ticket":
        return {"ticket": {"authid": authid, "ticket": principal["ticket"]}}
    if method == "wampcra":  # salted or not: the client learns the salt from CHALLENGE
        return {"wampcra": {"authid": authid, "secret": principal["secret"]}}
    if method == "cryptosign":
        seed = principal["private_seed_hex"]
        if key_object:
            return {"cryptosign": {"authid": authid, "key": CryptosignKey.from_hex(seed)}}
        return {"cryptosign": {"authid": authid, "privkey": seed}}
    if method == "scram":  # Crossbar's convention
        return {"scram": {"authid": authid, "password": principal["password"]}}
    raise ValueError(method)


async def take(events: AsyncIterator[ReceivedEvent], count: int) -> list[ReceivedEvent]:
    """The next ``count`` events of a ``session.events()`` iterator."""
    out: list[ReceivedEvent] = []
    async for event in events:
        out.append(event)
        if len(out) == count:
            break
    return out


async def until(events: AsyncIterator[ReceivedEvent], last: Any) -> list[Any]:
    """The first args of the events up to the one whose first arg is ``last``."""
    out: list[Any] = []
    async for event in events:
        out.append(event.args[0])
        if event.args[0] == last:
            break
    return out


def single(error: BaseException) -> BaseException:
    """The one exception inside (nested) exception groups, for code that may see one;
    ``connect()`` itself raises its errors unwrapped (tested below)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


class Outgoing:
    """White box: every WAMP message a session queues for the router from now on
    (its core encodes each message as it is queued, through ``encoder``)."""

    def __init__(self, session: Session) -> None:
        self.sent: list[Message] = []
        self.error_sent = anyio.Event()  # an ERROR was among them
        core_session = session._driver.connection.session  # type: ignore[union-attr]
        encode = core_session.encoder

        def recording(message: Message) -> Any:
            self.sent.append(message)
            if isinstance(message, Error):
                self.error_sent.set()
            return encode(message)

        core_session.encoder = recording


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
async def test_authenticate(
    crossbar: CrossbarNode, name: str, transport: str, key_object: bool
) -> None:
    principal = dict(crossbar.principals[name])
    with anyio.fail_after(TIMEOUT):
        async with connect(
            crossbar.urls[transport],
            REALM,
            authentication=authentication(principal, key_object=key_object),
        ) as session:
            details = session.details
            assert details is not None
            assert details.authid == principal["authid"]
            assert details.authmethod == principal["authmethod"]
            assert (details.authrole, details.authprovider) == (principal["role"], "static")
            # The router agrees on who we are.
            own = await session.call("wamp.session.get", session.session_id)
            assert (own["authid"], own["authrole"]) == (principal["authid"], principal["role"])


@pytest.mark.parametrize("name", list(WRONG_CREDENTIAL_MESSAGES))
async def test_wrong_credential_is_a_clear_error(crossbar: CrossbarNode, name: str) -> None:
    principal = dict(crossbar.wrong_principals[name])
    with anyio.fail_after(TIMEOUT):
        with pytest.raises((ApplicationError, BaseExceptionGroup)) as caught:
            async with connect(crossbar.ws_url, REALM, authentication=authentication(principal)):
                pytest.fail("joined with a wrong credential")
    error = single(caught.value)
    assert isinstance(error, ApplicationError)
    assert error.error == NOT_AUTHORIZED
    assert error.args == (WRONG_CREDENTIAL_MESSAGES[name],)
    assert NOT_AUTHORIZED in str(error) and WRONG_CREDENTIAL_MESSAGES[name] in str(error)


async def test_unknown_authid_is_a_clear_error(crossbar: CrossbarNode) -> None:
    with anyio.fail_after(TIMEOUT):
        with pytest.raises((ApplicationError, BaseExceptionGroup)) as caught:
            async with connect(
                crossbar.rs_url,
                REALM,
                authentication={"ticket": {"authid": "nobody", "ticket": "x"}},
            ):
                pytest.fail("joined as nobody")
    error = single(caught.value)
    assert isinstance(error, ApplicationError) and error.error == NOT_AUTHORIZED
    assert error.args == ('no principal with authid "nobody" exists',)


async def test_refused_join_raises_application_error_itself(crossbar: CrossbarNode) -> None:
    """connect()'s docstring: "Raises if the router refuses the join: ApplicationError
    with the router's reason" -- so ``except ApplicationError`` must catch it."""
    wrong = {"ticket": {"authid": "joe", "ticket": "wrong"}}
    with anyio.fail_after(TIMEOUT):
        with pytest.raises(ApplicationError):
            async with connect(crossbar.ws_url, REALM, authentication=wrong):
                pass


class Oops(Exception):
    pass


async def test_an_exception_in_the_block_comes_out_unchanged(crossbar: CrossbarNode) -> None:
    """``async with connect(...) as session: await session.call(...)`` whose call
    fails: the caller's ``except ApplicationError`` around the block must see it."""
    with anyio.fail_after(TIMEOUT):
        with pytest.raises(Oops):
            async with connect(crossbar.ws_url, REALM):
                raise Oops("from the block")


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
async def test_transport_and_serializer(
    crossbar: CrossbarNode, transport: str, serializer: str
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.urls[transport], REALM, serializers=[serializer]) as session:
            assert session.details is not None
            assert session.details.serializer == serializer
            await round_trip(session)


@pytest.mark.parametrize("endpoint", ["wss", "rss", "ws_unix", "rs_unix"])
async def test_tls_and_unix_sockets(crossbar: CrossbarNode, endpoint: str) -> None:
    secure = endpoint in ("wss", "rss")
    with anyio.fail_after(TIMEOUT):
        async with connect(
            crossbar.urls[endpoint],
            REALM,
            serializers=["cbor"],
            ssl=crossbar.ssl_context() if secure else None,
        ) as session:
            await round_trip(session)
            transport = (await session.call("wamp.session.get", session.session_id))["transport"]
            framing = "websocket" if endpoint.startswith("ws") else "rawsocket"
            assert (transport["channel_framing"], transport["is_secure"]) == (framing, secure)
            assert (transport["peer"] == "unix") == endpoint.endswith("unix")


@pytest.mark.parametrize("endpoint", ["wss", "rss"])
async def test_cryptosign_with_tls_channel_binding(crossbar: CrossbarNode, endpoint: str) -> None:
    """The adapter hands the TLS stream's tls-unique to the authenticator."""
    alice = crossbar.principals["cryptosign"]
    credentials = {
        "authid": "alice",
        "privkey": alice["private_seed_hex"],
        "channel_binding": "tls-unique",
    }
    with anyio.fail_after(TIMEOUT):
        async with connect(
            crossbar.urls[endpoint],
            REALM,
            ssl=crossbar.ssl_context(),
            authentication={"cryptosign": credentials},
        ) as session:
            assert session.details is not None
            assert (session.details.authid, session.details.authmethod) == ("alice", "cryptosign")


async def test_untrusted_certificate_is_refused(crossbar: CrossbarNode) -> None:
    import ssl

    with anyio.fail_after(TIMEOUT):
        with pytest.raises(ssl.SSLCertVerificationError):
            async with connect(crossbar.wss_url, REALM):  # the system CAs only
                pytest.fail("connected to an untrusted router")


# ---- RPC


async def test_progressive_results(crossbar: CrossbarNode) -> None:
    procedure = unique()

    async def countdown(n: int, details: CallDetails) -> str:
        for i in range(n, 0, -1):
            if details.progress is not None:  # only when the caller asked
                details.progress(i, remaining=i)
            await anyio.sleep(0.01)
        return "liftoff"

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM, serializers=["json"]) as callee,
            connect(crossbar.rs_url, REALM, serializers=["cbor"]) as caller,
        ):
            await callee.register(countdown, procedure, RegisterOptions(details_arg="details"))
            chunks: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            options = CallOptions(on_progress=lambda *a, **kw: chunks.append((a, kw)))
            assert await caller.call(procedure, 3, options=options) == "liftoff"
            assert chunks == [((i,), {"remaining": i}) for i in (3, 2, 1)]
            # Without on_progress: no progress is asked for, only the final result.
            assert await caller.call(procedure, 2) == "liftoff"
            assert len(chunks) == 3


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
async def test_cancel(crossbar: CrossbarNode, mode: str) -> None:
    """Canceling the task that awaits a call cancels the call, in the session's
    ``cancel_mode``: "skip" leaves the callee running; "kill" and "killnowait"
    interrupt it, and its endpoint's task is canceled and answers wamp.error.canceled."""
    procedure, ping = unique(), unique()
    started, release, finished = anyio.Event(), anyio.Event(), anyio.Event()
    outcome: list[str] = []

    async def slow() -> str:
        started.set()
        try:
            await release.wait()
            outcome.append("returned")
            return "late"
        except anyio.get_cancelled_exc_class():
            outcome.append("canceled")
            raise
        finally:
            finished.set()

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as callee,
            connect(crossbar.rs_url, REALM) as caller,
            anyio.create_task_group() as tg,
        ):
            await callee.register(slow, procedure)
            await callee.register(lambda: "pong", ping)
            callee_sent, caller_sent = Outgoing(callee), Outgoing(caller)
            caller.cancel_mode = mode

            async def cancel_when_started(scope: anyio.CancelScope) -> None:
                await started.wait()
                scope.cancel()

            with anyio.CancelScope() as scope:
                tg.start_soon(cancel_when_started, scope)
                await caller.call(procedure)
                pytest.fail("the call was not canceled")
            assert scope.cancelled_caught
            assert [m.mode for m in caller_sent.sent if isinstance(m, Cancel)] == [mode]
            # A later call passes the router after the CANCEL: any INTERRUPT for the
            # callee is on its wire before this call's INVOCATION.
            assert await caller.call(ping) == "pong"
            release.set()
            await finished.wait()
            if mode == "skip":
                assert outcome == ["returned"]  # never interrupted
                assert not callee_sent.error_sent.is_set()
            else:
                assert outcome == ["canceled"]
                with anyio.fail_after(2):
                    await callee_sent.error_sent.wait()
                errors = [m for m in callee_sent.sent if isinstance(m, Error)]
                assert [(e.request_type, e.error) for e in errors] == [
                    (68, ApplicationError.CANCELED)  # ERROR for an INVOCATION
                ]
            # Both sessions still work.
            assert await caller.call(ping) == "pong"


async def test_call_timeout(crossbar: CrossbarNode) -> None:
    """Our own deadline ends the call with wamp.error.timeout, promptly (Crossbar
    26.10 reads CALL.Options.timeout as seconds, so the router does not)."""
    procedure = unique()
    interrupted = anyio.Event()

    async def slow() -> None:
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            interrupted.set()
            raise

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as callee,
            connect(crossbar.rs_url, REALM) as caller,
        ):
            await callee.register(slow, procedure)
            start = anyio.current_time()
            with pytest.raises(ApplicationError) as caught:
                await caller.call(procedure, options=CallOptions(timeout=0.3))
            elapsed = anyio.current_time() - start
            assert caught.value.error == ApplicationError.TIMEOUT
            assert 0.25 <= elapsed < 1.5, elapsed
            with anyio.fail_after(3):  # the invocation does not run on for 30 s
                await interrupted.wait()
            # A call within its timeout is unaffected.
            await callee.register(lambda: "quick", f"{procedure}.quick")
            options = CallOptions(timeout=5)
            assert await caller.call(f"{procedure}.quick", options=options) == "quick"


async def test_pattern_based_registrations(crossbar: CrossbarNode) -> None:
    base = unique()

    def which(*args: Any, details: CallDetails) -> str | None:
        return details.procedure

    options = {
        "prefix": RegisterOptions(match="prefix", details_arg="details"),
        "wildcard": RegisterOptions(match="wildcard", details_arg="details"),
        "exact": RegisterOptions(details_arg="details"),
    }
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as callee,
            connect(crossbar.rs_url, REALM) as caller,
        ):
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


async def test_shared_registration_roundrobin(crossbar: CrossbarNode) -> None:
    procedure = unique()
    with anyio.fail_after(TIMEOUT):
        async with AsyncExitStack() as stack:
            callees = [
                await stack.enter_async_context(connect(crossbar.ws_url, REALM)) for _ in "ab"
            ]
            caller = await stack.enter_async_context(connect(crossbar.rs_url, REALM))
            for index, callee in enumerate(callees):
                await callee.register(
                    lambda index=index: index, procedure, RegisterOptions(invoke="roundrobin")
                )
            served = [await caller.call(procedure) for _ in range(6)]
            first = served[0]
            assert served == [first, 1 - first] * 3


async def test_caller_disclosure(crossbar: CrossbarNode) -> None:
    procedure = unique()

    def who(details: CallDetails) -> list[Any]:
        return [details.caller, details.caller_authid, details.caller_authrole]

    joe = crossbar.principals["ticket"]
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as callee,
            connect(crossbar.rs_url, REALM, authentication=authentication(joe)) as caller,
        ):
            await callee.register(who, procedure, RegisterOptions(details_arg="details"))
            assert await caller.call(procedure) == [caller.session_id, "joe", "user"]


async def test_application_error_with_args_and_kwargs(crossbar: CrossbarNode) -> None:
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

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM, serializers=["json"]) as json_session,
            connect(crossbar.rs_url, REALM, serializers=["msgpack"]) as msgpack_session,
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

            with pytest.raises(ApplicationError) as caught:
                await json_session.call(f"{base}.missing")
            assert caught.value.error == ApplicationError.NO_SUCH_PROCEDURE
            assert await json_session.call("wamp.session.count") >= 2  # all still well


class OutOfStock(Exception):
    """Mapped with ``define(OutOfStock, uri)``."""


@wamp.error("com.anyio.features.error.too_small")
class TooSmall(Exception):
    """Mapped with ``@wamp.error`` and ``define(TooSmall)``."""


async def test_custom_exceptions(crossbar: CrossbarNode) -> None:
    base = unique()
    out_of_stock = f"{base}.out_of_stock"

    def order(item: str, amount: int) -> str:
        if amount > 3:
            raise OutOfStock(f"only 3 {item}s left", 3)
        return "ordered"

    def compare(a: int, b: int) -> None:
        if a < b:
            raise TooSmall(f"off by {b - a}")

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as callee,
            connect(crossbar.rs_url, REALM) as caller,
            connect(crossbar.ws_url, REALM) as unaware,  # defines nothing
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
            assert plain.value.error == "com.anyio.features.error.too_small"


# ---- PubSub


async def test_publisher_disclosure_and_acknowledged_publish(crossbar: CrossbarNode) -> None:
    topic = unique()
    peter = crossbar.principals["wampcra"]
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM, serializers=["cbor"]) as subscriber,
            connect(crossbar.rs_url, REALM, authentication=authentication(peter)) as publisher,
        ):
            async with subscriber.events(topic) as events:
                publication = await publisher.publish(
                    topic, 1, "two", three=3.5, options=PublishOptions(acknowledge=True)
                )
                assert isinstance(publication, Publication)
                assert isinstance(publication.id, int) and publication.id > 0
                assert publisher.publish(topic, "unacknowledged") is None
                first, second = await take(events, 2)
            assert (first.args, first.kwargs) == ((1, "two"), {"three": 3.5})
            details: EventDetails = first.details
            assert details.publication == publication.id
            assert details.publisher == publisher.session_id
            assert (details.publisher_authid, details.publisher_authrole) == ("peter", "user")
            assert details.topic == topic
            assert second.args == ("unacknowledged",)


async def test_publisher_exclusion(crossbar: CrossbarNode) -> None:
    topic = unique()
    acknowledged = PublishOptions(acknowledge=True)
    hear_myself = PublishOptions(acknowledge=True, exclude_me=False)
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.ws_url, REALM) as session:
            async with session.events(topic) as events:
                await session.publish(topic, "excluded by default", options=acknowledged)
                await session.publish(topic, "heard", options=hear_myself)
                # The first publication would have arrived before the second.
                (event,) = await take(events, 1)
            assert event.args == ("heard",)
            assert event.details.publisher == session.session_id


async def test_exclude_and_eligible(crossbar: CrossbarNode) -> None:
    """Black- and whitelisting by session id, authid and authrole."""
    topic = unique()
    joe = crossbar.principals["ticket"]  # authid joe, role user

    def options(**kwargs: Any) -> PublishOptions:
        return PublishOptions(acknowledge=True, **kwargs)

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as publisher,
            connect(crossbar.rs_url, REALM, authentication=authentication(joe)) as user,
            connect(crossbar.ws_url, REALM) as anonymous,
            user.events(topic) as user_events,
            anonymous.events(topic) as anonymous_events,
        ):
            assert user.session_id is not None and anonymous.session_id is not None
            await publisher.publish(topic, 1, options=options(exclude=[user.session_id]))
            await publisher.publish(topic, 2, options=options(eligible=[user.session_id]))
            await publisher.publish(topic, 3, options=options(exclude_authid=["joe"]))
            await publisher.publish(topic, 4, options=options(eligible_authrole=["user"]))
            await publisher.publish(
                topic,
                5,
                options=options(
                    eligible=[user.session_id, anonymous.session_id], exclude=[user.session_id]
                ),
            )
            await publisher.publish(topic, "end", options=options())
            assert await until(user_events, "end") == [2, 4, "end"]
            assert await until(anonymous_events, "end") == [1, 3, 5, "end"]


async def test_retained_event(crossbar: CrossbarNode) -> None:
    topic = unique()
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.ws_url, REALM) as publisher:
            kept = await publisher.publish(
                topic, "kept", n=1, options=PublishOptions(acknowledge=True, retain=True)
            )
            assert isinstance(kept, Publication)
        async with connect(crossbar.rs_url, REALM, serializers=["json"]) as late:
            retained = SubscribeOptions(get_retained=True)
            async with late.events(topic, options=retained) as events:
                (event,) = await take(events, 1)
            assert (event.args, event.kwargs) == (("kept",), {"n": 1})
            assert event.details.retained is True
            assert event.details.publisher is not None  # (a publication id of its own)
        async with connect(crossbar.rs_url, REALM) as late:
            # Without get_retained nothing comes: the next event is a new one.
            async with late.events(topic) as events:
                await late.publish(
                    topic, "new", options=PublishOptions(acknowledge=True, exclude_me=False)
                )
                (event,) = await take(events, 1)
            assert event.args == ("new",) and not event.details.retained


async def test_decorated_handler_object(crossbar: CrossbarNode) -> None:
    """``subscribe(obj)`` and ``register(obj)`` with ``@wamp.subscribe``/``@wamp.register``."""
    base = unique()
    heard = anyio.Event()
    received: list[Any] = []

    class Service:
        @wamp.register(f"{base}.add")
        def add(self, a: int, b: int) -> int:
            return a + b

        @wamp.subscribe(f"{base}.news")
        def news(self, text: str) -> None:
            received.append(text)
            heard.set()

    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as session,
            connect(crossbar.rs_url, REALM) as other,
        ):
            service = Service()
            registrations = await session.register(service)
            subscriptions = await session.subscribe(service)
            assert [r.procedure for r in registrations] == [f"{base}.add"]
            assert len(subscriptions) == 1 and subscriptions[0].active
            assert await other.call(f"{base}.add", 2, 3) == 5
            await other.publish(f"{base}.news", "hi", options=PublishOptions(acknowledge=True))
            await heard.wait()
            assert received == ["hi"]


async def test_pattern_based_subscriptions(crossbar: CrossbarNode) -> None:
    base = unique()
    ack = PublishOptions(acknowledge=True)
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as subscriber,
            connect(crossbar.rs_url, REALM) as publisher,
            subscriber.events(base, options=SubscribeOptions(match="prefix")) as by_prefix,
            subscriber.events(
                f"{base}..temp", options=SubscribeOptions(match="wildcard")
            ) as by_wildcard,
        ):
            for topic in (f"{base}.kitchen.temp", f"{base}.hall.light", f"{base}.hall.temp"):
                await publisher.publish(topic, topic, options=ack)
            prefixed = await take(by_prefix, 3)
            assert [e.details.topic for e in prefixed] == [e.args[0] for e in prefixed]
            assert [e.args[0] for e in prefixed] == [
                f"{base}.kitchen.temp",
                f"{base}.hall.light",
                f"{base}.hall.temp",
            ]
            wildcard = await take(by_wildcard, 2)
            assert [e.details.topic for e in wildcard] == [
                f"{base}.kitchen.temp",
                f"{base}.hall.temp",
            ]


# ---- the session meta API


async def test_session_meta_api(crossbar: CrossbarNode) -> None:
    joe = crossbar.principals["ticket"]
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM, authentication=authentication(joe)) as first,
            connect(crossbar.rs_url, REALM, serializers=["json"]) as second,
        ):
            count = await first.call("wamp.session.count")
            assert isinstance(count, int) and count >= 2
            listed = await second.call("wamp.session.list")
            assert {first.session_id, second.session_id} <= set(listed)
            own = await first.call("wamp.session.get", first.session_id)
            assert own["session"] == first.session_id
            assert (own["authid"], own["authrole"], own["authmethod"]) == (
                "joe",
                "user",
                "ticket",
            )
            with pytest.raises(ApplicationError) as caught:
                await first.call("wamp.session.get", 1)  # no such session
            assert caught.value.error == ApplicationError.NO_SUCH_SESSION


# ---- sessions ending


async def test_leaving_inside_the_block(crossbar: CrossbarNode) -> None:
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.ws_url, REALM) as session:
            await session.leave()
            assert not session.is_attached()
            with pytest.raises(SessionNotReady):
                session.call("wamp.session.count")
        # and the block's exit has nothing left to do


async def test_unknown_realm_is_a_clear_error(crossbar: CrossbarNode) -> None:
    with anyio.fail_after(TIMEOUT):
        with pytest.raises((ApplicationError, BaseExceptionGroup)) as caught:
            async with connect(crossbar.ws_url, "com.anyio.no_such_realm"):
                pytest.fail("joined a realm that does not exist")
    error = single(caught.value)
    assert isinstance(error, ApplicationError)
    assert error.error == ApplicationError.NO_SUCH_REALM
    assert error.args == ('no realm "com.anyio.no_such_realm" exists on this router',)


async def test_router_ends_the_session(crossbar: CrossbarNode) -> None:
    """The router kills our session (``wamp.session.kill``: GOODBYE): a pending call
    fails at once with the router's reason, the session is over, the block exits."""
    procedure = unique()
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.ws_url, REALM) as other:
            await other.register(lambda: anyio.sleep(30), procedure)
            async with connect(crossbar.rs_url, REALM) as victim:
                failures: list[BaseException] = []

                async def wait_for(request: Any) -> None:
                    try:
                        await request
                    except ApplicationError as exc:
                        failures.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(wait_for, victim.call(procedure))  # sent now
                    # Once a later call has its answer, the first CALL is at the router.
                    assert await victim.call("wamp.session.count") >= 2
                    await other.call(
                        "wamp.session.kill",
                        victim.session_id,
                        reason="com.anyio.killed",
                        message="go away",
                    )
                (error,) = failures
                assert isinstance(error, ApplicationError)
                assert (error.error, error.args) == ("com.anyio.killed", ("go away",))
                assert not victim.is_attached()
            assert await other.call("wamp.session.count") >= 1


async def test_events_iteration_ends_with_the_session(crossbar: CrossbarNode) -> None:
    """``async for event in events`` must not outlive the session: once the router
    ends it (GOODBYE here; a lost transport takes the same path, Driver._finish), the
    iteration must end or raise, as pending calls do."""
    topic = unique()
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as other,
            connect(crossbar.rs_url, REALM) as victim,
            victim.events(topic) as events,
        ):
            await other.publish(topic, 1, options=PublishOptions(acknowledge=True))
            assert [e.args for e in await take(events, 1)] == [(1,)]
            await other.call("wamp.session.kill", victim.session_id)
            with anyio.fail_after(3), contextlib.suppress(Exception):  # ends or raises
                async for _ in events:
                    pass


# ---- oversized messages


async def test_outgoing_message_over_the_limit_fails_the_request_only(
    crossbar: CrossbarNode,
) -> None:
    """Over the WebSocket limit we set: the request that made the message raises
    MessageTooBigToSend before anything is sent, and the session goes on."""
    base = unique()
    limit = 4096
    big = "x" * (2 * limit)
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM, websocket_options={"max_message_size": limit}) as small,
            connect(crossbar.rs_url, REALM) as other,
            other.events(f"{base}.topic") as events,
        ):
            await small.register(echo, f"{base}.echo")
            small.publish(f"{base}.topic", "before")
            with pytest.raises(MessageTooBigToSend) as caught:
                small.call(f"{base}.echo", big)
            assert f"exceeds the router's limit ({limit} bytes)" in str(caught.value)
            assert "CALL" in str(caught.value)
            with pytest.raises(MessageTooBigToSend):
                small.publish(f"{base}.topic", big)
            with pytest.raises(MessageTooBigToSend):
                small.publish(f"{base}.topic", big, options=PublishOptions(acknowledge=True))
            small.publish(f"{base}.topic", "after")
            # Nothing else was lost or disturbed.
            assert await small.call(f"{base}.echo", "small") == "small"
            assert [e.args[0] for e in await take(events, 2)] == ["before", "after"]
            assert small.is_attached()


async def test_result_over_the_callee_limit_is_a_runtime_error(crossbar: CrossbarNode) -> None:
    """An endpoint's result too big to send: the caller gets an error saying so."""
    procedure = unique()
    limit = 4096
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(
                crossbar.ws_url, REALM, websocket_options={"max_message_size": limit}
            ) as callee,
            connect(crossbar.rs_url, REALM) as caller,
        ):
            await callee.register(lambda n: "y" * n, procedure)
            with pytest.raises(ApplicationError) as caught:
                await caller.call(procedure, 2 * limit)
            assert caught.value.error == ApplicationError.RUNTIME_ERROR
            assert f"exceeds the router's limit ({limit} bytes)" in str(caught.value)
            assert await caller.call(procedure, 10) == "y" * 10


async def test_rawsocket_message_over_the_router_limit(crossbar: CrossbarNode) -> None:
    """The node's RawSocket takes 16 MiB: a bigger CALL fails before it is sent."""
    procedure = unique()
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.rs_url, REALM) as session:
            await session.register(len, procedure)
            with pytest.raises(MessageTooBigToSend) as caught:
                session.call(procedure, b"\0" * (16 * 1024 * 1024 + 1))
            assert "exceeds the router's limit (16777216 bytes)" in str(caught.value)
            assert await session.call(procedure, b"\0" * (1024 * 1024)) == 1024 * 1024


async def test_rawsocket_incoming_limit(crossbar: CrossbarNode) -> None:
    """``connect(..., max_message_size=...)`` sets the RawSocket limit we announce;
    Crossbar then refuses to send us more: a result over it becomes an ERROR, an
    event over it is not delivered, and the session goes on."""
    base = unique()
    with anyio.fail_after(TIMEOUT):
        async with (
            connect(crossbar.ws_url, REALM) as other,
            connect(crossbar.rs_url, REALM, max_message_size=1024) as small,
        ):
            await other.register(lambda n: "z" * n, f"{base}.make")
            with pytest.raises(ApplicationError) as caught:
                await small.call(f"{base}.make", 4096)
            assert caught.value.error == ApplicationError.INVALID_ARGUMENT
            assert f"{base}.make" in caught.value.args[0]
            assert await small.call(f"{base}.make", 10) == "z" * 10
            async with small.events(f"{base}.topic") as events:
                ack = PublishOptions(acknowledge=True)
                for text in ("first", "z" * 4096, "last"):
                    await other.publish(f"{base}.topic", text, options=ack)
                assert [e.args[0] for e in await take(events, 2)] == ["first", "last"]


@pytest.mark.parametrize("how", ["websocket_options", "max_message_size"])
async def test_websocket_incoming_message_over_our_limit(crossbar: CrossbarNode, how: str) -> None:
    """WebSocket negotiates no limit: a message over ours ends the connection (close
    1009), and what was pending fails at once with a TransportLost that says why.
    (``connect(max_message_size=...)`` is not in connect()'s signature: it reaches
    build_connection through ``**session_options``; either way it is also our
    outgoing limit.)"""
    base = unique()
    limit = 4096
    options: dict[str, Any] = (
        {"websocket_options": {"max_message_size": limit}}
        if how == "websocket_options"
        else {"max_message_size": limit}
    )
    with anyio.fail_after(TIMEOUT):
        async with connect(crossbar.rs_url, REALM) as other:
            release = anyio.Event()

            async def wait_then(n: int) -> str:
                await release.wait()
                return "w" * n

            await other.register(lambda n: "w" * n, f"{base}.make")
            await other.register(wait_then, f"{base}.wait")
            failures: list[BaseException] = []
            async with connect(crossbar.ws_url, REALM, **options) as small:

                async def pending() -> None:
                    try:
                        await small.call(f"{base}.wait", 1)
                    except TransportLost as exc:
                        failures.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(pending)
                    assert await small.call(f"{base}.make", 10) == "w" * 10
                    with pytest.raises(TransportLost) as caught:
                        await small.call(f"{base}.make", 2 * limit)
                text = str(caught.value)
                assert f"exceeds the limit of {limit}" in text, text
                assert len(failures) == 1  # the other pending call failed too, at once
                assert not small.is_attached()
            release.set()

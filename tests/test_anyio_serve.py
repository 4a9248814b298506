"""The router served by wamp_anyio over real loopback sockets, under asyncio and trio:
every transport and serializer, every authentication method (and a wrong credential),
in-memory sessions, the meta API and a testament, a slow consumer cut off while the
others go on, garbage on one connection while the others go on, and shutdown with
sessions connected."""

from __future__ import annotations

import importlib
import logging
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.crossbar.config import make_tls_files
from tests.threaded_router import AUTH  # the principals every served-router test uses
from wamp_anyio import Listen
from wamp_core.exception import ApplicationError
from wamp_core.router import ALLOW_ALL, Permission, RealmConfig, Role
from wamp_core.types import PublishOptions

pytestmark = pytest.mark.anyio

TIMEOUT = 20.0
CREDENTIALS: dict[str, dict[str, Any]] = {
    "ticket": {"authid": "joe", "ticket": "t1ck3t"},
    "wampcra": {"authid": "ann", "secret": "s3cret"},
    "cryptosign": {"authid": "cy", "privkey": bytes(range(32)).hex()},
    "scram": {"authid": "sam", "password": "pa55"},
}
WRONG: dict[str, dict[str, Any]] = {
    "ticket": {"authid": "joe", "ticket": "nope"},
    "wampcra": {"authid": "ann", "secret": "nope"},
    "cryptosign": {"authid": "cy", "privkey": bytes(32).hex()},
    "scram": {"authid": "sam", "password": "nope"},
}
REALMS = (
    RealmConfig("realm1"),
    RealmConfig(
        "secure",
        (
            Role("user", (ALLOW_ALL,)),
            Role("reader", (Permission("com.", "prefix", frozenset({"subscribe"})),)),
        ),
    ),
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def echo_call(url: str, realm: str = "realm1", **options: Any) -> Any:
    async with wamp_anyio.connect(url, realm, **options) as session:
        return await session.call("wamp.session.count")


@pytest.mark.parametrize(
    ("kind", "serializer"),
    [
        ("websocket", "json"),
        ("websocket", "msgpack"),
        ("websocket", "cbor"),
        ("websocket", "json.batched"),
        ("websocket", "msgpack.batched"),
        ("rawsocket", "json"),
        ("rawsocket", "msgpack"),
        ("rawsocket", "cbor"),
    ],
)
async def test_every_transport_and_serializer(kind: str, serializer: str) -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([Listen(kind, port=0)]) as server,
            server.connect() as callee,
        ):
            await callee.register(lambda a, b: a + b, "com.add")
            async with wamp_anyio.connect(server.url, "realm1", serializers=[serializer]) as c:
                assert await c.call("com.add", 2, 3) == 5
                assert c.details is not None
                assert c.details.serializer == serializer.split(".", maxsplit=1)[0]


async def test_unix_sockets(short_tmp: Path) -> None:
    ws_path, rs_path = str(short_tmp / "ws.sock"), str(short_tmp / "rs.sock")
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve(
            [Listen("websocket", unix=ws_path), Listen("rawsocket", unix=rs_path)]
        ) as server:
            assert server.urls == [f"ws+unix://{ws_path}:/ws", f"rs+unix://{rs_path}"]
            for url in server.urls:
                assert await echo_call(url) == 1


async def test_tls(tmp_path: Path) -> None:
    import ssl

    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    client = ssl.create_default_context(cafile=str(files.ca_file))
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve(
            [
                Listen("websocket", host="127.0.0.1", port=0, tls=context),
                Listen("rawsocket", port=0, tls=context),
            ]
        ) as server:
            assert server.urls[0].startswith("wss://") and server.urls[1].startswith("rss://")
            for url in server.urls:
                assert await echo_call(url, ssl=client) == 1
            untrusted = ssl.create_default_context()
            with pytest.raises(ssl.SSLError):
                await echo_call(server.urls[0], ssl=untrusted)


async def test_tls_channel_binding_reaches_cryptosign(tmp_path: Path) -> None:
    """The router takes the TLS channel id from the stream it serves (asyncio's own
    TLS transport, or anyio's TLS stream on trio): a signature bound to the client's
    channel id verifies, so both ends saw the same one."""
    import ssl

    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    client = ssl.create_default_context(cafile=str(files.ca_file))
    listen = Listen("rawsocket", port=0, tls=context, auth={"cryptosign": AUTH["cryptosign"]})
    bound = {**CREDENTIALS["cryptosign"], "channel_binding": "tls-unique"}
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([listen], REALMS) as server,
            wamp_anyio.connect(
                server.url, "secure", ssl=client, authentication={"cryptosign": bound}
            ) as session,
        ):
            assert session.details is not None
            assert session.details.authmethod == "cryptosign"


@pytest.mark.parametrize("method", ["ticket", "wampcra", "cryptosign", "scram"])
async def test_every_authentication_method(method: str) -> None:
    listen = Listen("rawsocket", port=0, auth={method: AUTH[method]})
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve([listen], REALMS) as server:
            async with wamp_anyio.connect(
                server.url, "secure", authentication={method: CREDENTIALS[method]}
            ) as session:
                assert session.details is not None
                assert (session.details.authrole, session.details.authmethod) == ("user", method)
            with pytest.raises(ApplicationError) as refused:
                await echo_call(server.url, "secure", authentication={method: WRONG[method]})
            assert refused.value.error == "wamp.error.not_authorized"


async def test_the_router_times_a_call_out() -> None:
    """The router's own timer ends a call whose callee never answers: the deadline
    comes with the CALL (the timer task was armed for none before it)."""
    never = anyio.Event()

    async def stuck() -> None:
        await never.wait()

    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([Listen("rawsocket", port=0)]) as server,
            server.connect() as callee,
        ):
            await callee.register(stuck, "com.stuck")
            host, port = server.url.removeprefix("rs://").rsplit(":", 1)
            answer = await anyio.to_thread.run_sync(_call_with_timeout, host, int(port))
            never.set()
    assert answer.startswith(b'[8,48,1,{},"wamp.error.canceled",["timeout reached"]'), answer


def _call_with_timeout(host: str, port: int) -> bytes:
    """A raw RawSocket caller (in a worker thread) whose CALL asks the router for a
    timeout of 1 (in seconds, as Crossbar.io reads it): the frame that ends it."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x7f\xf1\x00\x00")  # RawSocket handshake: json, 16 MiB
        frames = [b'[1,"realm1",{"roles":{"caller":{}}}]', b'[48,1,{"timeout":1},"com.stuck"]']
        sock.sendall(b"".join(len(f).to_bytes(4, "big") + f for f in frames))
        data = b""
        while b"[8," not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        return data[data.index(b"[8,") :]


async def test_authorization_denied() -> None:
    listen = Listen("rawsocket", port=0, auth={"anonymous": {"type": "static", "role": "reader"}})
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([listen], REALMS) as server,
            wamp_anyio.connect(server.url, "secure") as session,
        ):
            await session.subscribe(lambda: None, "com.news")
            with pytest.raises(ApplicationError) as denied:
                await session.call("com.anything")
            assert denied.value.error == "wamp.error.not_authorized"


async def test_meta_api_and_a_testament() -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([Listen("websocket", port=0)]) as server,
            server.connect() as watcher,
            watcher.events("com.will", max_buffer=5) as wills,
        ):
            async with wamp_anyio.connect(server.url, "realm1") as mortal:
                assert await mortal.call("wamp.session.count") == 2
                await mortal.call("wamp.session.add_testament", "com.will", ["gone"], {})
                mortal.disconnect()  # no GOODBYE
            async for event in wills:
                assert event.args == ("gone",)
                break


def _subscribe_and_stop_reading(host: str, port: int, topic: str) -> socket.socket:
    """A raw RawSocket client (in a worker thread: blocking calls) with a small receive
    buffer that joins, subscribes to ``topic``, reads the answers, and then never
    reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.sendall(b"\x7f\xf1\x00\x00")  # RawSocket handshake: json, 16 MiB
    frames = [b'[1,"realm1",{"roles":{"subscriber":{}}}]', b'[32,1,{},"' + topic.encode() + b'"]']
    sock.sendall(b"".join(len(f).to_bytes(4, "big") + f for f in frames))
    data = b""
    while data.count(b"[") < 2 or not data.rstrip().endswith(b"]"):  # WELCOME, SUBSCRIBED
        data += sock.recv(65536)
    return sock


async def test_a_slow_consumer_is_cut_off_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, "wamp_anyio.router")
    # (the module: the package's name ``serve`` is the function)
    monkeypatch.setattr(importlib.import_module("wamp_anyio.serve"), "CLOSE_GRACE", 0.2)
    count, payload = 2000, "x" * 5000
    with anyio.fail_after(60):
        async with wamp_anyio.serve([Listen("rawsocket", port=0)], max_queued=64 * 1024) as server:
            host, port = server.url.removeprefix("rs://").rsplit(":", 1)
            slow = await anyio.to_thread.run_sync(
                _subscribe_and_stop_reading, host, int(port), "com.flood"
            )
            received = 0
            async with (
                server.connect() as fast,
                fast.events("com.flood", max_buffer=count) as events,
            ):
                async with server.connect() as publisher:
                    acknowledged = PublishOptions(acknowledge=True)
                    for _ in range(count):
                        await publisher.publish("com.flood", payload, options=acknowledged)
                async for _ in events:
                    received += 1
                    if received == count:
                        break
                # The slow one is let go, though it still neither reads nor closes.
                while len(server._peers) > 1:
                    await anyio.sleep(0.01)
            slow.close()
    assert received == count
    messages = [record.getMessage() for record in caplog.records]
    assert any("stopped reading" in m for m in messages), messages[-5:]


async def test_garbage_on_one_connection_leaves_the_others_alone() -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.serve([Listen("rawsocket", port=0), Listen("websocket", port=0)]) as server,
            server.connect() as good,
        ):
            for url in server.urls:
                host, port = url.split("://")[1].split("/")[0].rsplit(":", 1)
                stream = await anyio.connect_tcp(host, int(port))
                await stream.send(b"\x7f\xf1\x00\x00" + b"\xff" * 5000)
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError, OSError)):
                    while True:
                        await stream.receive()
                await stream.aclose()
            assert await good.call("wamp.session.count") == 1


async def test_shutdown_says_goodbye_to_connected_sessions() -> None:
    reasons: list[str] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
            session = wamp_anyio.Session()
            left = anyio.Event()

            def on_leave(details: Any) -> None:
                reasons.append(details.reason)
                left.set()

            session.on_leave = on_leave  # type: ignore[method-assign]
            async with wamp_anyio.connect(server.url, "realm1") as client:
                client.on_leave = on_leave  # type: ignore[method-assign]
                await server.shutdown()
                await left.wait()
    assert reasons == ["wamp.close.system_shutdown"]

"""The router served by wamp_twisted (RouterService) over real loopback sockets: every
transport and serializer, Unix sockets, TLS (with cryptosign bound to the TLS channel,
from a Twisted and from an anyio client), every authentication method (and a wrong
credential), authorization denied, the meta API and a testament, in-memory sessions, a
slow consumer cut off while the others go on, garbage on one connection while the
others go on, timers (a call timeout, an opening handshake that never comes), a
Crossbar.io configuration, and shutdown with sessions connected.

The service runs on the global reactor in its thread (tests/integration/twisted_reactor);
each scenario runs there, blocking sockets stay in the test thread."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher

import wamp_anyio
from tests.crossbar.config import TlsFiles, make_tls_files
from tests.integration import twisted_client
from tests.integration.twisted_client import Client, Inbox, Latch
from tests.integration.twisted_reactor import ReactorThread
from tests.test_anyio_serve import CREDENTIALS, REALMS, WRONG, _subscribe_and_stop_reading
from tests.threaded_router import AUTH, KEY
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.router import RealmConfig, TlsConfig
from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner
from wamp_twisted.serve import Listen, RouterService, server_tls

TIMEOUT = 20.0


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@pytest.fixture
def run(reactor_thread: ReactorThread) -> Callable[..., Any]:
    """``run(scenario, *args)``: the scenario in the reactor thread, within TIMEOUT."""
    return functools.partial(reactor_thread.run, timeout=TIMEOUT)


@pytest.fixture
def router_log() -> Iterator[list[str]]:
    """The router's log lines (wamp_twisted.router) while the test runs."""
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_namespace") == "wamp_twisted.router":
            lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    yield lines
    globalLogPublisher.removeObserver(observe)


@asynccontextmanager
async def serving(
    listens: Sequence[Listen], realms: Sequence[RealmConfig] = REALMS, **options: Any
) -> AsyncIterator[RouterService]:
    service = RouterService(listens, realms, **options)
    urls = await service.startService()
    assert urls == service.urls and service.running
    try:
        yield service
    finally:
        await service.stopService()
        assert not service.running and not service.protocols


async def count_sessions(url: str, realm: str = "realm1", **options: Any) -> Any:
    async with twisted_client.connect(url, realm=realm, **options) as session:
        return await session.call("wamp.session.count")


def tls_files(tmp_path: Path) -> tuple[TlsFiles, Any]:
    """The server's TLS files, and what a Twisted client trusting their CA passes."""
    from twisted.internet.ssl import Certificate, optionsForClientTLS

    files = make_tls_files(tmp_path)
    ca = Certificate.loadPEM(files.ca_file.read_bytes())
    return files, optionsForClientTLS("127.0.0.1", trustRoot=ca)


async def tls_refusal(url: str, **options: Any) -> BaseException | None:
    """Why a Twisted client's TLS handshake failed (``ssl``: default, the system's CAs)."""
    runner = ApplicationRunner(url, "realm1", **options)
    proto = await runner.run(Client, start_reactor=False)
    await proto.session.disconnected.wait()
    assert not proto.session.joined.is_set
    return proto.open_error


def server_context(files: TlsFiles) -> Any:
    """The server's TLS, sending the CA along as its chain."""
    return server_tls(TlsConfig(str(files.key_file), str(files.cert_file), (str(files.ca_file),)))


# -- transports -----------------------------------------------------------------------


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
def test_every_transport_and_serializer(run: Any, kind: str, serializer: str) -> None:
    async def scenario() -> None:
        async with serving([Listen(kind, port=0)]) as service:
            callee = await service.connect()
            await callee.register(lambda a, b: a + b, "com.add")
            async with twisted_client.connect(service.url, serializers=[serializer]) as caller:
                assert await caller.call("com.add", 2, 3) == 5
                assert caller.details is not None
                assert caller.details.serializer == serializer.split(".", maxsplit=1)[0]

    run(scenario)


def test_unix_sockets(run: Any, short_tmp: Path) -> None:
    ws_path, rs_path = str(short_tmp / "ws.sock"), str(short_tmp / "rs.sock")

    async def scenario() -> None:
        async with serving(
            [Listen("websocket", unix=ws_path), Listen("rawsocket", unix=rs_path)]
        ) as s:
            assert s.urls == [f"ws+unix://{ws_path}:/ws", f"rs+unix://{rs_path}"]
            for url in s.urls:
                assert await count_sessions(url) == 1

    run(scenario)


def test_a_stale_unix_socket_is_replaced_and_a_live_one_kept(run: Any, short_tmp: Path) -> None:
    from twisted.internet.error import CannotListenError

    stale = str(short_tmp / "stale.sock")
    with socket.socket(socket.AF_UNIX) as crashed:
        crashed.bind(stale)  # the file stays: as after a router that was killed
    not_a_socket = short_tmp / "file.sock"
    not_a_socket.write_text("")

    async def scenario() -> None:
        async with serving([Listen("rawsocket", unix=stale)]) as first:
            assert await count_sessions(first.url) == 1
            second = RouterService([Listen("rawsocket", unix=stale)])
            with pytest.raises(CannotListenError):
                second.privilegedStartService()  # the first one's socket is alive
            assert await count_sessions(first.url) == 1
        with pytest.raises(CannotListenError):
            RouterService([Listen("rawsocket", unix=str(not_a_socket))]).privilegedStartService()

    run(scenario)


def test_tls_and_a_channel_bound_cryptosign(run: Any, tmp_path: Path) -> None:
    files, trusting = tls_files(tmp_path)
    auth = {"cryptosign": AUTH["cryptosign"]}
    bound = {"cryptosign": {**CREDENTIALS["cryptosign"], "channel_binding": "tls-unique"}}
    listens = [
        Listen("websocket", port=0, tls=server_context(files), auth=auth),
        Listen("rawsocket", port=0, tls=server_context(files), auth=auth),
    ]
    service = RouterService(listens, REALMS)
    urls = run(service.startService)
    try:
        assert urls[0].startswith("wss://") and urls[1].startswith("rss://")

        async def twisted_clients() -> None:
            for url in urls:
                async with twisted_client.connect(
                    url, realm="secure", ssl=trusting, authentication=bound
                ) as session:
                    assert session.details is not None
                    assert session.details.authmethod == "cryptosign"
            assert "certificate verify failed" in str(await tls_refusal(urls[0]))

        run(twisted_clients)

        async def anyio_client(url: str) -> str:  # Python's ssl: its own tls-unique
            import ssl

            context = ssl.create_default_context(cafile=str(files.ca_file))
            with anyio.fail_after(TIMEOUT):
                async with wamp_anyio.connect(
                    url, "secure", ssl=context, authentication=bound
                ) as session:
                    assert session.details is not None
                    return session.details.authid or ""

        for url in urls:
            assert anyio.run(anyio_client, url) == "cy"
    finally:
        run(service.stopService)


def test_client_certificates_required_by_the_configuration(run: Any, tmp_path: Path) -> None:
    files, trusting = tls_files(tmp_path)
    config = TlsConfig(str(files.key_file), str(files.cert_file), (), (str(files.ca_file),))

    async def scenario() -> None:
        async with serving([Listen("rawsocket", port=0, tls=server_tls(config))]) as service:
            refusal = await tls_refusal(service.url, ssl=trusting)  # shows no certificate
            assert refusal is not None

    run(scenario)


def test_unreadable_tls_files(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    with pytest.raises(OSError, match="TLS files"):
        server_tls(TlsConfig(str(key), str(key)))
    with pytest.raises(OSError):
        server_tls(TlsConfig(str(tmp_path / "missing.pem"), str(key)))


# -- authentication and authorization -------------------------------------------------


@pytest.mark.parametrize("method", ["ticket", "wampcra", "cryptosign", "scram"])
def test_every_authentication_method(run: Any, method: str) -> None:
    listen = Listen("rawsocket", port=0, auth={method: AUTH[method]})

    async def scenario() -> None:
        async with serving([listen]) as service:
            async with twisted_client.connect(
                service.url, realm="secure", authentication={method: CREDENTIALS[method]}
            ) as session:
                assert session.details is not None
                assert (session.details.authrole, session.details.authmethod) == ("user", method)
            with pytest.raises(ApplicationError) as refused:
                await count_sessions(service.url, "secure", authentication={method: WRONG[method]})
            assert refused.value.error == "wamp.error.not_authorized"
            joined = await service.connect(
                "secure", auth={method: AUTH[method]}, authentication={method: CREDENTIALS[method]}
            )
            assert joined.details is not None and joined.details.authid == KEY_AUTHIDS[method]

    run(scenario)


KEY_AUTHIDS = {"ticket": "joe", "wampcra": "ann", "cryptosign": "cy", "scram": "sam"}
assert KEY.public_key_hex() in AUTH["cryptosign"]["principals"]["cy"]["authorized_keys"]


def test_authorization_denied(run: Any) -> None:
    listen = Listen("rawsocket", port=0, auth={"anonymous": {"type": "static", "role": "reader"}})

    async def scenario() -> None:
        async with (
            serving([listen]) as service,
            twisted_client.connect(service.url, realm="secure") as session,
        ):
            await session.subscribe(lambda: None, "com.news")
            with pytest.raises(ApplicationError) as denied:
                await session.call("com.anything")
            assert denied.value.error == "wamp.error.not_authorized"

    run(scenario)


def test_an_in_memory_join_that_is_refused(run: Any) -> None:
    async def scenario() -> None:
        async with serving([]) as service:
            with pytest.raises(ApplicationError) as refused:
                await service.connect("nowhere")
            assert refused.value.error == "wamp.error.no_such_realm"
            with pytest.raises(ApplicationError) as unknown:
                await service.connect("secure", auth={"ticket": AUTH["ticket"]})
            assert unknown.value.error == "wamp.error.no_auth_method"  # no ticket to give

    run(scenario)


# -- the meta API, timers ---------------------------------------------------------------


def test_meta_api_and_a_testament(run: Any) -> None:
    async def scenario() -> None:
        async with serving([Listen("websocket", port=0)]) as service:
            watcher, wills = await service.connect(), Inbox()
            await watcher.subscribe(wills.receive, "com.will")
            mortal = await twisted_client.start(service.url, Client)
            await mortal.joined.wait()
            assert await mortal.call("wamp.session.count") == 2
            await mortal.call("wamp.session.add_testament", "com.will", ["gone"], {})
            mortal.disconnect()  # no GOODBYE
            (will,) = await wills.take(1)
            assert will.args == ("gone",)

    run(scenario)


def _rawsocket_json(sock: socket.socket, *messages: list[Any]) -> Iterator[list[Any]]:
    """A blocking RawSocket JSON client on ``sock``: the handshake and ``messages``
    sent, then the messages the router sends, as they come."""
    sock.sendall(b"\x7f\xf1\x00\x00")  # json, 16 MiB
    for message in messages:
        frame = json.dumps(message).encode()
        sock.sendall(len(frame).to_bytes(4, "big") + frame)
    answer = b""
    while len(answer) < 4:
        answer += sock.recv(4 - len(answer))
    assert answer[:2] == b"\x7f\xf1", answer
    return _frames(sock)


def _frames(sock: socket.socket) -> Iterator[list[Any]]:
    """The RawSocket JSON frames that come on ``sock`` from a frame's start on."""
    buffer = b""
    while True:
        chunk = sock.recv(1 << 20)
        assert chunk, "the router closed the connection"
        buffer += chunk
        while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[1:4], "big"):
            length = int.from_bytes(buffer[1:4], "big")
            yield json.loads(buffer[4 : 4 + length])
            buffer = buffer[4 + length :]


def test_a_call_timeout_fires_on_the_routers_timer(run: Any) -> None:
    service = RouterService([Listen("rawsocket", port=0)], REALMS)
    run(service.startService)
    try:
        callee = run(service.connect)
        run(callee.register, defer.Deferred, "com.never")  # never answers
        host, port = service.url.removeprefix("rs://").rsplit(":", 1)
        hello = [1, "realm1", {"roles": {"caller": {}}}]
        call = [48, 7, {"timeout": 1}, "com.never"]  # seconds; a raw client: no local deadline
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
            answers = _rawsocket_json(sock, hello, call)
            assert next(answers)[0] == 2  # WELCOME
            assert next(answers)[:3] == [8, 48, 7]  # ERROR for the CALL, from the timer
        own = run(callee.call, "wamp.session.get", callee.session_id)  # the router goes on
        assert own["session"] == callee.session_id
    finally:
        run(service.stopService)


def test_an_opening_handshake_that_never_comes_is_closed(run: Any) -> None:
    service = RouterService([Listen("rawsocket", port=0, open_timeout=0.05)], REALMS)
    run(service.startService)
    try:
        host, port = service.url.removeprefix("rs://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as silent:
            assert silent.recv(100) == b""  # closed by the connection's own timer
    finally:
        run(service.stopService)


# -- one bad peer, the others go on ----------------------------------------------------


def test_a_slow_consumer_is_cut_off_and_the_others_go_on(run: Any, router_log: list[str]) -> None:
    count, payload = 2000, "x" * 5000
    service = RouterService([Listen("rawsocket", port=0)], REALMS, max_queued=64 * 1024)
    run(service.startService)
    try:
        host, port = service.url.removeprefix("rs://").rsplit(":", 1)
        slow = _subscribe_and_stop_reading(host, int(port), "com.flood")

        async def flood() -> int:
            fast, inbox = await service.connect(), Inbox()
            await fast.subscribe(inbox.receive, "com.flood")
            publisher = await service.connect()
            acknowledged = PublishOptions(acknowledge=True)
            for _ in range(count):
                await publisher.publish("com.flood", payload, options=acknowledged)
            return len(await inbox.take(count))

        assert run(flood) == count
        slow.close()
    finally:
        run(service.stopService)
    assert any("stopped reading" in line for line in router_log), router_log[-5:]


def test_a_peer_that_reads_late_gets_everything(run: Any) -> None:
    """Paused while the peer does not read (the kernel's buffers and Twisted's are full),
    resumed when it reads again: below max_queued, nothing is lost."""
    count, payload = 1200, "y" * 5000  # 6 MB: more than the kernel buffers on loopback
    service = RouterService([Listen("rawsocket", port=0)], REALMS, max_queued=16 * 2**20)
    run(service.startService)
    try:
        host, port = service.url.removeprefix("rs://").rsplit(":", 1)
        late = _subscribe_and_stop_reading(host, int(port), "com.later")

        async def publish() -> None:
            publisher = await service.connect()
            for n in range(count):
                await twisted_client.publish(publisher, "com.later", n, payload)

        run(publish)
        late.settimeout(TIMEOUT)
        events = _frames(late)  # WELCOME and SUBSCRIBED were read
        received = [next(events)[4][0] for _ in range(count)]
        assert received == list(range(count))
        late.close()
    finally:
        run(service.stopService)


def test_garbage_on_one_connection_leaves_the_others_alone(run: Any) -> None:
    service = RouterService([Listen("rawsocket", port=0), Listen("websocket", port=0)], REALMS)
    run(service.startService)
    try:
        good = run(service.connect)
        for url in service.urls:
            host, port = url.split("://")[1].split("/")[0].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as bad:
                bad.sendall(b"\x7f\xf1\x00\x00" + b"\xff" * 5000)
                with pytest.raises(ConnectionError):
                    while bad.recv(65536):
                        pass
                    raise ConnectionResetError  # closed cleanly: as good as a reset here
        assert run(good.call, "wamp.session.count") == 1
    finally:
        run(service.stopService)


def test_a_connection_cap(run: Any, router_log: list[str]) -> None:
    service = RouterService([Listen("rawsocket", port=0)], REALMS, max_connections=1)
    run(service.startService)
    try:
        first = run(service.connect)
        host, port = service.url.removeprefix("rs://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as refused:
            refused.sendall(b"\x7f\xf1\x00\x00")
            answer = b""
            while len(answer) < 4:
                answer += refused.recv(4 - len(answer))
            assert answer[:2] == b"\x7f\x40"  # error 4: the router is at its connection cap
        assert run(first.call, "wamp.session.count") == 1
    finally:
        run(service.stopService)
    assert any("connection cap of 1 reached" in line for line in router_log)


# -- configuration, shutdown -----------------------------------------------------------


def test_a_crossbar_configuration(run: Any, tmp_path: Path, router_log: list[str]) -> None:
    files, trusting = tls_files(tmp_path)
    ticket = {"ticket": AUTH["ticket"]}
    config = {
        "version": 2,
        "workers": [
            {
                "type": "router",
                "realms": [
                    {
                        "name": "secure",
                        "roles": [
                            {
                                "name": "user",
                                "permissions": [
                                    {"uri": "", "match": "prefix", "allow": {"call": True}}
                                ],
                            }
                        ],
                    }
                ],
                "transports": [
                    {
                        "type": "rawsocket",
                        "endpoint": {
                            "type": "tcp",
                            "interface": "127.0.0.1",
                            "port": 0,
                            "tls": {
                                "key": files.key_file.name,
                                "certificate": files.cert_file.name,
                            },
                        },
                        "auth": ticket,
                    },
                    {
                        "type": "web",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": 0},
                        "paths": {
                            "ws": {"type": "websocket", "auth": ticket},
                            "/": {"type": "static"},
                        },
                    },
                ],
            }
        ],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    service = RouterService.from_config(path, log_level="warning")
    urls = run(service.startService)
    try:
        assert urls[0].startswith("rss://127.0.0.1:") and urls[1].endswith("/ws")
        credentials = {"ticket": CREDENTIALS["ticket"]}
        secure = functools.partial(count_sessions, ssl=trusting, authentication=credentials)
        assert run(secure, urls[0], "secure") == 1
        plain = functools.partial(count_sessions, authentication=credentials)
        assert run(plain, urls[1], "secure") == 1
    finally:
        run(service.stopService)
    assert any(line.startswith("configuration: ") for line in router_log)
    assert not any("joined" in line for line in router_log)  # below the level asked for


def test_log_levels(run: Any, router_log: list[str]) -> None:
    with pytest.raises(ValueError, match="log_level"):
        RouterService(log_level="verbose")

    async def scenario() -> None:
        async with serving([]) as service:
            session = await service.connect()
            await session.leave()

    run(scenario)
    joins = [line for line in router_log if " joined realm realm1: " in line]
    assert len(joins) == 1 and "authmethod=anonymous" in joins[0]
    assert any(" left realm realm1: wamp.close.normal" in line for line in router_log)


def test_shutdown_says_goodbye_to_connected_sessions(run: Any) -> None:
    async def scenario() -> list[Any]:
        service = RouterService([Listen("websocket", port=0)], REALMS)
        await service.startService()
        remote = await twisted_client.start(service.url, Client)
        await remote.joined.wait()
        local = await service.connect()
        local_left: Latch[Any] = Latch()
        local.on_leave = local_left.set  # type: ignore[method-assign]
        await service.stopService()
        reasons = [(await remote.left.wait()).reason, (await local_left.wait()).reason]
        await remote.disconnected.wait()
        assert service.urls == [] and not service.protocols
        return reasons

    assert run(scenario) == ["wamp.close.system_shutdown"] * 2


def test_shutdown_closes_sessions_that_do_not_answer(run: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("wamp_core.router.serving.SHUTDOWN_GRACE", 0.05)
    service = RouterService([Listen("rawsocket", port=0)], REALMS)
    run(service.startService)
    host, port = service.url.removeprefix("rs://").rsplit(":", 1)
    mute = _subscribe_and_stop_reading(host, int(port), "com.anything")  # never answers
    try:
        run(service.stopService)
        assert not service.protocols
    finally:
        mute.close()


def test_a_port_in_use_binds_nothing(run: Any) -> None:
    from twisted.internet.error import CannotListenError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = RouterService([Listen("websocket", port=0), Listen("rawsocket", port=port)])
        with pytest.raises(CannotListenError):
            run(service.startService)
        assert service.urls == [] and not service.running


def test_in_memory_sessions_see_subscribe_options(run: Any) -> None:
    async def scenario() -> Any:
        async with serving([]) as service:
            subscriber, inbox = await service.connect(serializer="json"), Inbox()
            await subscriber.subscribe(
                inbox.receive,
                "com.",
                options=SubscribeOptions(match="prefix", details_arg="details"),
            )
            publisher = await service.connect(serializer="cbor", extra={"any": "thing"})
            await twisted_client.publish(publisher, "com.x", 1)
            (event,) = await inbox.take(1)
            return event.details.topic if event.details else None

    assert run(scenario) == "com.x"


def test_a_memory_connection_closed_before_it_joins(run: Any) -> None:
    async def scenario() -> None:
        service = RouterService([], REALMS)
        await service.startService()
        joining = service.connect()
        await service.stopService()  # closes it before its HELLO is answered
        with pytest.raises((TransportLost, ApplicationError)):
            await joining

    run(scenario)

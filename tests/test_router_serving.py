"""wamp_core.router.serving and wamp_core.router.command: what the anyio and Twisted
hosts of the router share (listeners, their URLs and transports, a node configuration's
listeners, log lines, the wall-clock text, the serve command's flags and run)."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from wamp_core.router import (
    ANONYMOUS_AUTH,
    RealmConfig,
    Router,
    TlsConfig,
    default_config,
    parse_config,
)
from wamp_core.router.command import (
    EXIT_OK,
    EXIT_USAGE,
    add_serve_arguments,
    add_serve_command,
    node_from_arguments,
    parse_address,
    run_serve,
)
from wamp_core.router.connection import (
    ConnectionClosed,
    MessageDropped,
    SessionJoined,
    SessionLeft,
)
from wamp_core.router.serving import (
    DEFAULT_OPEN_TIMEOUT,
    Listen,
    default_listens,
    event_line,
    iso_timestamp,
    listens_from,
)
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

TICKET = {"ticket": {"type": "static", "principals": {"joe": {"ticket": "t", "role": "user"}}}}


# -- Listen ---------------------------------------------------------------------------


def _upgrade(listen: Listen, path: str, protocol: str = "wamp.2.json") -> bytes:
    """The first line of the listener's answer to a WebSocket upgrade for ``path``."""
    transport = listen.transport(0.0)
    assert isinstance(transport, WebSocketServerTransport)
    transport.receive_data(
        f"GET {path} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n".encode()
    )
    return transport.data_to_send().split(b"\r\n", 1)[0]


def test_a_websocket_listener_serves_its_path_or_any_path_or_its_paths() -> None:
    switching = b"HTTP/1.1 101 Switching Protocols"
    assert _upgrade(Listen("websocket"), "/ws") == switching
    assert _upgrade(Listen("websocket"), "/other") != switching
    assert _upgrade(Listen("websocket", path=None), "/other") == switching
    several = Listen("websocket", paths={"/a": {}, "/b": TICKET}, serializers=["json"])
    assert _upgrade(several, "/b") == switching
    assert _upgrade(several, "/ws") != switching
    assert _upgrade(several, "/a", "wamp.2.msgpack") != switching  # not offered


def test_a_rawsocket_listener() -> None:
    transport = Listen("rawsocket", serializers=["cbor"], max_message_size=4096).transport(0.0)
    assert isinstance(transport, RawSocketServerTransport)
    assert Listen("rawsocket").transport(1.0) is not transport


@pytest.mark.parametrize(
    ("listen", "port", "url"),
    [
        (Listen("websocket"), 8080, "ws://127.0.0.1:8080/ws"),
        (Listen("websocket", path=None), 1, "ws://127.0.0.1:1/"),
        (Listen("websocket", paths={"/x": {}, "/y": {}}), 1, "ws://127.0.0.1:1/x"),
        (Listen("websocket", tls=object(), host="::1"), 9, "wss://[::1]:9/ws"),
        (Listen("rawsocket"), 8081, "rs://127.0.0.1:8081"),
        (Listen("rawsocket", tls=object()), 2, "rss://127.0.0.1:2"),
        (Listen("websocket", unix="/run/ws.sock"), 0, "ws+unix:///run/ws.sock:/ws"),
        (Listen("rawsocket", unix="/run/rs.sock"), 0, "rs+unix:///run/rs.sock"),
    ],
)
def test_urls(listen: Listen, port: int, url: str) -> None:
    assert listen.url(port) == url


def test_auth_choice_is_the_mapping_or_a_function_of_the_path() -> None:
    assert Listen("rawsocket", auth=TICKET).auth_choice() == TICKET
    choice = Listen("websocket", paths={"/t": TICKET}).auth_choice()
    assert callable(choice)
    assert choice("/t") == TICKET
    assert choice("/other") == {}  # a path not served: no method, refused


def test_connect_serves_one_connection_with_the_listeners_transport() -> None:
    router = Router([RealmConfig("realm1")], random_bytes=lambda n: bytes(range(n)))
    connection = Listen("rawsocket", tls=object()).connect(
        router, 5.0, channel_id=b"c" * 12, max_queued=1000
    )
    assert connection in router.connections
    assert connection.transport_info == {"type": "rawsocket", "protocol": "rss"}
    assert (connection.channel_id, connection.max_queued, router.now) == (b"c" * 12, 1000, 5.0)
    assert connection.auth == ANONYMOUS_AUTH


def test_default_listens() -> None:
    assert [listen.url(listen.port) for listen in default_listens()] == [
        "ws://127.0.0.1:8080/ws",
        "rs://127.0.0.1:8081",
    ]


# -- a node configuration's listeners -----------------------------------------------


def test_the_default_configurations_listeners() -> None:
    listens = listens_from(default_config(), tls=_no_tls)
    assert [listen.url(listen.port) for listen in listens] == [
        "ws://127.0.0.1:8080/ws",
        "rs://127.0.0.1:8081",
    ]
    assert listens[0].paths == {"/ws": ANONYMOUS_AUTH}
    assert all(listen.open_timeout == DEFAULT_OPEN_TIMEOUT for listen in listens)


def test_a_configurations_listeners_with_options_tls_and_unix() -> None:
    tcp_tls = {
        "type": "tcp",
        "port": 0,
        "interface": "127.0.0.1",
        "tls": {"key": "k", "certificate": "c"},
    }
    config = parse_config(
        {
            "version": 2,
            "workers": [
                {
                    "type": "router",
                    "realms": [{"name": "r", "roles": []}],
                    "transports": [
                        {
                            "type": "websocket",
                            "endpoint": tcp_tls,
                            "auth": TICKET,
                            "options": {
                                "max_message_size": 1000,
                                "auto_ping_interval": 2000,
                                "auto_ping_timeout": 3000,
                                "open_handshake_timeout": 4000,
                            },
                        },
                        {"type": "rawsocket", "endpoint": {"type": "unix", "path": "/tmp/rs"}},
                    ],
                }
            ],
        },
        "/srv",
    )
    made: list[TlsConfig] = []

    def tls(files: TlsConfig) -> str:
        made.append(files)
        return "context"

    ws, rs = listens_from(config, tls)
    assert made == [TlsConfig("/srv/k", "/srv/c")]
    assert (ws.tls, ws.host, ws.port, ws.path, ws.paths) == ("context", "127.0.0.1", 0, None, None)
    assert ws.auth == TICKET
    assert (ws.max_message_size, ws.ping_interval, ws.ping_timeout, ws.open_timeout) == (
        1000,
        2.0,
        3.0,
        4.0,
    )
    assert (rs.unix, rs.tls, rs.kind, rs.url(0)) == (
        "/tmp/rs",
        None,
        "rawsocket",
        "rs+unix:///tmp/rs",
    )


def _no_tls(files: TlsConfig) -> Any:
    raise AssertionError("no TLS configured")


# -- log lines ------------------------------------------------------------------------


def test_event_lines() -> None:
    joined = SessionJoined(7, "realm1", "joe", "user", "ticket", "static")
    assert event_line(joined) == (
        "info",
        "session 7 joined realm realm1: authid=joe authrole=user authmethod=ticket",
    )
    left = SessionLeft(7, "realm1", "joe", "wamp.close.normal")
    assert event_line(left) == ("info", "session 7 left realm realm1: wamp.close.normal")
    dropped = MessageDropped("EVENT", 5000, "over 4096")
    assert event_line(dropped) == ("warning", "dropped a EVENT of 5000 bytes: over 4096")
    cut = ConnectionClosed("closed", ConnectionError("the client stopped reading"))
    assert event_line(cut) == ("info", "connection closed: the client stopped reading")
    assert event_line(ConnectionClosed("closed", None)) is None


@pytest.mark.parametrize(
    "seconds",
    [0.0, 0.999, 951_782_400.5, 1_709_164_800.25, 4_107_542_399.0, 253_402_300_799.123],
)
def test_iso_timestamp_is_utc_with_milliseconds(seconds: float) -> None:
    expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    assert iso_timestamp(seconds) == f"{expected}.{int(seconds * 1000) % 1000:03d}Z"


def test_iso_timestamp_before_the_epoch() -> None:
    assert iso_timestamp(-86_400.0) == "1969-12-31T00:00:00.000Z"
    assert iso_timestamp(-62_135_596_800.0) == "0001-01-01T00:00:00.000Z"


# -- the serve command ----------------------------------------------------------------


def _arguments(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(argv)


def test_the_flags_defaults() -> None:
    args = _arguments()
    assert (args.config, args.realm, args.ws, args.rawsocket) == (
        None,
        "realm1",
        "127.0.0.1:8080/ws",
        "127.0.0.1:8081",
    )
    assert (args.serializers, args.log_level) == (None, "info")
    assert node_from_arguments(args) == default_config()


def test_the_serve_command() -> None:
    parser = argparse.ArgumentParser(prog="x")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = add_serve_command(commands, "the router")
    assert serve.description == "the router"
    args = parser.parse_args(["serve", "--realm", "r"])
    assert (args.command, args.realm, args.ws) == ("serve", "r", "127.0.0.1:8080/ws")


def test_flags_change_the_defaults() -> None:
    args = _arguments(
        "--realm", "demo", "--ws", "[::1]:9000/x", "--rawsocket", "none", "--serializers", "json"
    )
    assert node_from_arguments(args) == default_config(
        realm="demo", ws=("::1", 9000, "/x"), rawsocket=None, serializers=["json"]
    )


def test_config_flag_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"version": 2, "workers": [{"type": "router"}]}))
    node = node_from_arguments(_arguments("--config", str(path)))
    assert node.realms == () and node.listeners == ()


@pytest.mark.parametrize(
    ("text", "path", "address"),
    [
        ("none", True, None),
        ("NONE", False, None),
        ("0.0.0.0:80", True, ("0.0.0.0", 80, "/ws")),
        ("h:1/", True, ("h", 1, "/")),
        ("[::]:5/a/b", True, ("::", 5, "/a/b")),
    ],
)
def test_parse_address(text: str, path: bool, address: Any) -> None:
    assert parse_address(text, path=path) == address


@pytest.mark.parametrize(("text", "path"), [("8080", True), ("host:", False), (":1", True)])
def test_parse_address_refuses(text: str, path: bool) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected HOST:PORT"):
        parse_address(text, path=path)


def test_run_serve_serves_the_node_and_logs_its_warnings(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"version": 2, "controller": {}, "workers": [{"type": "router"}]}))
    served: list[Any] = []
    warnings: list[str] = []
    code = run_serve(
        _arguments("--config", str(path)),
        program="x serve",
        tls=_no_tls,
        serve=lambda node, listens: served.append((node.realms, listens)),
        warn=warnings.append,
    )
    assert code == EXIT_OK
    assert served == [((), [])]
    assert warnings and all(w.startswith("configuration: ") for w in warnings)


@pytest.mark.parametrize(
    "argv", [("--ws", "nowhere"), ("--config", "/nonexistent/config.json"), ("--config", "x.txt")]
)
def test_run_serve_refuses_what_it_cannot_serve(argv: tuple[str, ...]) -> None:
    err = io.StringIO()
    code = run_serve(
        _arguments(*argv), program="x serve", tls=_no_tls, serve=_never, warn=_never, stderr=err
    )
    assert code == EXIT_USAGE
    assert err.getvalue().startswith("x serve: ")


def test_run_serve_exits_2_when_it_cannot_listen(capsys: pytest.CaptureFixture[str]) -> None:
    def serve(node: Any, listens: Any) -> None:
        raise OSError("address in use")

    code = run_serve(_arguments(), program="x serve", tls=_no_tls, serve=serve, warn=_never)
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == "x serve: address in use\n"


def _never(*args: Any) -> None:
    raise AssertionError("not expected")

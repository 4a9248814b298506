"""wamp_core.router.config: Crossbar.io node configurations, parsed, warned about, refused."""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.crossbar.config import (
    MAX_MESSAGE_SIZE,
    Endpoints,
    TlsFiles,
    auth_config,
    build_config,
    cryptosign_public_key,
    principals,
)
from wamp_core.router import (
    ANONYMOUS_AUTH,
    ConfigError,
    ListenerConfig,
    NodeConfig,
    Permission,
    RealmConfig,
    Role,
    Router,
    TcpEndpoint,
    TlsConfig,
    UnixEndpoint,
    default_config,
    load_config,
    parse_config,
)
from wamp_core.router.authorization import ACTIONS

BASE = "/srv/node"
ALL_WS = ("json", "msgpack", "cbor", "json.batched", "msgpack.batched", "cbor.batched")
ALL_RS = ("json", "msgpack", "cbor")
EVERYTHING = Permission("", "prefix", frozenset(ACTIONS), True, True, True)


def ws(**extra: Any) -> dict[str, Any]:
    return {"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}, **extra}


def rs(**extra: Any) -> dict[str, Any]:
    return {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}, **extra}


def node(
    transports: list[Any] | None = None,
    realms: list[Any] | None = None,
    worker: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    router = {
        "type": "router",
        "realms": [{"name": "realm1", "roles": []}] if realms is None else realms,
        "transports": [ws()] if transports is None else transports,
        **(worker or {}),
    }
    return {"version": 2, "workers": [router], **top}


def parse(data: Any, environ: dict[str, str] | None = None) -> NodeConfig:
    return parse_config(data, BASE, environ=environ)


def refused(data: Any, message: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        parse(data, environ)
    return info.value


def listener(data: Any, environ: dict[str, str] | None = None) -> ListenerConfig:
    (only,) = parse(data, environ).listeners
    return only


def warned(data: Any) -> list[str]:
    return list(parse(data).warnings)


# -- the integration tests' own configuration -------------------------------------------


def integration_config() -> dict[str, Any]:
    endpoints = Endpoints(8080, 8081, 8083, 8084, Path("/run/node/ws.sock"), Path("rs.sock"))
    tls = TlsFiles(Path("tls/ca.pem"), Path("tls/server.pem"), Path("tls/server.key"))
    return build_config(endpoints, tls)  # two realms, as the shared configuration has


def test_the_integration_configuration() -> None:
    parsed = parse(integration_config())
    roles = tuple(Role(name, (EVERYTHING,)) for name in ("anonymous", "user"))
    assert parsed.realms[0] == RealmConfig("realm1", roles)
    realm2 = parsed.realms[1]
    assert (realm2.name, [role.name for role in realm2.roles]) == ("realm2", ["anonymous", "guest"])
    tls = TlsConfig(f"{BASE}/tls/server.key", f"{BASE}/tls/server.pem")
    endpoints = [
        TcpEndpoint(8080, "127.0.0.1"),
        TcpEndpoint(8081, "127.0.0.1"),
        UnixEndpoint("/run/node/ws.sock"),
        UnixEndpoint(f"{BASE}/rs.sock"),
        TcpEndpoint(8083, "127.0.0.1", tls=tls),
        TcpEndpoint(8084, "127.0.0.1", tls=tls),
    ]
    assert [listener.endpoint for listener in parsed.listeners] == endpoints
    assert [listener.kind for listener in parsed.listeners] == ["websocket", "rawsocket"] * 3
    expected_auth = auth_config()
    for listener in parsed.listeners:
        assert listener.max_message_size == MAX_MESSAGE_SIZE
        assert (listener.ping_interval, listener.open_timeout) == (None, None)
        if listener.kind == "websocket":
            assert listener.serializers == ALL_WS
            assert listener.auth is None
            assert listener.paths is not None and list(listener.paths) == ["/ws"]
            assert listener.auth_for("/ws") == expected_auth
            assert listener.auth_for("/") is None
        else:
            assert listener.serializers == ALL_RS
            assert listener.auth == listener.auth_for() == expected_auth
    where = "workers[0].transports[{}].paths.ws.options.max_frame_size"
    assert parsed.warnings == (
        "controller: not supported by this router, ignored",
        *(
            where.format(i) + ": not enforced on its own (a frame is bounded by max_message_size)"
            for i in (0, 2, 4)
        ),
    )
    # A Router takes the realms as they are.
    router = Router(parsed.realms, random_bytes=os.urandom)
    assert sorted(router.realms) == ["realm1", "realm2"]


def test_the_principals_are_kept_in_the_acceptors_form() -> None:
    (websocket, *_) = parse(integration_config()).listeners
    auth = websocket.auth_for("/ws")
    assert auth is not None
    alice = principals()["cryptosign"]
    assert auth["cryptosign"]["principals"]["alice"]["authorized_keys"] == [alice["public_key_hex"]]
    assert auth["wampcra"]["users"]["paula"]["salt"] == "salt123"
    assert auth["anonymous"] == {"type": "static", "role": "anonymous"}


# -- files ------------------------------------------------------------------------------


def test_load_json_with_tls_files_relative_to_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    folder.mkdir()
    config = node(
        [
            ws(
                endpoint={
                    "type": "tcp",
                    "port": 443,
                    "tls": {
                        "key": "keys/server.key",
                        "certificate": "../common/server.pem",
                        "chain_certificates": ["chain.pem"],
                        "ca_certificates": ["/etc/ca.pem", "ca.pem"],
                    },
                }
            )
        ]
    )
    (folder / "config.json").write_text(json.dumps(config))
    loaded = load_config(folder / "config.json")
    endpoint = loaded.listeners[0].endpoint
    assert isinstance(endpoint, TcpEndpoint)
    assert endpoint.tls == TlsConfig(
        str(folder / "keys/server.key"),
        str(tmp_path / "common/server.pem"),
        (str(folder / "chain.pem"),),
        ("/etc/ca.pem", str(folder / "ca.pem")),
    )
    assert loaded.warnings == ()


@pytest.mark.parametrize("name", ["config.yaml", "config.YML"])
def test_load_yaml(tmp_path: Path, name: str) -> None:
    text = """
version: 2
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - name: anonymous
            permissions:
              - uri: "com.example.*"
                allow: {call: true, subscribe: true}
    transports:
      - type: rawsocket
        endpoint: {type: unix, path: sockets/rs.sock}
"""
    (tmp_path / name).write_text(text)
    loaded = load_config(str(tmp_path / name))
    permission = Permission("com.example.", "prefix", frozenset({"call", "subscribe"}), cache=False)
    assert loaded.realms == (RealmConfig("realm1", (Role("anonymous", (permission,)),)),)
    assert loaded.listeners[0].endpoint == UnixEndpoint(str(tmp_path / "sockets/rs.sock"))


def test_load_reads_dollar_values_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_ROUTER_TICKET", "from-the-env")
    auth = {"ticket": {"type": "static", "principals": {"joe": {"ticket": "$TEST_ROUTER_TICKET"}}}}
    (tmp_path / "config.json").write_text(json.dumps(node([ws(auth=auth)])))
    loaded = load_config(tmp_path / "config.json")
    ticket = loaded.listeners[0].auth_for()
    assert ticket is not None
    assert ticket["ticket"]["principals"]["joe"]["ticket"] == "from-the-env"


def test_load_refuses_other_file_types_and_bad_syntax(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")
    with pytest.raises(ConfigError, match=r"config\.toml: a node configuration is a \.json"):
        load_config(tmp_path / "config.toml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match=r"bad\.json: not valid JSON"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("a: [\n  secret-value")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML at line \d+") as info:
        load_config(tmp_path / "bad.yaml")
    assert "secret-value" not in str(info.value)


def test_yaml_errors_without_a_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    def broken(text: str) -> Any:
        raise yaml.YAMLError("no mark")

    monkeypatch.setattr(yaml, "safe_load", broken)
    (tmp_path / "c.yaml").write_text("")
    with pytest.raises(ConfigError, match=r"c\.yaml: not valid YAML$"):
        load_config(tmp_path / "c.yaml")


def test_yaml_needs_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    (tmp_path / "c.yaml").write_text("version: 2\n")
    with pytest.raises(ImportError, match=re.escape("pip install 'wamp-sansio[yaml]'")):
        load_config(tmp_path / "c.yaml")


# -- the default ------------------------------------------------------------------------


def test_default_config() -> None:
    config = default_config()
    assert config.realms == (RealmConfig("realm1"),)
    websocket, rawsocket = config.listeners
    assert websocket.endpoint == TcpEndpoint(8080, "127.0.0.1")
    assert websocket.serializers == ALL_WS
    assert websocket.auth_for("/ws") == ANONYMOUS_AUTH
    assert websocket.auth_for("/other") is None
    assert rawsocket == ListenerConfig("rawsocket", TcpEndpoint(8081, "127.0.0.1"), ALL_RS)
    assert rawsocket.auth_for() == ANONYMOUS_AUTH
    assert config.warnings == ()


def test_default_config_choices() -> None:
    config = default_config("demo", ws=None, rawsocket=("::1", 0), serializers=["cbor", "ubjson"])
    assert config.realms == (RealmConfig("demo"),)
    assert config.listeners == (ListenerConfig("rawsocket", TcpEndpoint(0, "::1"), ("cbor",)),)
    assert config.warnings == ("serializers[1]: ubjson is not supported by this router, dropped",)
    only_ws = default_config(ws=("0.0.0.0", 9000, "/"), rawsocket=None, serializers=["json"])
    assert only_ws.listeners[0].serializers == ("json", "json.batched")
    assert only_ws.listeners[0].auth_for("/") == ANONYMOUS_AUTH
    with pytest.raises(ConfigError, match="unknown serializer 'xml'"):
        default_config(serializers=["xml"])


# -- the node ---------------------------------------------------------------------------


def test_version_must_be_2() -> None:
    refused({"workers": []}, "version: must be 2")
    refused({"version": 1, "workers": []}, "version: must be 2")
    refused([], "must be a mapping, got list")


def test_one_router_worker() -> None:
    refused({"version": 2}, "workers: no worker of type 'router'")
    refused({"version": 2, "workers": {}}, "workers: must be a list, got dict")
    refused({"version": 2, "workers": [None]}, "workers[0]: must be a mapping, got null")
    two = node()
    two["workers"].append(copy.deepcopy(two["workers"][0]))
    refused(two, "workers[1]: a second router worker is not supported")


def test_other_workers_and_top_level_items_are_warned_about() -> None:
    config = node(controller={}, extra=1, **{"$schema": "x"})
    config["workers"][:0] = [{"type": "container"}, {"type": "guest"}]
    config["workers"][2].update(id="w1", options={}, manhole={}, components=[], connections=[])
    assert warned(config) == [
        "controller: not supported by this router, ignored",
        "extra: not supported by this router, ignored",
        "workers[0]: a worker of type 'container' is not run by this router",
        "workers[1]: a worker of type 'guest' is not run by this router",
        *(
            f"workers[2].{key}: not supported by this router, ignored"
            for key in ("options", "manhole", "components", "connections")
        ),
    ]


def test_a_router_without_realms_or_transports() -> None:
    config = {"version": 2, "workers": [{"type": "router"}]}
    assert parse(config) == NodeConfig((), ())


# -- realms -----------------------------------------------------------------------------


def test_roles_and_permissions() -> None:
    realm = {
        "name": "realm1",
        "roles": [
            {
                "name": "user",
                "permissions": [
                    {"uri": "com.a.b", "allow": {"publish": True}, "cache": True},
                    {"uri": "com.a.*"},
                    {"uri": "com.*.c.*", "disclose": {"caller": True, "publisher": False}},
                    {"uri": "com.*.x"},
                    {"uri": "", "match": "prefix", "allow": {"register": True}},
                    {"uri": "com..d", "match": "wildcard"},
                ],
            },
            {"name": "dynamic", "authorizer": "com.example.authorize"},
            {"name": "nothing"},
        ],
    }
    (parsed,) = parse(node(realms=[realm])).realms
    user, dynamic, nothing = parsed.roles
    assert user.permissions == (
        Permission("com.a.b", "exact", frozenset({"publish"}), cache=True),
        Permission("com.a.", "prefix", cache=False),
        Permission("com..c.", "wildcard", disclose_caller=True, cache=False),
        Permission("com..x", "wildcard", cache=False),
        Permission("", "prefix", frozenset({"register"}), cache=False),
        Permission("com..d", "wildcard", cache=False),
    )
    assert dynamic == Role("dynamic", authorizer="com.example.authorize")
    assert nothing == Role("nothing")


def test_realm_items_warned_about() -> None:
    realm = {
        "name": "realm1",
        "store": {"type": "memory"},
        "options": {"enable_meta_api": True},
        "roles": [
            {
                "name": "r",
                "comment": "x",
                "permissions": [{"uri": "a", "validate": {"call": "t"}}],
            }
        ],
    }
    assert warned(node(realms=[realm])) == [
        "workers[0].realms[0].store: not supported by this router, ignored",
        "workers[0].realms[0].options: not supported by this router, ignored",
        "workers[0].realms[0].roles[0].comment: not supported by this router, ignored",
        "workers[0].realms[0].roles[0].permissions[0].validate: not supported by this router, "
        "ignored",
    ]


@pytest.mark.parametrize(
    ("realms", "message"),
    [
        ({}, "workers[0].realms: must be a list, got dict"),
        ([{}], "workers[0].realms[0].name: must be a non-empty string, got null"),
        ([{"name": ""}], "workers[0].realms[0].name: must be a non-empty string, got str"),
        (
            [{"name": "a"}, {"name": "a"}],
            "workers[0].realms[1].name: realm 'a' is configured twice",
        ),
        ([{"name": "a", "roles": [1]}], "workers[0].realms[0].roles[0]: must be a mapping"),
        (
            [{"name": "a", "roles": [{"name": "r"}, {"name": "r"}]}],
            "workers[0].realms[0].roles[1].name: role 'r' is defined twice",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "authorizer": "x", "permissions": []}]}],
            "workers[0].realms[0].roles[0]: a role has an 'authorizer' or 'permissions'",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "authorizer": "bad uri"}]}],
            "workers[0].realms[0].roles[0].authorizer: invalid authorizer",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "permissions": [{"uri": "a"}, {"uri": "a"}]}]}],
            "workers[0].realms[0].roles[0].permissions: role 'r' has two permissions",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "permissions": [{}]}]}],
            "roles[0].permissions[0].uri: must be a non-empty string, got null",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "permissions": [{"uri": "a", "match": "x"}]}]}],
            "roles[0].permissions[0].match: must be one of exact, prefix, wildcard",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "permissions": [{"uri": "a b"}]}]}],
            "roles[0].permissions[0]: invalid permission URI 'a b'",
        ),
        (
            [
                {
                    "name": "a",
                    "roles": [
                        {"name": "r", "permissions": [{"uri": "a", "allow": {"subcribe": True}}]}
                    ],
                }
            ],
            "roles[0].permissions[0].allow.subcribe: unknown; one of call, register, publish",
        ),
        (
            [
                {
                    "name": "a",
                    "roles": [{"name": "r", "permissions": [{"uri": "a", "allow": {"call": 1}}]}],
                }
            ],
            "roles[0].permissions[0].allow.call: must be true or false, got int",
        ),
        (
            [{"name": "a", "roles": [{"name": "r", "permissions": [{"uri": "a", "cache": "no"}]}]}],
            "roles[0].permissions[0].cache: must be true or false, got str",
        ),
    ],
)
def test_realm_errors(realms: Any, message: str) -> None:
    refused(node(realms=realms), message)


# -- transports -------------------------------------------------------------------------


def test_websocket_and_rawsocket_transports() -> None:
    parsed = parse(
        node(
            [
                ws(
                    id="ws1",
                    max_connections=100,
                    serializers=["cbor", "json", "cbor"],
                    options={
                        "max_message_size": 65536,
                        "auto_ping_interval": 10000,
                        "auto_ping_timeout": 5000,
                        "open_handshake_timeout": 2500,
                        "close_handshake_timeout": 1000,
                        "allowed_origins": ["*"],
                    },
                ),
                rs(serializers=["msgpack"], options={"max_message_size": 512}),
            ]
        )
    )
    websocket, rawsocket = parsed.listeners
    assert websocket == ListenerConfig(
        "websocket",
        TcpEndpoint(8080),
        ("cbor", "json", "cbor.batched", "json.batched"),
        id="ws1",
        max_message_size=65536,
        ping_interval=10.0,
        ping_timeout=5.0,
        open_timeout=2.5,
        close_timeout=1.0,
        max_connections=100,
    )
    assert rawsocket == ListenerConfig(
        "rawsocket", TcpEndpoint(8081), ("msgpack",), max_message_size=512
    )
    assert websocket.auth_for("/anything") == ANONYMOUS_AUTH
    assert parsed.warnings == ()


def test_zero_options_mean_off_or_the_hosts_default() -> None:
    names = ("auto_ping_interval", "auto_ping_timeout", "open_handshake_timeout")
    zeros = dict.fromkeys((*names, "close_handshake_timeout"), 0)
    websocket = parse(node([ws(options={**zeros, "max_message_size": 0})]))
    assert websocket.listeners[0] == ListenerConfig("websocket", TcpEndpoint(8080), ALL_WS)
    assert websocket.warnings == (
        "workers[0].transports[0].options.max_message_size: 0 (unlimited) is not supported: "
        "the host's default applies",
    )


def test_options_warned_about() -> None:
    config = node(
        [
            ws(options={"compression": {}, "max_frame_size": 100}, url="ws://x", debug=True),
            rs(options={"auto_ping_interval": 1000}, cookie={}),
        ]
    )
    assert warned(config) == [
        "workers[0].transports[0].url: not supported by this router, ignored",
        "workers[0].transports[0].debug: not supported by this router, ignored",
        "workers[0].transports[0].options.compression: not supported by this router, ignored",
        "workers[0].transports[0].options.max_frame_size: not enforced on its own "
        "(a frame is bounded by max_message_size)",
        "workers[0].transports[1].cookie: not supported by this router, ignored",
        "workers[0].transports[1].options.auto_ping_interval: not supported by this router, "
        "ignored",
    ]


def test_serializers_dropped_with_a_warning() -> None:
    config = node([ws(serializers=["json", "ubjson", "flatbuffers"])])
    assert listener(config).serializers == ("json", "json.batched")
    assert warned(config) == [
        "workers[0].transports[0].serializers[1]: ubjson is not supported by this router, dropped",
        "workers[0].transports[0].serializers[2]: flatbuffers is not supported by this router, "
        "dropped",
    ]


def test_web_transport_paths() -> None:
    web = {
        "type": "web",
        "id": "web1",
        "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"},
        "options": {"hsts": True},
        "paths": {
            "/": {"type": "static", "directory": ".."},
            "ws": {"type": "websocket", "serializers": ["json"]},
            "ws-auth": {
                "type": "websocket",
                "serializers": ["json"],
                "auth": {"ticket": {"type": "dynamic", "authenticator": "com.auth"}},
                "cookie": {},
            },
            "info": {"type": "nodeinfo"},
        },
    }
    parsed = parse(node([web]))
    (only,) = parsed.listeners
    assert only.kind == "websocket"
    assert only.id == "web1"
    assert only.serializers == ("json", "json.batched")
    assert only.auth_for("/ws") == ANONYMOUS_AUTH
    assert only.auth_for("/ws-auth") == {"ticket": {"type": "dynamic", "authenticator": "com.auth"}}
    assert only.auth_for("/") is None
    assert parsed.warnings == (
        "workers[0].transports[0].options: not supported by this router, ignored",
        "workers[0].transports[0].paths[\"/\"]: a web service of type 'static' is not served "
        "by this router",
        "workers[0].transports[0].paths.ws-auth.cookie: not supported by this router, ignored",
        "workers[0].transports[0].paths.info: a web service of type 'nodeinfo' is not served "
        "by this router",
    )


def test_a_websocket_at_the_root_path() -> None:
    web = {
        "type": "web",
        "endpoint": {"type": "unix", "path": "web.sock"},
        "paths": {"/": {"type": "websocket"}},
    }
    only = listener(node([web]))
    assert only.endpoint == UnixEndpoint(f"{BASE}/web.sock")
    assert only.paths == {"/": ANONYMOUS_AUTH}


def test_a_web_transport_without_websocket_is_not_served() -> None:
    web = {"type": "web", "endpoint": {"type": "tcp", "port": 80}, "paths": {}}
    parsed = parse(node([web]))
    assert parsed.listeners == ()
    assert parsed.warnings == (
        "workers[0].transports[0]: a web transport without a WebSocket path is not served",
    )


def test_websocket_paths_of_one_web_transport_must_agree() -> None:
    web = {
        "type": "web",
        "endpoint": {"type": "tcp", "port": 80},
        "paths": {"a": {"type": "websocket"}, "b": {"type": "websocket", "serializers": ["json"]}},
    }
    refused(node([web]), "workers[0].transports[0].paths.b: the WebSocket paths of one web")


def test_other_transports_and_endpoints_are_not_served() -> None:
    config = node(
        [
            {"type": "universal", "endpoint": {}},
            {"type": "mqtt"},
            ws(endpoint={"type": "onion", "port": 80}),
            rs(endpoint={"type": "twisted", "server_string": "tcp:80"}),
            ws(),
        ]
    )
    parsed = parse(config)
    assert [listener.endpoint for listener in parsed.listeners] == [TcpEndpoint(8080)]
    assert parsed.warnings == (
        "workers[0].transports[0]: a transport of type 'universal' is not served by this router",
        "workers[0].transports[1]: a transport of type 'mqtt' is not served by this router",
        "workers[0].transports[2].endpoint: an endpoint of type 'onion' is not supported: "
        "not served",
        "workers[0].transports[3].endpoint: an endpoint of type 'twisted' is not supported: "
        "not served",
    )


def test_tcp_endpoint_items() -> None:
    endpoint = {
        "type": "tcp",
        "port": "$PORT",
        "version": 6,
        "backlog": 10,
        "shared": True,
        "portrange": [1, 2],
        "user_timeout": 5,
    }
    parsed = parse(node([ws(endpoint=endpoint)]), environ={"PORT": "9000"})
    assert parsed.listeners[0].endpoint == TcpEndpoint(9000, "::", 10, True)
    assert parsed.warnings == (
        "workers[0].transports[0].endpoint.portrange: not supported by this router, ignored",
        "workers[0].transports[0].endpoint.user_timeout: not supported by this router, ignored",
    )
    assert listener(node([ws(endpoint={"type": "tcp", "port": "8000"})])).endpoint == (
        TcpEndpoint(8000)
    )


def test_unix_paths_expand_variables() -> None:
    endpoint = {"type": "unix", "path": "$RUN/${NAME}.sock$UNSET", "backlog": 5}
    only = listener(node([rs(endpoint=endpoint)]), {"RUN": "/run", "NAME": "node"})
    assert only.endpoint == UnixEndpoint("/run/node.sock$UNSET", 5)


def test_tls_ciphers_and_dhparam_are_ignored() -> None:
    tls = {"key": "k", "certificate": "c", "ciphers": "x", "dhparam": "d"}
    config = node([ws(endpoint={"type": "tcp", "port": 443, "tls": tls})])
    assert listener(config).endpoint == TcpEndpoint(443, tls=TlsConfig(f"{BASE}/k", f"{BASE}/c"))
    assert warned(config) == [
        "workers[0].transports[0].endpoint.tls.ciphers: not supported by this router, ignored",
        "workers[0].transports[0].endpoint.tls.dhparam: not supported by this router, ignored",
    ]


@pytest.mark.parametrize(
    ("transport", "message"),
    [
        (1, "workers[0].transports[0]: must be a mapping, got int"),
        (ws(endpoint=None), "workers[0].transports[0].endpoint: must be a mapping, got null"),
        (ws(endpoint={"type": "tcp"}), "endpoint.port: must be an integer, got null"),
        (ws(endpoint={"type": "tcp", "port": True}), "endpoint.port: must be an integer, got bool"),
        (ws(endpoint={"type": "tcp", "port": 65536}), "endpoint.port: must be from 0 to 65535"),
        (ws(endpoint={"type": "tcp", "port": "$P"}), "endpoint.port: the environment variable P"),
        (ws(endpoint={"type": "tcp", "port": 1, "version": 5}), "endpoint.version: must be 4 or 6"),
        (
            ws(endpoint={"type": "tcp", "port": 1, "version": "4"}),
            "endpoint.version: must be 4 or 6",
        ),
        (ws(endpoint={"type": "tcp", "port": 1, "backlog": 0}), "endpoint.backlog: must be from 1"),
        (
            ws(endpoint={"type": "tcp", "port": 1, "interface": 1}),
            "endpoint.interface: must be a non-empty string",
        ),
        (ws(endpoint={"type": "tcp", "port": 1, "shared": 1}), "endpoint.shared: must be true"),
        (ws(endpoint={"type": "tcp", "port": 1, "tls": []}), "endpoint.tls: must be a mapping"),
        (ws(endpoint={"type": "tcp", "port": 1, "tls": {"key": "k"}}), "tls.certificate: must"),
        (
            ws(
                endpoint={
                    "type": "tcp",
                    "port": 1,
                    "tls": {"key": "k", "certificate": "c", "ca_certificates": "x"},
                }
            ),
            "tls.ca_certificates: must be a list, got str",
        ),
        (
            ws(
                endpoint={
                    "type": "tcp",
                    "port": 1,
                    "tls": {"key": "k", "certificate": "c", "chain_certificates": [1]},
                }
            ),
            "tls.chain_certificates[0]: must be a non-empty string, got int",
        ),
        (ws(endpoint={"type": "unix"}), "endpoint.path: must be a non-empty string, got null"),
        (ws(id=1), "workers[0].transports[0].id: must be a non-empty string, got int"),
        (ws(max_connections=0), "workers[0].transports[0].max_connections: must be >= 1"),
        (ws(serializers="json"), "transports[0].serializers: must be a list, got str"),
        (ws(serializers=["xml"]), "transports[0].serializers[0]: unknown serializer 'xml'"),
        (ws(serializers=["ubjson"]), "transports[0].serializers: no serializer this router"),
        (ws(options=[]), "transports[0].options: must be a mapping, got list"),
        (ws(options={"max_message_size": -1}), "options.max_message_size: must be from 0 to"),
        (rs(options={"max_message_size": 0}), "options.max_message_size: must be from 512 to"),
        (ws(options={"auto_ping_interval": 999}), "auto_ping_interval: is in milliseconds; 999"),
        (ws(options={"open_handshake_timeout": -1}), "open_handshake_timeout: must be >= 0"),
        (
            ws(options={"allowed_origins": ["https://example.com"]}),
            "options.allowed_origins: this router does not check the Origin",
        ),
        (
            {"type": "web", "endpoint": {"type": "tcp", "port": 1}},
            "workers[0].transports[0].paths: must be a mapping, got null",
        ),
        (
            {"type": "web", "endpoint": {"type": "tcp", "port": 1}, "paths": {"ws": 1}},
            "workers[0].transports[0].paths.ws: must be a mapping, got int",
        ),
    ],
)
def test_transport_errors(transport: Any, message: str) -> None:
    refused(node([transport]), message)


def test_transports_must_be_a_list() -> None:
    refused(node(worker={"transports": {}}), "workers[0].transports: must be a list, got dict")


# -- authentication ---------------------------------------------------------------------


def test_no_auth_is_anonymous() -> None:
    assert listener(node([rs()])).auth is ANONYMOUS_AUTH


def test_static_and_dynamic_methods() -> None:
    key = cryptosign_public_key("11" * 32)
    auth = {
        "anonymous": {"type": "static"},
        "ticket": {"type": "static", "principals": {"joe": {"ticket": "$T", "role": "user"}}},
        "wampcra": {"type": "static", "users": {"peter": {"secret": "$S"}}},
        "cryptosign": {"type": "static", "principals": {"alice": {"authorized_keys": [key]}}},
        "scram": {
            "type": "dynamic",
            "authenticator": "com.example.authenticate",
            "authenticator-realm": "auth",
        },
    }
    got = listener(node([rs(auth=auth)]), {"T": "ticket!", "S": "secret!"}).auth
    assert got == {
        "anonymous": {"type": "static", "role": "anonymous"},
        "ticket": {"type": "static", "principals": {"joe": {"ticket": "ticket!", "role": "user"}}},
        "wampcra": {"type": "static", "users": {"peter": {"secret": "secret!"}}},
        "cryptosign": {"type": "static", "principals": {"alice": {"authorized_keys": [key]}}},
        "scram": {
            "type": "dynamic",
            "authenticator": "com.example.authenticate",
            "authenticator-realm": "auth",
        },
    }
    # Literal secrets stay as they are.
    plain = {"ticket": {"type": "static", "principals": {"joe": {"ticket": "plain"}}}}
    got = listener(node([rs(auth=plain)])).auth
    assert got is not None
    assert got["ticket"]["principals"]["joe"] == {"ticket": "plain"}


def test_auth_items_warned_about() -> None:
    auth = {
        "anonymous": {"type": "static", "role": "guest", "note": 1},
        "ticket": {"type": "dynamic", "authenticator": "com.a", "extra": 1},
        "wampcra": {"type": "static", "users": {}, "other": 1},
    }
    assert warned(node([rs(auth=auth)])) == [
        f"workers[0].transports[0].auth.{method}.{key}: not supported by this router, ignored"
        for method, key in (("anonymous", "note"), ("ticket", "extra"), ("wampcra", "other"))
    ]
    assert warned(node([rs(auth={})])) == [
        "workers[0].transports[0].auth: no authentication method: every session is refused"
    ]


@pytest.mark.parametrize("method", ["cookie", "tls", "cryptosign-proxy", "anonymous-proxy"])
def test_unknown_auth_methods_refuse_to_start(method: str) -> None:
    error = refused(
        node([ws(auth={method: {"type": "static"}})]),
        f"workers[0].transports[0].auth.{method}: authentication method {method!r} is not "
        "supported by this router; refusing to start",
    )
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ([], "transports[0].auth: must be a mapping, got list"),
        ({"ticket": None}, "transports[0].auth.ticket: must be a mapping, got null"),
        ({"ticket": {}}, "auth.ticket.type: None is not supported (only 'static' and 'dynamic')"),
        (
            {"ticket": {"type": "function", "create": "x"}},
            "auth.ticket.type: 'function' is not supported",
        ),
        ({"ticket": {"type": "dynamic"}}, "auth.ticket.authenticator: authenticator must be"),
        (
            {"ticket": {"type": "dynamic", "authenticator": "a", "authenticator-realm": 1}},
            "auth.ticket.authenticator-realm: must be a non-empty string",
        ),
        ({"anonymous": {"type": "static", "realm": "r"}}, "auth.anonymous.realm: not supported"),
        ({"anonymous": {"type": "static", "authid": "a"}}, "auth.anonymous.authid: not supported"),
        ({"anonymous": {"type": "static", "role": ""}}, "auth.anonymous.role: must be a non-empty"),
        (
            {"cryptosign": {"type": "static", "trustroots": {}}},
            "auth.cryptosign.trustroots: not supported by this router; refusing to start",
        ),
        ({"ticket": {"type": "static"}}, "auth.ticket.principals: must be a mapping, got null"),
        ({"wampcra": {"type": "static"}}, "auth.wampcra.users: must be a mapping, got null"),
        (
            {"ticket": {"type": "static", "principals": {"": {"ticket": "t"}}}},
            'auth.ticket.principals[""]: an authid must be a non-empty string',
        ),
        (
            {"ticket": {"type": "static", "principals": {1: {"ticket": "t"}}}},
            "auth.ticket.principals[1]: an authid must be a non-empty string",
        ),
        (
            {"ticket": {"type": "static", "principals": {"joe": "user"}}},
            "auth.ticket.principals.joe: must be a mapping, got str",
        ),
        (
            {"ticket": {"type": "static", "principals": {"joe": {"role": "user"}}}},
            "auth.ticket.principals.joe: principal: 'ticket' is missing",
        ),
        (
            {"ticket": {"type": "static", "principals": {"joe": {"ticket": "$NOPE"}}}},
            "auth.ticket.principals.joe.ticket: the environment variable NOPE is not set",
        ),
        (
            {"wampcra": {"type": "static", "users": {"a@b.c": {"secret": "s3cr3t", "salt": "x"}}}},
            "auth.wampcra.users[\"a@b.c\"]: principal: 'iterations' is missing",
        ),
        (
            {"scram": {"type": "static", "principals": {"s": {"kdf": "md5", "salt": "hide"}}}},
            "auth.scram.principals.s: principal: 'kdf' must be",
        ),
        (
            {"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": ["zz"]}}}},
            "auth.cryptosign.principals.a: principal: 'authorized_keys' is not hex",
        ),
    ],
)
def test_auth_errors(auth: Any, message: str) -> None:
    error = refused(node([ws(auth=auth)]), message)
    for secret in ("s3cr3t", "hide", "zz"):
        assert secret not in str(error)

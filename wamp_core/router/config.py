"""Crossbar.io node configurations (``config.json`` / ``config.yaml``, version 2): the
part a router worker needs, parsed and checked into what a host serves.

:func:`parse_config` is pure: it reads nothing but the mapping, the folder the
configuration's relative paths are relative to, and the environment mapping it is
given (for Crossbar.io's ``"$VAR"`` values). :func:`load_config` reads a file and is
the only function here that touches the filesystem. :func:`default_config` is the
command line's no-configuration mode. Every problem is a :class:`ConfigError`
naming the key path (``workers[0].transports[1].endpoint.port: must be an
integer``); an error about a credential never quotes its value.

A host uses :attr:`NodeConfig.realms` for :class:`~wamp_core.router.Router` and
serves each :class:`ListenerConfig` of :attr:`NodeConfig.listeners`; it logs
:attr:`NodeConfig.warnings`, one line each: everything in the file that is not
served is named there, never dropped silently.

What is read, warned about and refused
--------------------------------------

===========================================  =========  ===========================
Configuration item                           Handling   Notes
===========================================  =========  ===========================
``version``                                  supported  must be 2
``$schema``                                  supported  not checked
``controller``, unknown top-level keys       warned     ignored
``workers[type=router]``                     supported  exactly one
second router worker                         refused    its realms would be reachable
                                                        through the first's transports
other worker types (container, guest,        warned     not run
proxy, ...)
router ``options``, ``manhole``,             warned     ignored
``components``, ``connections``
``realms[].name``, ``roles[].name``          supported
``roles[].permissions[]``: ``uri``,          supported  no ``match``: Crossbar.io's
``match``, ``allow``, ``disclose``,                     starred URIs (``a.b.*`` is
``cache``                                               prefix ``a.b.``); ``allow``,
                                                        ``disclose`` and ``cache``
                                                        default to false, as in
                                                        Crossbar.io
``roles[].authorizer``                       supported  dynamic role
permission ``validate``                      warned     payloads are not validated
realm ``store``, ``options``, unknown keys   warned     ignored (the meta API is on;
                                                        its calls are authorized)
transport ``websocket``, ``rawsocket``       supported
transport ``web``: ``paths`` of type         supported  served at ``/<key>`` (``/``
``websocket``                                           for the key ``/``)
``web`` WebSocket paths that differ in       error      one server transport
serializers or options                                  negotiates before the path
                                                        is known (auth may differ)
``web`` paths of other types (static, wsgi,  warned     not served; a ``web``
nodeinfo, ...); ``web`` ``options``                     transport with no WebSocket
                                                        path is not served at all
other transport types (universal, mqtt,      warned     not served
...)
endpoint ``tcp``: ``port``, ``interface``,   supported  interface defaults to every
``version``, ``backlog``, ``shared``,                   interface (``0.0.0.0``, or
``tls``                                                 ``::`` for version 6), as
                                                        Crossbar.io (the host binds
                                                        what is configured); port 0
                                                        allowed; ``"$VAR"`` port
endpoint ``unix``: ``path``, ``backlog``     supported  ``$VAR`` expanded
endpoint ``portrange``, ``user_timeout``     warned     ignored
other endpoint types (twisted, onion)        warned     the transport is not served
``tls``: ``key``, ``certificate``,           supported  paths relative to the file's
``ca_certificates`` (client certificates                folder made absolute
required), ``chain_certificates``
``tls`` ``ciphers``, ``dhparam``             warned     ignored, as Crossbar.io
                                                        does (TLS 1.3 only)
``serializers``: json, msgpack, cbor         supported  default: all; WebSocket also
                                                        offers the batched forms
serializers ubjson, flatbuffers              warned     dropped
options ``max_message_size``,                supported  milliseconds -> seconds;
``auto_ping_interval``,                                 0 means off (ping, open
``auto_ping_timeout``,                                  timeout) or the host's
``open_handshake_timeout``,                             default (size, ping
``close_handshake_timeout``                             timeout, close timeout)
other options (``max_frame_size``,           warned     ignored; RawSocket takes
``compression``, ...)                                   ``max_message_size`` only
``allowed_origins`` other than ``["*"]``     refused    Origin is not checked
transport ``max_connections``, ``id``        supported
transport ``url``, ``debug``, ``cookie``     warned     ignored
no ``auth``                                  supported  anonymous, role ``anonymous``
``auth`` anonymous, ticket, wampcra,         supported  static principals checked
cryptosign, scram: ``static``, ``dynamic``              now; ``"$VAR"`` tickets and
                                                        WAMP-CRA secrets from the
                                                        environment
other ``auth`` methods (cookie, tls,         refused    access would differ from
cryptosign-proxy, ...), type ``function``,              what is configured
cryptosign ``trustroots``, anonymous
``authid``/``realm``
===========================================  =========  ===========================
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, cast

from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.auth import check_principal
from wamp_core.router.authorization import ACTIONS, Action, Permission, Role
from wamp_core.router.router import ANONYMOUS_AUTH, RealmConfig
from wamp_core.uri import MATCH_POLICIES, MatchPolicy, validate_uri

__all__ = [
    "ConfigError",
    "ListenerConfig",
    "NodeConfig",
    "TcpEndpoint",
    "TlsConfig",
    "UnixEndpoint",
    "default_config",
    "load_config",
    "parse_config",
]

SERIALIZERS: Final = ("json", "msgpack", "cbor")
"""The serializers served (WebSocket also offers each one's ``.batched`` form)."""
AUTH_METHODS: Final = ("anonymous", "ticket", "wampcra", "cryptosign", "scram")
"""The ``auth`` methods of a transport that are served; any other refuses to start."""

_DROPPED_SERIALIZERS = ("ubjson", "flatbuffers")
_WEBSOCKET_MAX = 64 * 1024 * 1024  # Crossbar.io's WebSocket max_message_size bound
_RAWSOCKET_MIN, _RAWSOCKET_MAX = 512, 16 * 1024 * 1024  # the RawSocket protocol's
_MILLISECOND_OPTIONS: Final = {
    # Crossbar.io option -> ListenerConfig field
    "auto_ping_interval": "ping_interval",
    "auto_ping_timeout": "ping_timeout",
    "open_handshake_timeout": "open_timeout",
    "close_handshake_timeout": "close_timeout",
}
_OPTION_NOTES: Final = {
    "max_frame_size": "not enforced on its own (a frame is bounded by max_message_size)",
}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ENV_VALUE = re.compile(r"\$([a-zA-Z_][a-zA-Z0-9_]*)")  # Crossbar.io's "$VAR" values
_ENV_IN_PATH = re.compile(r"\$(\w+|\{[^}]*\})")  # what os.path.expandvars replaces


class ConfigError(ValueError):
    """The configuration cannot be served as written; the message names the key path."""


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """A TLS listener's files, absolute. ``ca_certificates`` not None: the client
    must present a certificate signed by one of them (Crossbar.io's ``verify``)."""

    key: str
    certificate: str
    chain_certificates: tuple[str, ...] = ()
    ca_certificates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TcpEndpoint:
    """Listen on TCP ``interface``:``port`` (0: any free port)."""

    port: int
    interface: str = "0.0.0.0"
    backlog: int = 50
    shared: bool = False
    tls: TlsConfig | None = None


@dataclass(frozen=True, slots=True)
class UnixEndpoint:
    """Listen on the Unix socket ``path`` (absolute)."""

    path: str
    backlog: int = 50


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """One listening socket serving WAMP.

    ``kind`` is the wire format; ``serializers`` the names the server transport
    accepts (``WebSocketServerTransport`` / ``RawSocketServerTransport``).
    A WebSocket listener from a ``web`` transport serves only ``paths`` (URL path ->
    that path's auth); otherwise ``paths`` is None and ``auth`` (a
    :data:`~wamp_core.router.acceptor.TransportAuth`, read-only) applies to every
    connection: use :meth:`auth_for`. Times are in seconds. None means: not
    configured, the host's default (``ping_interval`` and ``open_timeout`` None: no
    pings, no open timeout, as configured with 0).
    """

    kind: Literal["websocket", "rawsocket"]
    endpoint: TcpEndpoint | UnixEndpoint
    serializers: tuple[str, ...]
    # Out of the repr: principals carry tickets, secrets and SCRAM keys.
    auth: TransportAuth | None = field(default_factory=lambda: ANONYMOUS_AUTH, repr=False)
    paths: Mapping[str, TransportAuth] | None = field(default=None, repr=False)
    id: str | None = None
    max_message_size: int | None = None
    ping_interval: float | None = None
    ping_timeout: float | None = None
    open_timeout: float | None = None
    close_timeout: float | None = None
    max_connections: int | None = None

    def auth_for(self, path: str = "") -> TransportAuth | None:
        """The authentication for a connection to URL ``path`` (WebSocket), or None
        for a path not served."""
        return self.auth if self.paths is None else self.paths.get(path)


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """What to serve: the realms (for ``Router``), the listeners, and one line for
    each thing in the configuration that is not served."""

    realms: tuple[RealmConfig, ...]
    listeners: tuple[ListenerConfig, ...]
    warnings: tuple[str, ...] = field(default=())


# -- files ----------------------------------------------------------------------------


def load_config(path: str | os.PathLike[str]) -> NodeConfig:
    """Read and parse a node configuration file: JSON for ``.json``, YAML for
    ``.yaml``/``.yml`` (needs the ``yaml`` extra). Relative paths in it are relative to
    its folder; ``"$VAR"`` values come from ``os.environ``."""
    path = os.path.abspath(os.fspath(path))
    text = _read(path)
    if path.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    elif path.lower().endswith((".yaml", ".yml")):
        data = _load_yaml(path, text)
    else:
        raise ConfigError(f"{path}: a node configuration is a .json, .yaml or .yml file")
    return parse_config(data, os.path.dirname(path), environ=os.environ)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        return file.read()


def _load_yaml(path: str, text: str) -> object:
    try:
        import yaml  # noqa: PLC0415  # the optional yaml extra
    except ImportError:
        raise ImportError(f"reading {path} needs PyYAML: pip install 'wamp-sansio[yaml]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None


# -- the defaults ---------------------------------------------------------------------


def default_config(
    realm: str = "realm1",
    ws: tuple[str, int, str] | None = ("127.0.0.1", 8080, "/ws"),
    rawsocket: tuple[str, int] | None = ("127.0.0.1", 8081),
    serializers: Sequence[str] | None = None,
) -> NodeConfig:
    """The command line's no-configuration mode: ``realm`` where anonymous may do
    everything, a WebSocket listener at ``(interface, port, path)`` and a RawSocket one
    at ``(interface, port)`` (None: not served). ``serializers`` are names of
    :data:`SERIALIZERS` (None: all)."""
    warnings: list[str] = []
    names = _serializer_names(
        list(SERIALIZERS if serializers is None else serializers), "serializers", warnings
    )
    listeners: list[ListenerConfig] = []
    if ws is not None:
        interface, port, path = ws
        listeners.append(
            ListenerConfig(
                "websocket",
                TcpEndpoint(port, interface),
                _websocket_serializers(names),
                auth=None,
                paths=MappingProxyType({path: ANONYMOUS_AUTH}),
            )
        )
    if rawsocket is not None:
        interface, port = rawsocket
        listeners.append(ListenerConfig("rawsocket", TcpEndpoint(port, interface), names))
    return NodeConfig((RealmConfig(realm),), tuple(listeners), tuple(warnings))


# -- the node -------------------------------------------------------------------------


def parse_config(
    data: object, base_dir: str, *, environ: Mapping[str, str] | None = None
) -> NodeConfig:
    """Check a node configuration (the parsed JSON or YAML) and return what to serve.

    ``base_dir`` is the folder relative paths (TLS files, Unix sockets) are relative
    to: the configuration file's. ``environ`` gives Crossbar.io's ``"$VAR"`` values
    (none by default: such a value is then an error)."""
    p = _Parser(os.path.abspath(base_dir), environ or {})
    return p.node(data)


class _Parser:
    def __init__(self, base_dir: str, environ: Mapping[str, str]) -> None:
        self.base_dir = base_dir
        self.environ = environ
        self.warnings: list[str] = []

    def warn(self, where: str, text: str) -> None:
        self.warnings.append(f"{where}: {text}")

    def ignore(self, config: Mapping[str, Any], where: str, known: Sequence[str]) -> None:
        for key in config:
            if key not in known:
                self.warn(_at(where, key), "not supported by this router, ignored")

    def node(self, data: object) -> NodeConfig:
        config = _mapping(data, "")
        if "version" not in config or config["version"] != 2:
            _fail("version", "must be 2 (Crossbar.io's current node configuration)")
        self.ignore(config, "", ("$schema", "version", "workers"))
        workers = _list(config.get("workers", []), "workers")
        router: tuple[tuple[RealmConfig, ...], tuple[ListenerConfig, ...]] | None = None
        for index, worker in enumerate(workers):
            where = f"workers[{index}]"
            kind = _mapping(worker, where).get("type")
            if kind != "router":
                self.warn(where, f"a worker of type {kind!r} is not run by this router")
            elif router is not None:
                _fail(
                    where,
                    "a second router worker is not supported (its realms would be "
                    "reachable through the first one's transports)",
                )
            else:
                router = self.router(worker, where)
        if router is None:
            _fail("workers", "no worker of type 'router'")
        realms, listeners = router
        return NodeConfig(realms, listeners, tuple(self.warnings))

    def router(
        self, worker: Mapping[str, Any], where: str
    ) -> tuple[tuple[RealmConfig, ...], tuple[ListenerConfig, ...]]:
        self.ignore(worker, where, ("id", "type", "realms", "transports"))
        realms = [
            self.realm(realm, f"{where}.realms[{i}]")
            for i, realm in enumerate(_list(worker.get("realms", []), f"{where}.realms"))
        ]
        names = [realm.name for realm in realms]
        for i, name in enumerate(names):
            if name in names[:i]:
                _fail(f"{where}.realms[{i}].name", f"realm {name!r} is configured twice")
        listeners: list[ListenerConfig] = []
        transports = _list(worker.get("transports", []), f"{where}.transports")
        for i, transport in enumerate(transports):
            listener = self.transport(transport, f"{where}.transports[{i}]")
            if listener is not None:
                listeners.append(listener)
        return tuple(realms), tuple(listeners)

    # -- realms -------------------------------------------------------------------

    def realm(self, data: object, where: str) -> RealmConfig:
        config = _mapping(data, where)
        self.ignore(config, where, ("name", "roles"))
        name = _str(config.get("name"), f"{where}.name")
        roles = _list(config.get("roles", []), f"{where}.roles")
        parsed = [self.role(role, f"{where}.roles[{i}]") for i, role in enumerate(roles)]
        seen: set[str] = set()
        for i, role in enumerate(parsed):
            if role.name in seen:
                _fail(f"{where}.roles[{i}].name", f"role {role.name!r} is defined twice")
            seen.add(role.name)
        return RealmConfig(name, tuple(parsed))

    def role(self, data: object, where: str) -> Role:
        config = _mapping(data, where)
        self.ignore(config, where, ("name", "permissions", "authorizer"))
        name = _str(config.get("name"), f"{where}.name")
        if "authorizer" in config:
            if "permissions" in config:
                _fail(where, "a role has an 'authorizer' or 'permissions', not both")
            authorizer = config["authorizer"]
            try:
                return Role(name, authorizer=validate_uri(authorizer, what="authorizer"))
            except ValueError as exc:
                _fail(f"{where}.authorizer", str(exc))
        permissions = _list(config.get("permissions", []), f"{where}.permissions")
        parsed = tuple(
            self.permission(permission, f"{where}.permissions[{i}]")
            for i, permission in enumerate(permissions)
        )
        try:
            return Role(name, parsed)
        except ValueError as exc:
            _fail(f"{where}.permissions", str(exc))

    def permission(self, data: object, where: str) -> Permission:
        config = _mapping(data, where)
        self.ignore(config, where, ("uri", "match", "allow", "disclose", "cache"))
        uri = _str(config.get("uri"), f"{where}.uri", empty=True)
        if "match" in config:
            match = config["match"]
            if match not in MATCH_POLICIES:
                _fail(f"{where}.match", f"must be one of {', '.join(MATCH_POLICIES)}")
        else:
            uri, match = _starred(uri)
        allow = _flags(config.get("allow", {}), f"{where}.allow", ACTIONS)
        disclose = _flags(config.get("disclose", {}), f"{where}.disclose", ("caller", "publisher"))
        cache = _bool(config.get("cache", False), f"{where}.cache")
        actions: frozenset[Action] = frozenset(a for a in ACTIONS if allow[a])
        try:
            return Permission(
                uri,
                cast(MatchPolicy, match),
                actions,
                disclose_caller=disclose["caller"],
                disclose_publisher=disclose["publisher"],
                cache=cache,
            )
        except ValueError as exc:
            _fail(where, str(exc))

    # -- transports ---------------------------------------------------------------

    def transport(self, data: object, where: str) -> ListenerConfig | None:
        config = _mapping(data, where)
        kind = config.get("type")
        if kind not in ("websocket", "rawsocket", "web"):
            self.warn(where, f"a transport of type {kind!r} is not served by this router")
            return None
        endpoint = self.endpoint(config.get("endpoint"), f"{where}.endpoint")
        if endpoint is None:
            return None
        ident = _str(config["id"], f"{where}.id") if "id" in config else None
        max_connections = None
        if "max_connections" in config:
            max_connections = _int(config["max_connections"], f"{where}.max_connections", 1)
        if kind == "web":
            self.ignore(config, where, ("id", "type", "endpoint", "paths", "max_connections"))
            return self.web(config, where, endpoint, ident, max_connections)
        known = ("id", "type", "endpoint", "serializers", "options", "auth", "max_connections")
        self.ignore(config, where, known)
        service = self.service(config, where, kind)
        return ListenerConfig(
            kind,
            endpoint,
            id=ident,
            max_connections=max_connections,
            **service,
        )

    def web(
        self,
        config: Mapping[str, Any],
        where: str,
        endpoint: TcpEndpoint | UnixEndpoint,
        ident: str | None,
        max_connections: int | None,
    ) -> ListenerConfig | None:
        paths = _mapping(config.get("paths"), f"{where}.paths")
        served: dict[str, TransportAuth] = {}
        first: dict[str, Any] | None = None
        for key, path in paths.items():
            at = _at(f"{where}.paths", key)
            kind = _mapping(path, at).get("type")
            if kind != "websocket":
                self.warn(at, f"a web service of type {kind!r} is not served by this router")
                continue
            self.ignore(path, at, ("type", "serializers", "options", "auth"))
            service = self.service(path, at, "websocket")
            auth = service.pop("auth")
            if first is None:
                first = service
            elif service != first:
                _fail(
                    at,
                    "the WebSocket paths of one web transport must have the same "
                    "serializers and options here (auth may differ)",
                )
            served["/" if key == "/" else f"/{key}"] = auth
        if first is None:
            self.warn(where, "a web transport without a WebSocket path is not served")
            return None
        return ListenerConfig(
            "websocket",
            endpoint,
            auth=None,
            paths=MappingProxyType(served),
            id=ident,
            max_connections=max_connections,
            **first,
        )

    def service(self, config: Mapping[str, Any], where: str, kind: str) -> dict[str, Any]:
        """The serializers, auth and options of a WAMP transport or WebSocket path."""
        if "serializers" in config:
            names = _serializer_names(config["serializers"], f"{where}.serializers", self.warnings)
        else:
            names = SERIALIZERS
        service: dict[str, Any] = {
            "serializers": _websocket_serializers(names) if kind == "websocket" else names,
            "auth": self.auth(config, where),
        }
        service.update(self.options(config.get("options", {}), f"{where}.options", kind))
        return service

    def options(self, data: object, where: str, kind: str) -> dict[str, Any]:
        options = _mapping(data, where)
        out: dict[str, Any] = {}
        for key, value in options.items():
            at = _at(where, key)
            if key == "max_message_size":
                if kind == "rawsocket":
                    out[key] = _int(value, at, _RAWSOCKET_MIN, _RAWSOCKET_MAX)
                elif _int(value, at, 0, _WEBSOCKET_MAX):
                    out[key] = value
                else:
                    self.warn(at, "0 (unlimited) is not supported: the host's default applies")
            elif key in _MILLISECOND_OPTIONS and kind == "websocket":
                milliseconds = _int(value, at, 0)
                if 0 < milliseconds < 1000:
                    _fail(at, f"is in milliseconds; {milliseconds} is too small")
                if milliseconds:
                    out[_MILLISECOND_OPTIONS[key]] = milliseconds / 1000
            elif key == "allowed_origins":
                if value != ["*"]:  # every origin: what this router does anyway
                    _fail(at, "this router does not check the Origin of WebSocket requests")
            else:
                self.warn(at, _OPTION_NOTES.get(key, "not supported by this router, ignored"))
        return out

    def endpoint(self, data: object, where: str) -> TcpEndpoint | UnixEndpoint | None:
        config = _mapping(data, where)
        kind = config.get("type")
        backlog = (
            _int(config["backlog"], f"{where}.backlog", 1, 65535) if "backlog" in config else 50
        )
        if kind == "unix":
            self.ignore(config, where, ("type", "path", "backlog"))
            path = _str(config.get("path"), f"{where}.path")
            return UnixEndpoint(self.file(_expand(path, self.environ)), backlog)
        if kind != "tcp":
            self.warn(where, f"an endpoint of type {kind!r} is not supported: not served")
            return None
        known = ("type", "port", "interface", "version", "backlog", "shared", "tls")
        self.ignore(config, where, known)
        port = self.env(config.get("port"), f"{where}.port")
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        version = config.get("version", 4)
        if type(version) is not int or version not in (4, 6):
            _fail(f"{where}.version", "must be 4 or 6")
        default_interface = "::" if version == 6 else "0.0.0.0"
        interface = _str(config.get("interface", default_interface), f"{where}.interface")
        tls = self.tls(config["tls"], f"{where}.tls") if "tls" in config else None
        return TcpEndpoint(
            _int(port, f"{where}.port", 0, 65535),
            interface,
            backlog,
            _bool(config.get("shared", False), f"{where}.shared"),
            tls,
        )

    def tls(self, data: object, where: str) -> TlsConfig:
        config = _mapping(data, where)
        self.ignore(config, where, ("key", "certificate", "chain_certificates", "ca_certificates"))
        key = self.file(_str(config.get("key"), f"{where}.key"))
        certificate = self.file(_str(config.get("certificate"), f"{where}.certificate"))
        chain = self.files(config.get("chain_certificates", []), f"{where}.chain_certificates")
        ca = None
        if "ca_certificates" in config:
            ca = self.files(config["ca_certificates"], f"{where}.ca_certificates")
        return TlsConfig(key, certificate, chain, ca)

    def file(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.base_dir, path))

    def files(self, data: object, where: str) -> tuple[str, ...]:
        items = _list(data, where)
        return tuple(self.file(_str(item, f"{where}[{i}]")) for i, item in enumerate(items))

    def env(self, value: object, where: str) -> object:
        """A ``"$VAR"`` value from the environment, as Crossbar.io reads it."""
        if isinstance(value, str):
            found = _ENV_VALUE.fullmatch(value)
            if found:
                name = found.group(1)
                if name not in self.environ:
                    _fail(where, f"the environment variable {name} is not set")
                return self.environ[name]
        return value

    # -- authentication -----------------------------------------------------------

    def auth(self, config: Mapping[str, Any], where: str) -> TransportAuth:
        if "auth" not in config:
            return ANONYMOUS_AUTH
        where = f"{where}.auth"
        methods = _mapping(config["auth"], where)
        if not methods:
            self.warn(where, "no authentication method: every session is refused")
        auth: dict[str, Mapping[str, Any]] = {}
        for method, method_config in methods.items():
            at = _at(where, method)
            if method not in AUTH_METHODS:
                _fail(
                    at,
                    f"authentication method {method!r} is not supported by this router; "
                    "refusing to start rather than let other clients in than configured",
                )
            auth[method] = MappingProxyType(self.method(method, _mapping(method_config, at), at))
        return MappingProxyType(auth)

    def method(self, method: str, config: Mapping[str, Any], where: str) -> dict[str, Any]:
        kind = config.get("type")
        if kind == "dynamic":
            self.ignore(config, where, ("type", "authenticator", "authenticator-realm"))
            out: dict[str, Any] = {"type": "dynamic"}
            authenticator = config.get("authenticator")
            try:
                out["authenticator"] = validate_uri(authenticator, what="authenticator")
            except ValueError as exc:
                _fail(f"{where}.authenticator", str(exc))
            if "authenticator-realm" in config:
                realm = _str(config["authenticator-realm"], f"{where}.authenticator-realm")
                out["authenticator-realm"] = realm
            return out
        if kind != "static":
            _fail(
                f"{where}.type",
                f"{kind!r} is not supported (only 'static' and 'dynamic'); refusing to start",
            )
        if method == "anonymous":
            for key in ("authid", "realm"):
                if key in config:
                    _fail(_at(where, key), "not supported by this router; refusing to start")
            self.ignore(config, where, ("type", "role"))
            return {
                "type": "static",
                "role": _str(config.get("role", "anonymous"), f"{where}.role"),
            }
        if method == "cryptosign" and "trustroots" in config:
            _fail(f"{where}.trustroots", "not supported by this router; refusing to start")
        key = "users" if method == "wampcra" else "principals"
        self.ignore(config, where, ("type", key))
        principals = _mapping(config.get(key), f"{where}.{key}")
        checked: dict[str, dict[str, Any]] = {}
        for authid, given in principals.items():
            at = _at(f"{where}.{key}", authid)
            if not isinstance(authid, str) or not authid:
                _fail(at, "an authid must be a non-empty string")
            principal = dict(_mapping(given, at))
            secret = {"ticket": "ticket", "wampcra": "secret"}.get(method)
            if secret is not None and secret in principal:
                principal[secret] = self.env(principal[secret], _at(at, secret))
            try:
                checked[authid] = check_principal(method, principal)
            except ValueError as exc:
                _fail(at, str(exc))
        return {"type": "static", key: checked}


# -- values ---------------------------------------------------------------------------


def _fail(where: str, text: str) -> NoReturn:
    raise ConfigError(f"{where}: {text}" if where else text)


def _at(where: str, key: object) -> str:
    """The key path of ``key`` in the mapping at ``where``."""
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{where}.{key}" if where else key
    text = json.dumps(key) if isinstance(key, str) else repr(key)
    return f"{where}[{text}]"


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(where, f"must be a mapping, got {_kind(value)}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        _fail(where, f"must be a list, got {_kind(value)}")
    return list(value)


def _str(value: object, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty):
        _fail(where, f"must be a non-empty string, got {_kind(value)}")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        _fail(where, f"must be true or false, got {_kind(value)}")
    return value


def _int(value: object, where: str, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(where, f"must be an integer, got {_kind(value)}")
    if value < low or (high is not None and value > high):
        _fail(where, f"must be from {low} to {high}" if high is not None else f"must be >= {low}")
    return value


def _flags(value: object, where: str, names: Sequence[str]) -> dict[str, bool]:
    flags = _mapping(value, where)
    for key in flags:
        if key not in names:
            _fail(_at(where, key), f"unknown; one of {', '.join(names)}")
    return {name: _bool(flags.get(name, False), _at(where, name)) for name in names}


def _starred(uri: str) -> tuple[str, str]:
    """Crossbar.io's starred URI without a ``match``: no star is exact, one trailing
    star a prefix, any other star a wildcard component."""
    stars = uri.count("*")
    if stars == 0:
        return uri, "exact"
    if stars == 1 and uri.endswith("*"):
        return uri[:-1], "prefix"
    return uri.replace("*", ""), "wildcard"


def _serializer_names(value: object, where: str, warnings: list[str]) -> tuple[str, ...]:
    names: list[str] = []
    for i, name in enumerate(_list(value, where)):
        at = f"{where}[{i}]"
        if name in _DROPPED_SERIALIZERS:
            warnings.append(f"{at}: {name} is not supported by this router, dropped")
        elif name not in SERIALIZERS:
            _fail(at, f"unknown serializer {name!r}; one of {', '.join(SERIALIZERS)}")
        elif name not in names:
            names.append(name)
    if not names:
        _fail(where, "no serializer this router speaks")
    return tuple(names)


def _websocket_serializers(names: Sequence[str]) -> tuple[str, ...]:
    """Crossbar.io offers each serializer batched too on WebSocket."""
    return tuple(names) + tuple(f"{name}.batched" for name in names)


def _expand(path: str, environ: Mapping[str, str]) -> str:
    """``os.path.expandvars`` over ``environ``: unknown variables stay as written."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1).strip("{}")
        return environ.get(name, found.group(0))

    return _ENV_IN_PATH.sub(replace, path)

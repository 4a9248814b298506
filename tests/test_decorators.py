"""@register, @subscribe, @error: validated metadata on functions and classes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from wamp_core.decorators import WampUri, error, register, subscribe, wamp_uris
from wamp_core.exception import InvalidUriError
from wamp_core.types import RegisterOptions, SubscribeOptions


def test_register_records_metadata_and_returns_function() -> None:
    opts = RegisterOptions(invoke="roundrobin")

    @register("com.calc.add", opts, check_types=True)
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3  # the function itself is returned unchanged
    assert wamp_uris(add) == [WampUri("com.calc.add", "register", opts, True)]
    entry = wamp_uris(add)[0]
    assert entry.match == "exact"
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.uri = "x"  # type: ignore[misc]


def test_stacked_decorations_keep_order() -> None:
    @subscribe("com.b")
    @register("com.a")
    @register()
    def f() -> None:
        pass

    assert [(e.uri, e.target) for e in wamp_uris(f)] == [
        (None, "register"),
        ("com.a", "register"),
        ("com.b", "subscribe"),
    ]
    assert isinstance(f.__wamp_uris__, tuple)  # type: ignore[attr-defined]


def test_uri_none_means_derive_later() -> None:
    @register()
    def proc() -> None:
        pass

    @subscribe(None, SubscribeOptions(match="prefix"))
    def handler() -> None:
        pass

    assert wamp_uris(proc)[0].uri is None
    assert wamp_uris(proc)[0].match == "exact"
    assert wamp_uris(handler)[0].match == "prefix"


def test_methods_and_bound_methods() -> None:
    class Service:
        @register("com.svc.ping")
        def ping(self) -> str:
            return "pong"

        @subscribe("com.svc.on_event", SubscribeOptions(details=True))
        def on_event(self, details: Any = None) -> None:
            pass

        def plain(self) -> None:
            pass

    svc = Service()
    assert svc.ping() == "pong"
    assert wamp_uris(svc.ping)[0].uri == "com.svc.ping"
    assert wamp_uris(Service.on_event)[0].target == "subscribe"
    assert wamp_uris(svc.plain) == []
    assert wamp_uris(42) == []


@pytest.mark.parametrize(
    ("decorator", "uri", "options", "match"),
    [
        (register, "com.app.", RegisterOptions(match="prefix"), "prefix"),
        (register, "com..x", RegisterOptions(match="wildcard"), "wildcard"),
        (register, "com..x", None, "wildcard"),  # inferred from the empty component
        (register, "com..x", RegisterOptions(invoke="first"), "wildcard"),
        (subscribe, "", SubscribeOptions(match="prefix"), "prefix"),
        (subscribe, "com..x", None, "wildcard"),
        (subscribe, "com.x", SubscribeOptions(match="wildcard"), "wildcard"),
        (subscribe, "com.X-y", None, "exact"),  # loose rule
    ],
)
def test_pattern_uris(decorator: Any, uri: str, options: Any, match: str) -> None:
    def f() -> None:
        pass

    decorator(uri, options)(f)
    assert wamp_uris(f)[0].match == match


@pytest.mark.parametrize(
    ("decorator", "uri", "options", "text"),
    [
        (register, "com..x", RegisterOptions(match="exact"), "invalid @register URI 'com..x'"),
        (register, "com..x", RegisterOptions(match="prefix"), "invalid @register URI prefix"),
        (register, "com x", None, "whitespace"),
        (register, "", None, "must not be empty"),
        (subscribe, "com.#", None, "'#'"),
        (subscribe, "a..", SubscribeOptions(match="prefix"), "component 2 is empty"),
    ],
)
def test_bad_uris_raise_at_decoration(decorator: Any, uri: str, options: Any, text: str) -> None:
    with pytest.raises(InvalidUriError) as info:
        decorator(uri, options)
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: register(1), "@register: uri must be a str or None, not int"),  # type: ignore[arg-type]
        (lambda: subscribe(b"x"), "@subscribe: uri must be a str or None, not bytes"),  # type: ignore[arg-type]
        (
            lambda: register("a", SubscribeOptions()),  # type: ignore[arg-type]
            "@register: options must be a RegisterOptions or None, not SubscribeOptions",
        ),
        (
            lambda: subscribe("a", RegisterOptions()),  # type: ignore[arg-type]
            "@subscribe: options must be a SubscribeOptions or None, not RegisterOptions",
        ),
        (lambda: subscribe("a", {"match": "prefix"}), "options must be a SubscribeOptions"),  # type: ignore[arg-type]
        (
            lambda: register("a", check_types=1),  # type: ignore[arg-type]
            "@register: check_types must be a bool or None, not int",
        ),
        (lambda: error(None), "@error: uri must be a str, not NoneType"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_type_error(call: Any, text: str) -> None:
    with pytest.raises(TypeError) as info:
        call()
    assert text in str(info.value)


def test_decorating_non_callables_and_builtins() -> None:
    with pytest.raises(TypeError, match="@register: can only decorate a callable, not 5"):
        register("a")(5)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="@subscribe: can only decorate a callable"):
        subscribe("a")("text")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="@register: cannot attach WAMP metadata to <built-in"):
        register("a")(len)


def test_error_on_exception_classes() -> None:
    @error("com.app.error.not_found")
    class NotFound(Exception):
        pass

    assert wamp_uris(NotFound) == [WampUri("com.app.error.not_found", "error")]
    assert wamp_uris(NotFound)[0].match == "exact"

    class Subclass(NotFound):
        pass

    # An undecorated subclass maps to its parent's URI ...
    assert wamp_uris(Subclass) == wamp_uris(NotFound)

    # ... and decorating it does not touch the parent.
    error("com.app.error.sub")(Subclass)
    assert [e.uri for e in wamp_uris(Subclass)] == ["com.app.error.sub"]
    assert [e.uri for e in wamp_uris(NotFound)] == ["com.app.error.not_found"]


def test_error_validation() -> None:
    with pytest.raises(InvalidUriError, match=r"invalid @error URI 'com\.\.x'"):
        error("com..x")
    with pytest.raises(TypeError, match="@error: can only decorate an exception class, not 1"):
        error("com.x")(1)  # type: ignore[type-var]

    class NotAnException:
        pass

    with pytest.raises(TypeError, match="can only decorate an exception class"):
        error("com.x")(NotAnException)  # type: ignore[type-var]


def test_wamp_uri_match_without_uri_or_options() -> None:
    assert WampUri(None, "subscribe").match == "exact"
    assert WampUri("a..b", "subscribe", SubscribeOptions()).match == "wildcard"
    assert WampUri("a.b", "register", RegisterOptions(match="prefix")).match == "prefix"


def test_decorated_members_and_uri() -> None:
    from wamp_core.decorators import decorated_members, decorated_uri

    class Service:
        @register("com.example.add")
        def add(self, a: int, b: int) -> int:
            return a + b

        @subscribe("on_tick", options=SubscribeOptions(match="prefix"))
        def tick(self) -> None: ...

        def plain(self) -> None: ...

        __magic__ = 1

    service = Service()
    ((fn, uri, options),) = decorated_members(service, "register")
    assert fn(1, 2) == 3
    assert (uri, options) == ("com.example.add", None)
    ((_, uri, options),) = decorated_members(service, "subscribe", "com.x.")
    assert uri == "com.x.on_tick" and options is not None
    assert decorated_uri(Service.add, "register") == "com.example.add"
    assert decorated_uri(Service.add, "register", "p.") == "p.com.example.add"
    with pytest.raises(ValueError, match="has no URI"):
        decorated_uri(Service.plain, "register")

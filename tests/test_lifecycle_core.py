"""The shared lifecycle order and request preparation (wamp_core.application.hooks,
.requests), seen through a stand-in adapter session."""

from __future__ import annotations

from typing import Any

import pytest

import wamp_core as wamp
from wamp_core.application.hooks import SessionHooks
from wamp_core.application.requests import (
    apply_join,
    handlers_to_subscribe,
    procedures_to_register,
)
from wamp_core.events import Challenged, Joined, Left
from wamp_core.exception import SessionNotReady
from wamp_core.session import ClientSession
from wamp_core.transports import TransportClosed, TransportOpened
from wamp_core.types import CloseDetails, ComponentConfig


class Detached(SessionHooks[object, object]):
    """A stand-in adapter session with no transport: every SessionHost method, each
    doing nothing or refusing (subclasses record what the tests look at)."""

    def _run_hook(self, hook: Any, name: str, *args: Any, after_leave: bool = False) -> None:
        raise AssertionError("no hooks run without a transport")

    def _run_challenge(self, challenge: Any) -> None:
        raise AssertionError("no challenge comes without a transport")

    def _session_over(self, details: CloseDetails | None) -> None:
        pass

    def _connection(self) -> Any:
        return None

    def _clock(self) -> float:
        return 0.0

    def _flush(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def _joined_core(self, what: str) -> Any:
        raise SessionNotReady(f"cannot {what}: the session is not joined")

    def _issue(self, make: Any, many: bool) -> object:
        return make() if many else make()[0]


class Recorder(Detached):
    def __init__(self) -> None:
        self.config = ComponentConfig(realm="realm1")
        self.details = None
        self.log: list[Any] = []

    def join(self, realm: str) -> None:  # type: ignore[override]
        self.log.append(("join", realm))

    def disconnect(self) -> None:
        self.log.append("disconnect")

    def _run_hook(self, hook: Any, name: str, *args: Any, after_leave: bool = False) -> None:
        self.log.append((name, after_leave))
        hook(*args)

    def _run_challenge(self, challenge: Any) -> None:
        self.log.append(("challenge", challenge.method))

    def _session_over(self, details: CloseDetails | None) -> None:
        self.log.append(("over", details.reason if details else None))


def test_the_order_of_the_hooks() -> None:
    session = Recorder()
    joined = Joined(1, "realm1", "joe", "user", "ticket", "static", {}, {})
    for event in (
        TransportOpened("json", None),
        Challenged("ticket", {}),
        joined,
        Left("wamp.close.normal", None, False, False),
        TransportClosed(None, "", None, True),
        "something else",  # not a lifecycle event: nothing happens
    ):
        session.lifecycle_event(event)
    assert session.details is not None and session.details.authid == "joe"
    assert not session.is_connected() and not session.is_attached()
    assert session.session_id is None
    assert session.log == [
        ("on_connect", False),
        ("join", "realm1"),
        ("challenge", "ticket"),
        ("on_welcome", False),
        ("on_join", False),
        ("over", "wamp.close.normal"),
        ("on_leave", False),
        "disconnect",
        ("over", None),
        ("on_disconnect", True),
    ]


def test_join_parameters() -> None:
    session = ClientSession("realm1")
    apply_join(session, "other", ["ticket"], "joe", "user", {"x": 1})
    assert (session.realm, session.authmethods, session.authid) == ("other", ["ticket"], "joe")
    assert (session.authrole, session.authextra) == ("user", {"x": 1})
    apply_join(session, "third")
    assert (session.realm, session.authid) == ("third", "joe")


class Api:
    @wamp.register("com.api.add")
    def add(self, a: int, b: int) -> int:
        return a + b

    @wamp.subscribe("com.api.news")
    def news(self, text: str) -> None:
        pass


def test_one_function_or_an_objects_decorated_methods() -> None:
    def plain() -> None:
        pass

    assert procedures_to_register(plain, "com.x", None) == (False, [(plain, "com.x", None)])
    decorated = wamp.register("com.y")(lambda: None)
    assert procedures_to_register(decorated, None, "opts") == (
        False,
        [(decorated, "com.y", "opts")],
    )
    api = Api()
    many, items = procedures_to_register(api, None, "opts")
    assert many and [(uri, opts) for _, uri, opts in items] == [("com.api.add", "opts")]
    many, items = handlers_to_subscribe(api, None, None)
    assert many and [uri for _, uri, _ in items] == ["com.api.news"]
    assert handlers_to_subscribe(plain, "com.t", None) == (False, [(plain, "com.t", None)])
    with pytest.raises(ValueError, match="no URI"):
        procedures_to_register(plain, None, None)  # a plain function needs a URI


def test_join_needs_a_transport() -> None:
    with pytest.raises(SessionNotReady, match="no transport"):
        Detached().join("realm1")
    with pytest.raises(SessionNotReady, match="cannot register"):
        Detached().register(lambda: None, "com.p")
    with pytest.raises(SessionNotReady, match="cannot subscribe"):
        Detached().subscribe(lambda: None, "com.t")


def test_an_adapter_session_must_implement_the_whole_host() -> None:
    """SessionHost is abstract: a session that lacks one of its methods cannot be made
    (mypy reports it too, where the class is instantiated)."""

    class Partial(SessionHooks[object, object]):
        def _connection(self) -> Any:
            return None

    with pytest.raises(TypeError, match="abstract") as raised:
        Partial()  # type: ignore[abstract]
    for name in ("_run_hook", "_clock", "_flush", "_issue", "_joined_core", "disconnect"):
        assert name in str(raised.value)

"""What the adapters' ``Session.join``, ``register`` and ``subscribe`` do before
anything goes to the wire, the same for both: the join parameters, and whether a
register/subscribe is for one function or for an object's decorated methods."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

from wamp_core.decorators import decorated_members, decorated_uri, wamp_uris
from wamp_core.session import ClientSession

__all__ = ["Endpoints", "apply_join", "handlers_to_subscribe", "procedures_to_register"]

Endpoints = tuple[bool, list[tuple[Callable[..., Any], str, Any]]]
"""(whether the argument was an object of decorated methods, [(function, URI, options)])."""


def apply_join(
    session: ClientSession,
    realm: str,
    authmethods: list[str] | None = None,
    authid: str | None = None,
    authrole: str | None = None,
    authextra: dict[str, Any] | None = None,
) -> None:
    """Set what HELLO will say (Autobahn's ``join`` parameters; None keeps the current)."""
    session.realm = realm
    if authmethods is not None:
        session.authmethods = list(authmethods)
    if authid is not None:
        session.authid = authid
    if authrole is not None:
        session.authrole = authrole
    if authextra is not None:
        session.authextra = authextra


def _endpoints(
    target: Callable[..., Any] | object,
    uri: str | None,
    options: Any,
    kind: Literal["register", "subscribe"],
    prefix: str | None,
) -> Endpoints:
    """One function (under ``uri``, else its own decoration's URI: none is an error),
    or an object's decorated methods."""
    own = any(u.target == kind and u.uri for u in wamp_uris(target))
    if callable(target) and (uri is not None or own or inspect.isroutine(target)):
        return False, [(target, uri or decorated_uri(target, kind, prefix), options)]
    members = decorated_members(target, kind, prefix or uri)
    return True, [(fn, member_uri, opts or options) for fn, member_uri, opts in members]


def procedures_to_register(
    endpoint: Callable[..., Any] | object,
    procedure: str | None,
    options: Any,
    prefix: str | None = None,
) -> Endpoints:
    """A function under ``procedure`` (or its ``@wamp.register`` URI), or every
    ``@wamp.register``-decorated method of an object (under ``prefix``)."""
    return _endpoints(endpoint, procedure, options, "register", prefix)


def handlers_to_subscribe(
    handler: Callable[..., Any] | object, topic: str | None, options: Any
) -> Endpoints:
    """A function for ``topic`` (or its ``@wamp.subscribe`` URI), or every
    ``@wamp.subscribe``-decorated method of an object."""
    return _endpoints(handler, topic, options, "subscribe", None)

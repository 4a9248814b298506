"""The meta API procedures (``advanced/meta_api_sessions.md``, ``..._registrations.md``,
``..._subscriptions.md``, ``session_testament.md``), served by the realm itself.

Each procedure is a function of ``(realm, caller, *args, **kwargs)`` returning the
one result value (or None for an empty RESULT) and raising
:class:`~wamp_core.exception.ApplicationError` with the spec's error URIs. Results
have Crossbar.io's shapes. The realm publishes the meta events (``on_join``,
``on_create``, ...) as things happen; see broker.py and dealer.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wamp_core.exception import ApplicationError
from wamp_core.messages import Publish
from wamp_core.router.session import RouterSession
from wamp_core.uri import MATCH_POLICIES, is_valid_uri

if TYPE_CHECKING:
    from wamp_core.router.realm import Realm

__all__ = ["META_PROCEDURES", "Testament"]

MetaProcedure = Callable[..., Any]
_SCOPES = ("destroyed", "detached")
_NO_SUCH_SESSION = ApplicationError.NO_SUCH_SESSION
_INVALID = ApplicationError.INVALID_ARGUMENT


@dataclass(frozen=True, slots=True)
class Testament:
    """A publication made on a session's behalf when it ends."""

    scope: str
    message: Publish


def _int(value: object, name: str) -> int:
    if type(value) is not int:
        raise ApplicationError(_INVALID, f"{name} must be an integer, got {value!r:.40}")
    return value


def _str(value: object, name: str) -> str:
    if type(value) is not str:
        raise ApplicationError(_INVALID, f"{name} must be a string, got {value!r:.40}")
    return value


def _optional_str(value: object, name: str) -> str | None:
    return None if value is None else _str(value, name)


def _roles_filter(value: object) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(type(v) is str for v in value):
        raise ApplicationError(_INVALID, "filter_authroles must be a list of strings")
    return set(value)


# -- sessions -------------------------------------------------------------------------


def _listed(realm: Realm, filter_authroles: object) -> list[RouterSession]:
    roles = _roles_filter(filter_authroles)
    return [s for s in realm.sessions.values() if roles is None or s.authrole in roles]


def session_count(realm: Realm, caller: RouterSession, filter_authroles: object = None) -> int:
    return len(_listed(realm, filter_authroles))


def session_list(realm: Realm, caller: RouterSession, filter_authroles: object = None) -> list[int]:
    return [s.id for s in _listed(realm, filter_authroles)]


def _other_session(realm: Realm, caller: RouterSession, session_id: object) -> RouterSession:
    # The spec: a caller names only other sessions; its own id is "no such session".
    target = realm.sessions.get(_int(session_id, "session_id"))
    if target is None or target is caller:
        raise ApplicationError(_NO_SUCH_SESSION, f"no session with ID {session_id} exists")
    return target


def session_get(realm: Realm, caller: RouterSession, session_id: object) -> dict[str, Any]:
    target = realm.sessions.get(_int(session_id, "session_id"))
    if target is None:
        raise ApplicationError(_NO_SUCH_SESSION, f"no session with ID {session_id} exists")
    return target.details()


def _kill(targets: list[RouterSession], reason: object, message: object) -> list[int]:
    why = _optional_str(reason, "reason") or "wamp.close.killed"
    if not is_valid_uri(why):
        raise ApplicationError(ApplicationError.INVALID_URI, f"invalid reason URI {why!r}")
    text = _optional_str(message, "message")
    for target in targets:
        target.peer.kill(why, text)
    return [target.id for target in targets]


def session_kill(
    realm: Realm,
    caller: RouterSession,
    session_id: object,
    reason: object = None,
    message: object = None,
) -> None:
    _kill([_other_session(realm, caller, session_id)], reason, message)


def session_kill_by_authid(
    realm: Realm,
    caller: RouterSession,
    authid: object,
    reason: object = None,
    message: object = None,
) -> list[int]:
    targets = realm.sessions_by_authid(_str(authid, "authid"))
    return _kill([s for s in targets if s is not caller], reason, message)


def session_kill_by_authrole(
    realm: Realm,
    caller: RouterSession,
    authrole: object,
    reason: object = None,
    message: object = None,
) -> list[int]:
    targets = realm.sessions_by_authrole(_str(authrole, "authrole"))
    return _kill([s for s in targets if s is not caller], reason, message)


# -- testaments -----------------------------------------------------------------------


def _scope(scope: object) -> str:
    if scope not in _SCOPES:
        raise ApplicationError("wamp.error.testament_error", "scope must be destroyed or detached")
    return str(scope)


def add_testament(
    realm: Realm,
    caller: RouterSession,
    topic: object,
    args: object = None,
    kwargs: object = None,
    publish_options: object = None,
    scope: object = "destroyed",
) -> int:
    where = _scope(scope)
    if not is_valid_uri(topic):
        raise ApplicationError(
            ApplicationError.INVALID_URI, f"invalid testament topic {topic!r:.60}"
        )
    if args is not None and not isinstance(args, list):
        raise ApplicationError(_INVALID, "args must be a list")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ApplicationError(_INVALID, "kwargs must be a dict")
    if publish_options is not None and not isinstance(publish_options, dict):
        raise ApplicationError(_INVALID, "publish_options must be a dict")
    options = {
        k: v for k, v in (publish_options or {}).items() if k not in ("acknowledge", "exclude_me")
    }
    mine = realm.testaments.setdefault(caller.id, [])
    if len(mine) >= realm.max_testaments:
        raise ApplicationError("wamp.error.testament_error", "too many testaments")
    publication_id = realm.ids.draw()
    message = Publish(publication_id, topic, args, kwargs, options)  # type: ignore[arg-type]
    mine.append(Testament(where, message))
    return publication_id


def flush_testaments(realm: Realm, caller: RouterSession, scope: object = "destroyed") -> int:
    where = _scope(scope)
    mine = realm.testaments.get(caller.id, [])
    kept = [t for t in mine if t.scope != where]
    if kept:
        realm.testaments[caller.id] = kept
    else:
        realm.testaments.pop(caller.id, None)
    return len(mine) - len(kept)


# -- registrations and subscriptions --------------------------------------------------


def _match_of(options: object) -> str:
    if options is None:
        return "exact"
    match = options.get("match", "exact") if isinstance(options, dict) else None
    if match not in MATCH_POLICIES:
        raise ApplicationError(
            _INVALID, f"options must be a dict with a valid match, got {options!r:.60}"
        )
    return str(match)


def _listing(entries: Mapping[int, Any]) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {"exact": [], "prefix": [], "wildcard": []}
    for entry in entries.values():
        result[entry.match].append(entry.id)
    return result


def registration_list(realm: Realm, caller: RouterSession) -> dict[str, list[int]]:
    return _listing(realm.dealer.registrations)


def registration_lookup(
    realm: Realm, caller: RouterSession, procedure: object, options: object = None
) -> int | None:
    found = realm.dealer.lookup(_str(procedure, "procedure"), _match_of(options))
    return None if found is None else found.id


def registration_match(realm: Realm, caller: RouterSession, procedure: object) -> int | None:
    found = realm.dealer.best_match(_str(procedure, "procedure"))
    return None if found is None else found.id


def _registration(realm: Realm, registration_id: object) -> Any:
    found = realm.dealer.registrations.get(_int(registration_id, "registration_id"))
    if found is None:
        text = f"no registration with ID {registration_id} exists on this dealer"
        raise ApplicationError(ApplicationError.NO_SUCH_REGISTRATION, text)
    return found


def registration_get(
    realm: Realm, caller: RouterSession, registration_id: object
) -> dict[str, Any]:
    return _registration(realm, registration_id).details()  # type: ignore[no-any-return]


def registration_list_callees(
    realm: Realm, caller: RouterSession, registration_id: object
) -> list[int]:
    return [s.id for s in _registration(realm, registration_id).callees]


def registration_count_callees(realm: Realm, caller: RouterSession, registration_id: object) -> int:
    return len(_registration(realm, registration_id).callees)


def registration_remove_callee(
    realm: Realm,
    caller: RouterSession,
    registration_id: object,
    callee_id: object,
    reason: object = None,
) -> None:
    registration = _registration(realm, registration_id)
    if not realm.dealer.revoke(
        _int(callee_id, "callee_id"), registration.id, _optional_str(reason, "reason")
    ):
        text = f"session {callee_id} is not a callee of registration {registration.id}"
        raise ApplicationError(ApplicationError.NO_SUCH_REGISTRATION, text)


def subscription_list(realm: Realm, caller: RouterSession) -> dict[str, list[int]]:
    return _listing(realm.broker.subscriptions)


def subscription_lookup(
    realm: Realm, caller: RouterSession, topic: object, options: object = None
) -> int | None:
    found = realm.broker.lookup(_str(topic, "topic"), _match_of(options))
    return None if found is None else found.id


def subscription_match(realm: Realm, caller: RouterSession, topic: object) -> list[int] | None:
    found = realm.broker.matching(_str(topic, "topic"))
    return [s.id for s in found] or None


def _subscription(realm: Realm, subscription_id: object) -> Any:
    found = realm.broker.subscriptions.get(_int(subscription_id, "subscription_id"))
    if found is None:
        text = f"no subscription with ID {subscription_id} exists on this broker"
        raise ApplicationError(ApplicationError.NO_SUCH_SUBSCRIPTION, text)
    return found


def subscription_get(
    realm: Realm, caller: RouterSession, subscription_id: object
) -> dict[str, Any]:
    return _subscription(realm, subscription_id).details()  # type: ignore[no-any-return]


def subscription_list_subscribers(
    realm: Realm, caller: RouterSession, subscription_id: object
) -> list[int]:
    return list(_subscription(realm, subscription_id).subscribers)


def subscription_count_subscribers(
    realm: Realm, caller: RouterSession, subscription_id: object
) -> int:
    return len(_subscription(realm, subscription_id).subscribers)


def subscription_remove_subscriber(
    realm: Realm,
    caller: RouterSession,
    subscription_id: object,
    subscriber_id: object,
    reason: object = None,
) -> None:
    subscription = _subscription(realm, subscription_id)
    if not realm.broker.revoke(
        _int(subscriber_id, "subscriber_id"), subscription.id, _optional_str(reason, "reason")
    ):
        text = f"session {subscriber_id} is not a subscriber of subscription {subscription.id}"
        raise ApplicationError(ApplicationError.NO_SUCH_SUBSCRIPTION, text)


META_PROCEDURES: Mapping[str, MetaProcedure] = {
    "wamp.session.count": session_count,
    "wamp.session.list": session_list,
    "wamp.session.get": session_get,
    "wamp.session.kill": session_kill,
    "wamp.session.kill_by_authid": session_kill_by_authid,
    "wamp.session.kill_by_authrole": session_kill_by_authrole,
    "wamp.session.add_testament": add_testament,
    "wamp.session.flush_testaments": flush_testaments,
    "wamp.registration.list": registration_list,
    "wamp.registration.lookup": registration_lookup,
    "wamp.registration.match": registration_match,
    "wamp.registration.get": registration_get,
    "wamp.registration.list_callees": registration_list_callees,
    "wamp.registration.count_callees": registration_count_callees,
    "wamp.registration.remove_callee": registration_remove_callee,
    "wamp.subscription.list": subscription_list,
    "wamp.subscription.lookup": subscription_lookup,
    "wamp.subscription.match": subscription_match,
    "wamp.subscription.get": subscription_get,
    "wamp.subscription.list_subscribers": subscription_list_subscribers,
    "wamp.subscription.count_subscribers": subscription_count_subscribers,
    "wamp.subscription.remove_subscriber": subscription_remove_subscriber,
}
"""The meta procedures by URI: a call to one of these is answered by the realm."""

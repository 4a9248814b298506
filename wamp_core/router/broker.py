"""The broker: subscriptions, publications, EVENTs (``basic/pubsub.md``, and the
Advanced Profile's pattern-based subscriptions, publisher exclusion and
identification, subscriber black- and whitelisting, acknowledgement, retained
events, payload passthru and subscription revocation).

Tables, all cleaned up as sessions go:

* ``_matcher``: ``(uri, match) -> Subscription`` for routing a publication;
* ``_routes``: topic -> the subscriptions matching it, as ``_matcher`` last said
  (a cache: emptied whenever a subscription is created or deleted, bounded);
* ``_by_id``: subscription id -> Subscription (UNSUBSCRIBE, the meta API);
* ``_of_session``: session id -> the ids of its subscriptions;
* ``_retained``: topic -> the newest event published there with ``retain``,
  at most ``max_retained`` topics (the oldest is forgotten first).

A subscription lives while it has subscribers. An EVENT is built once per matching
subscription and handed to all its receivers with one encoding cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wamp_core.messages import (
    Error,
    Event,
    Publish,
    Published,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from wamp_core.router._ids import RandomIds
from wamp_core.router.authorizer import Authorizer
from wamp_core.router.session import RouterSession
from wamp_core.uri import MatchPolicy, UriMatcher

__all__ = ["Broker", "MetaPublish", "Subscription", "match_policy"]

MetaPublish = Callable[[str, list[Any]], None]
"""How the broker reports its changes to the meta API: (topic, arguments)."""

NOT_AUTHORIZED = "wamp.error.not_authorized"
# How many topics' (procedures') matches the broker (dealer) remembers: routing a
# message is then one dict look-up, for the few URIs most traffic uses.
MAX_ROUTES = 10_000
NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
# The options a publisher may pass through to its subscribers untouched (payload passthru,
# and Autobahn's end-to-end encryption: an opaque payload is only read as one with enc_algo).
PASSTHRU = (
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
    "enc_algo",
    "enc_serializer",
    "enc_key",
)


# The options that filter a publication's receivers: without any of them (the common
# case), the only receiver left out is the publisher itself, and no filter is built.
_FILTERS = frozenset(
    (
        "eligible",
        "eligible_authid",
        "eligible_authrole",
        "exclude",
        "exclude_authid",
        "exclude_authrole",
    )
)


class Subscription:
    """One topic pattern and the sessions subscribed to it (in subscription order)."""

    __slots__ = ("created", "id", "match", "subscribers", "uri")

    def __init__(self, subscription_id: int, uri: str, match: MatchPolicy, created: str) -> None:
        self.id = subscription_id
        self.uri = uri
        self.match = match
        self.created = created
        self.subscribers: dict[int, RouterSession] = {}

    def details(self) -> dict[str, Any]:
        """As the meta API describes it."""
        return {"id": self.id, "created": self.created, "uri": self.uri, "match": self.match}


@dataclass(frozen=True, slots=True)
class _Retained:
    publish: Publish
    publisher: RouterSession  # a snapshot of who published; it may have left since
    disclose: bool


class _Receivers:
    """The receiver filter of one publication (exclude/eligible and their forms)."""

    __slots__ = (
        "eligible",
        "eligible_authid",
        "eligible_authrole",
        "exclude",
        "exclude_authid",
        "exclude_authrole",
    )

    def __init__(self, options: Mapping[str, Any], publisher: int | None) -> None:
        self.exclude: set[int] = set(options.get("exclude") or ())
        if publisher is not None:
            self.exclude.add(publisher)
        self.exclude_authid = set(options.get("exclude_authid") or ())
        self.exclude_authrole = set(options.get("exclude_authrole") or ())
        self.eligible = _optional_set(options.get("eligible"))
        self.eligible_authid = _optional_set(options.get("eligible_authid"))
        self.eligible_authrole = _optional_set(options.get("eligible_authrole"))

    def admits(self, session: RouterSession) -> bool:
        if (
            session.id in self.exclude
            or session.authid in self.exclude_authid
            or session.authrole in self.exclude_authrole
        ):
            return False
        return (
            (self.eligible is None or session.id in self.eligible)
            and (self.eligible_authid is None or session.authid in self.eligible_authid)
            and (self.eligible_authrole is None or session.authrole in self.eligible_authrole)
        )


def _optional_set(values: Iterable[Any] | None) -> set[Any] | None:
    return None if values is None else set(values)


class Broker:
    """Routes publications of one realm. ``meta`` publishes the meta API's events."""

    def __init__(
        self,
        authorize: Authorizer,
        ids: RandomIds,
        meta: MetaPublish,
        *,
        now: Callable[[], str],
        max_retained: int = 10_000,
    ) -> None:
        self._authorize = authorize
        self._ids = ids
        self._meta = meta
        self._now = now  # the time as the meta API shows it (ISO 8601), from the host
        self._max_retained = max_retained
        self._matcher: UriMatcher[Subscription] = UriMatcher()
        self._routes: dict[str, list[Subscription]] = {}
        self._by_id: dict[int, Subscription] = {}
        self._of_session: dict[int, set[int]] = {}
        self._retained: dict[str, _Retained] = {}

    # -- what the meta API and tests read ---------------------------------------------

    @property
    def subscriptions(self) -> Mapping[int, Subscription]:
        return self._by_id

    def lookup(self, uri: str, match: str) -> Subscription | None:
        return self._matcher.get(uri, match)

    def matching(self, uri: str) -> list[Subscription]:
        return self._matcher.matches(uri)

    def is_empty(self) -> bool:
        """Whether nothing of any session is left (the retained events may stay)."""
        return not (self._by_id or self._of_session or len(self._matcher))

    # -- SUBSCRIBE / UNSUBSCRIBE ------------------------------------------------------

    def subscribe(self, session: RouterSession, message: Subscribe) -> None:
        topic, match = message.topic, match_policy(message.match)
        if self._authorize.decide(session, topic, "subscribe") is None:
            text = f"session is not authorized to subscribe to topic {topic!r}"
            session.peer.send(_error(Subscribe.CODE, message.request_id, NOT_AUTHORIZED, text))
            return
        subscription = self._matcher.get(topic, match)
        created = subscription is None
        if subscription is None:
            subscription = Subscription(self._ids.unique(self._by_id), topic, match, self._now())
            self._matcher.add(topic, match, subscription)
            self._routes.clear()
            self._by_id[subscription.id] = subscription
        added = session.id not in subscription.subscribers
        subscription.subscribers[session.id] = session
        self._of_session.setdefault(session.id, set()).add(subscription.id)
        session.peer.send(Subscribed(message.request_id, subscription.id))
        if not topic.startswith("wamp."):  # the meta API does not report on itself
            if created:
                self._meta("wamp.subscription.on_create", [session.id, subscription.details()])
            if added:
                self._meta("wamp.subscription.on_subscribe", [session.id, subscription.id])
        if message.options.get("get_retained") is True and match == "exact":
            self._send_retained(session, subscription)

    def unsubscribe(self, session: RouterSession, message: Unsubscribe) -> None:
        subscription = self._by_id.get(message.subscription_id)
        if subscription is None or session.id not in subscription.subscribers:
            text = f"no subscription {message.subscription_id} of this session"
            error = _error(Unsubscribe.CODE, message.request_id, NO_SUCH_SUBSCRIPTION, text)
            session.peer.send(error)
            return
        session.peer.send(Unsubscribed(message.request_id))
        self._remove_subscriber(session.id, subscription)

    def revoke(self, session_id: int, subscription_id: int, reason: str | None = None) -> bool:
        """End ``session_id``'s subscription from the router's side (meta API):
        UNSUBSCRIBED with the subscription in its details, if the subscriber said
        it understands revocation. False if there was no such subscriber."""
        subscription = self._by_id.get(subscription_id)
        session = None if subscription is None else subscription.subscribers.get(session_id)
        if subscription is None or session is None:
            return False
        if session.has_feature("subscriber", "subscription_revocation"):
            details: dict[str, Any] = {"subscription": subscription.id}
            if reason is not None:
                details["reason"] = reason
            session.peer.send(Unsubscribed(0, details))
        self._remove_subscriber(session_id, subscription)
        return True

    def remove_session(self, session: RouterSession) -> None:
        """Forget everything of a session that has left."""
        for subscription_id in sorted(self._of_session.get(session.id, ())):
            self._remove_subscriber(session.id, self._by_id[subscription_id])

    def _remove_subscriber(self, session_id: int, subscription: Subscription) -> None:
        del subscription.subscribers[session_id]
        mine = self._of_session[session_id]
        mine.discard(subscription.id)
        if not mine:
            del self._of_session[session_id]
        deleted = not subscription.subscribers
        if deleted:
            self._matcher.remove(subscription.uri, subscription.match)
            self._routes.clear()
            del self._by_id[subscription.id]
        if not subscription.uri.startswith("wamp."):
            self._meta("wamp.subscription.on_unsubscribe", [session_id, subscription.id])
            if deleted:
                self._meta("wamp.subscription.on_delete", [session_id, subscription.id])

    # -- PUBLISH ----------------------------------------------------------------------

    def publish(self, session: RouterSession, message: Publish) -> None:
        options = message.options
        permission = self._authorize.decide(session, message.topic, "publish")
        if permission is None:
            if options.get("acknowledge") is True:  # else no answer, even an error
                text = f"session is not authorized to publish to topic {message.topic!r}"
                error = _error(Publish.CODE, message.request_id, NOT_AUTHORIZED, text)
                session.peer.send(error)
            return
        publication_id = self._ids.draw()
        disclose = permission.disclose_publisher
        me = session.id  # publisher exclusion is on by default
        receivers = None
        if options:  # most publications have none: no look-ups then
            disclose = disclose or options.get("disclose_me") is True
            if options.get("retain") is True:
                self._retain(message, session, disclose)
            if options.get("acknowledge") is True:
                session.peer.send(Published(message.request_id, publication_id))
            excluded = options.get("exclude_me", True) is not False
            if not excluded:
                me = 0  # no session's id (ids start at 1): still an int compare
            if not _FILTERS.isdisjoint(options):
                receivers = _Receivers(options, session.id if excluded else None)
        for subscription in self._route(message.topic):
            event = _event(subscription, publication_id, message, session, disclose)
            subscribers = subscription.subscribers
            if len(subscribers) == 1:  # no encoding to share, no copy to take
                subscriber = next(iter(subscribers.values()))
                if subscriber.id != me if receivers is None else receivers.admits(subscriber):
                    subscriber.peer.send(event)
                continue
            cache: dict[str, Any] = {}
            # A copy: a receiver cut off for not reading leaves the realm mid-loop.
            if receivers is None:
                for subscriber in list(subscribers.values()):
                    if subscriber.id != me:
                        subscriber.peer.send_shared(event, cache)
            else:
                for subscriber in list(subscribers.values()):
                    if receivers.admits(subscriber):
                        subscriber.peer.send_shared(event, cache)

    def publish_internal(self, topic: str, args: list[Any], exclude: int | None = None) -> None:
        """A publication of the realm itself (the meta API): to every subscriber but
        ``exclude``, undisclosed, unauthorized checks skipped (the realm is trusted)."""
        publication_id = self._ids.draw()
        message = Publish(0, topic, args)
        for subscription in self._route(topic):
            event = _event(subscription, publication_id, message, None, False)
            cache: dict[str, Any] = {}
            for subscriber in list(subscription.subscribers.values()):
                if subscriber.id != exclude:
                    subscriber.peer.send_shared(event, cache)

    def _route(self, topic: str) -> list[Subscription]:
        """The subscriptions matching ``topic`` (do not change the list: it is kept)."""
        routes = self._routes.get(topic)
        if routes is None:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()  # bounded, whatever topics the clients use
            routes = self._routes[topic] = self._matcher.matches(topic)
        return routes

    def _retain(self, message: Publish, session: RouterSession, disclose: bool) -> None:
        topic = message.topic
        self._retained.pop(topic, None)  # re-inserted last: the newest is forgotten last
        if len(self._retained) >= self._max_retained:
            del self._retained[next(iter(self._retained))]
        self._retained[topic] = _Retained(message, session, disclose)

    def _send_retained(self, session: RouterSession, subscription: Subscription) -> None:
        retained = self._retained.get(subscription.uri)
        if retained is None:
            return
        receivers = _Receivers(retained.publish.options, None)
        if receivers.admits(session):
            publication_id = self._ids.draw()
            event = _event(
                subscription,
                publication_id,
                retained.publish,
                retained.publisher,
                retained.disclose,
            )
            event.details["retained"] = True
            session.peer.send(event)


def _event(
    subscription: Subscription,
    publication_id: int,
    message: Publish,
    publisher: RouterSession | None,
    disclose: bool,
) -> Event:
    details: dict[str, Any] = {}
    if subscription.match != "exact":
        details["topic"] = message.topic
    if disclose and publisher is not None:
        details["publisher"] = publisher.id
        details["publisher_authid"] = publisher.authid
        details["publisher_authrole"] = publisher.authrole
    options = message.options
    if message.payload is not None:
        for key in PASSTHRU:
            if key in options:
                details[key] = options[key]
    return Event(
        subscription.id, publication_id, message.args, message.kwargs, details, message.payload
    )


def match_policy(match: str) -> MatchPolicy:
    # SUBSCRIBE and REGISTER are parsed strictly: match is one of the three.
    return "prefix" if match == "prefix" else "wildcard" if match == "wildcard" else "exact"


def _error(request_type: int, request_id: int, uri: str, text: str) -> Error:
    return Error(request_type, request_id, uri, [text])

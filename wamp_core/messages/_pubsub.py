"""Publish & subscribe messages: PUBLISH ... EVENT, and Autobahn's EVENT_RECEIVED."""

from __future__ import annotations

from typing import Any

from wamp_core.messages import _check as c
from wamp_core.messages._base import Message, with_payload
from wamp_core.messages._check import KNOWN_URIS
from wamp_core.vocabulary import MAX_ID

PUBLISH_OPTIONS: c.Schema = {
    **c.PASSTHRU,
    "acknowledge": c.BOOL,
    "exclude_me": c.BOOL,
    "exclude": c.IDS,
    "exclude_authid": c.STRS,
    "exclude_authrole": c.STRS,
    "eligible": c.IDS,
    "eligible_authid": c.STRS,
    "eligible_authrole": c.STRS,
    "disclose_me": c.BOOL,
    "retain": c.BOOL,
    "rkey": c.STR,
    "x_acknowledged_delivery": c.BOOL,
}
SUBSCRIBE_OPTIONS: c.Schema = {
    "match": c.MATCH,
    "get_retained": c.BOOL,
    "nkey": c.STR,
    "forward_for": c.FORWARD_FOR,
}
EVENT_DETAILS: c.Schema = {
    **c.PASSTHRU,
    "publisher": c.ID,
    "publisher_authid": c.STR,
    "publisher_authrole": c.STR,
    "topic": c.URI,
    "retained": c.BOOL,
    "trustlevel": c.COUNT,
    "x_acknowledged_delivery": c.BOOL,
}
REVOCATION_DETAILS: c.Schema = {"subscription": c.ID, "reason": c.STR}


class Publish(Message):
    """``[PUBLISH, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?]``."""

    FIELDS = ("request_id", "topic", "args", "kwargs", "options", "payload")
    __slots__ = FIELDS
    CODE = 16
    NAME = "PUBLISH"

    def __init__(
        self,
        request_id: int,
        topic: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_id = request_id
        self.topic = topic
        self.args = args
        self.kwargs = kwargs
        self.options = {} if options is None else options
        self.payload = payload

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Publish:
        n = len(wmsg)
        if n < 4 or n > 6:
            raise c.arity_error("PUBLISH", n, 4, 6)
        request_id, options, topic = wmsg[1], wmsg[2], wmsg[3]
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:
            raise c.id_error("PUBLISH", "Request", request_id)
        if type(options) is not dict or options:
            c.check_dict(options, "PUBLISH", "Options", PUBLISH_OPTIONS)
        if strict_uris or type(topic) is not str or topic not in KNOWN_URIS:
            c.check_uri(topic, "PUBLISH", "Topic", strict_uris)
        if n == 4:
            args = kwargs = payload = None
        elif n == 5 and type(wmsg[4]) is list:  # the common case: Arguments only
            args = wmsg[4]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 4, "PUBLISH", options)
        return Publish(request_id, topic, args, kwargs, options, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [16, self.request_id, self.options, self.topic, self.args]
            return [16, self.request_id, self.options, self.topic]
        return with_payload(
            [16, self.request_id, self.options, self.topic], self.args, self.kwargs, self.payload
        )


class Published(Message):
    """``[PUBLISHED, PUBLISH.Request|id, Publication|id]``: an acknowledged publish."""

    FIELDS = ("request_id", "publication_id")
    __slots__ = FIELDS
    CODE = 17
    NAME = "PUBLISHED"

    def __init__(self, request_id: int, publication_id: int):
        self.request_id = request_id
        self.publication_id = publication_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Published:
        if len(wmsg) != 3:
            raise c.arity_error("PUBLISHED", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "PUBLISHED", "Request")
        publication_id = c.check_id(wmsg[2], "PUBLISHED", "Publication")
        return Published(request_id, publication_id)

    def to_list(self) -> list[Any]:
        return [17, self.request_id, self.publication_id]


class Subscribe(Message):
    """``[SUBSCRIBE, Request|id, Options|dict, Topic|uri]``."""

    FIELDS = ("request_id", "topic", "options")
    __slots__ = FIELDS
    CODE = 32
    NAME = "SUBSCRIBE"

    def __init__(self, request_id: int, topic: str, options: dict[str, Any] | None = None):
        self.request_id = request_id
        self.topic = topic
        self.options = {} if options is None else options

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Subscribe:
        if len(wmsg) != 4:
            raise c.arity_error("SUBSCRIBE", len(wmsg), 4, 4)
        request_id = c.check_id(wmsg[1], "SUBSCRIBE", "Request")
        options = c.check_dict(wmsg[2], "SUBSCRIBE", "Options", SUBSCRIBE_OPTIONS)
        match = options.get("match")
        topic = c.check_pattern_uri(wmsg[3], match, "SUBSCRIBE", "Topic", strict_uris)
        return Subscribe(request_id, topic, options)

    def to_list(self) -> list[Any]:
        return [32, self.request_id, self.options, self.topic]


class Subscribed(Message):
    """``[SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]``."""

    FIELDS = ("request_id", "subscription_id")
    __slots__ = FIELDS
    CODE = 33
    NAME = "SUBSCRIBED"

    def __init__(self, request_id: int, subscription_id: int):
        self.request_id = request_id
        self.subscription_id = subscription_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Subscribed:
        if len(wmsg) != 3:
            raise c.arity_error("SUBSCRIBED", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "SUBSCRIBED", "Request")
        subscription_id = c.check_id(wmsg[2], "SUBSCRIBED", "Subscription")
        return Subscribed(request_id, subscription_id)

    def to_list(self) -> list[Any]:
        return [33, self.request_id, self.subscription_id]


class Unsubscribe(Message):
    """``[UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]``."""

    FIELDS = ("request_id", "subscription_id")
    __slots__ = FIELDS
    CODE = 34
    NAME = "UNSUBSCRIBE"

    def __init__(self, request_id: int, subscription_id: int):
        self.request_id = request_id
        self.subscription_id = subscription_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Unsubscribe:
        if len(wmsg) != 3:
            raise c.arity_error("UNSUBSCRIBE", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "UNSUBSCRIBE", "Request")
        subscription_id = c.check_id(wmsg[2], "UNSUBSCRIBE", "Subscription")
        return Unsubscribe(request_id, subscription_id)

    def to_list(self) -> list[Any]:
        return [34, self.request_id, self.subscription_id]


class Unsubscribed(Message):
    """``[UNSUBSCRIBED, UNSUBSCRIBE.Request|id]``, or a revocation ``[UNSUBSCRIBED, 0, Details]``.

    A revocation (request 0) says which subscription the router ended in
    ``details["subscription"]`` and why in ``details["reason"]``.
    """

    FIELDS = ("request_id", "details")
    __slots__ = FIELDS
    CODE = 35
    NAME = "UNSUBSCRIBED"

    def __init__(self, request_id: int, details: dict[str, Any] | None = None):
        self.request_id = request_id
        self.details = details

    @property
    def revoked(self) -> bool:
        return self.request_id == 0

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Unsubscribed:
        n = len(wmsg)
        if n < 2 or n > 3:
            raise c.arity_error("UNSUBSCRIBED", n, 2, 3)
        if n == 3:
            details = c.check_dict(wmsg[2], "UNSUBSCRIBED", "Details", REVOCATION_DETAILS)
            if type(wmsg[1]) is int and wmsg[1] == 0:
                if "subscription" not in details:
                    raise c.fail("UNSUBSCRIBED", "Details.subscription", "required in a revocation")
                return Unsubscribed(0, details)
        else:
            details = None
        request_id = c.check_id(wmsg[1], "UNSUBSCRIBED", "Request")
        return Unsubscribed(request_id, details)

    def to_list(self) -> list[Any]:
        if self.details is None:
            return [35, self.request_id]
        return [35, self.request_id, self.details]


class Event(Message):
    """``[EVENT, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    FIELDS = (
        "subscription_id",
        "publication_id",
        "args",
        "kwargs",
        "details",
        "payload",
    )
    __slots__ = FIELDS
    CODE = 36
    NAME = "EVENT"

    def __init__(
        self,
        subscription_id: int,
        publication_id: int,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.subscription_id = subscription_id
        self.publication_id = publication_id
        self.args = args
        self.kwargs = kwargs
        self.details = {} if details is None else details
        self.payload = payload

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Event:
        n = len(wmsg)
        if n < 4 or n > 6:
            raise c.arity_error("EVENT", n, 4, 6)
        subscription_id, publication_id, details = wmsg[1], wmsg[2], wmsg[3]
        if type(subscription_id) is not int or not 0 < subscription_id <= MAX_ID:
            raise c.id_error("EVENT", "Subscription", subscription_id)
        if type(publication_id) is not int or not 0 < publication_id <= MAX_ID:
            raise c.id_error("EVENT", "Publication", publication_id)
        if type(details) is not dict or details:
            c.check_dict(details, "EVENT", "Details", EVENT_DETAILS)
        if n == 4:
            args = kwargs = payload = None
        elif n == 5 and type(wmsg[4]) is list:  # the common case: Arguments only
            args = wmsg[4]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 4, "EVENT", details)
        return Event(subscription_id, publication_id, args, kwargs, details, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [36, self.subscription_id, self.publication_id, self.details, self.args]
            return [36, self.subscription_id, self.publication_id, self.details]
        return with_payload(
            [36, self.subscription_id, self.publication_id, self.details],
            self.args,
            self.kwargs,
            self.payload,
        )


class EventReceived(Message):
    """``[EVENT_RECEIVED, EVENT.Publication|id]``: Autobahn's delivery acknowledgement (337)."""

    FIELDS = ("publication_id",)
    __slots__ = FIELDS
    CODE = 337
    NAME = "EVENT_RECEIVED"

    def __init__(self, publication_id: int):
        self.publication_id = publication_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> EventReceived:
        if len(wmsg) != 2:
            raise c.arity_error("EVENT_RECEIVED", len(wmsg), 2, 2)
        publication_id = c.check_id(wmsg[1], "EVENT_RECEIVED", "Publication")
        return EventReceived(publication_id)

    def to_list(self) -> list[Any]:
        return [337, self.publication_id]

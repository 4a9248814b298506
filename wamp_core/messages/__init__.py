"""One class per WAMP message, with strict parsing from and exact building of wire lists.

``parse(wmsg)`` turns a decoded list into a message object or raises
:class:`~wamp_core.exception.ProtocolError` naming the message, the field and the
rule broken; nothing else escapes, whatever the input. Field names follow the
spec (``request_id``, ``options``, ``details``, ``procedure``, ``topic``, ``args``,
``kwargs``, ``registration_id``, ``subscription_id``, ``publication_id``, ...).
Unknown option keys are kept; known ones are type-checked.
"""

from __future__ import annotations

from typing import Any

from wamp_core.exception import ProtocolError
from wamp_core.messages._base import Message
from wamp_core.messages._pubsub import (
    Event,
    EventReceived,
    Publish,
    Published,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from wamp_core.messages._rpc import (
    Call,
    Cancel,
    Error,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Result,
    Unregister,
    Unregistered,
    Yield,
)
from wamp_core.messages._session import Abort, Authenticate, Challenge, Goodbye, Hello, Welcome
from wamp_core.vocabulary import MAX_ID

__all__ = [
    "MAX_ID",
    "MESSAGE_CLASSES",
    "Abort",
    "Authenticate",
    "Call",
    "Cancel",
    "Challenge",
    "Error",
    "Event",
    "EventReceived",
    "Goodbye",
    "Hello",
    "Interrupt",
    "Invocation",
    "Message",
    "Publish",
    "Published",
    "Register",
    "Registered",
    "Result",
    "Subscribe",
    "Subscribed",
    "Unregister",
    "Unregistered",
    "Unsubscribe",
    "Unsubscribed",
    "Welcome",
    "Yield",
    "parse",
]

MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.CODE: cls
    for cls in (
        Hello,
        Welcome,
        Abort,
        Challenge,
        Authenticate,
        Goodbye,
        Error,
        Publish,
        Published,
        Subscribe,
        Subscribed,
        Unsubscribe,
        Unsubscribed,
        Event,
        EventReceived,
        Call,
        Cancel,
        Result,
        Register,
        Registered,
        Unregister,
        Unregistered,
        Invocation,
        Interrupt,
        Yield,
    )
}
_get_parser = {code: cls.from_list for code, cls in MESSAGE_CLASSES.items()}.get


def parse(wmsg: Any, strict_uris: bool = False) -> Message:
    """Check a decoded message list and build its message object.

    ``strict_uris`` applies the strict URI rule (``[0-9a-z_]`` components)
    instead of the loose one.
    """
    if type(wmsg) is not list or not wmsg:
        raise ProtocolError(f"a message must be a non-empty list, got {type(wmsg).__name__}")
    code = wmsg[0]
    from_list = None
    if type(code) is int:
        # What a client receives most, dispatched directly (a native call when compiled);
        # Event.CODE, Result.CODE, Invocation.CODE as literals (see Message).
        if code == 36:
            return Event.from_list(wmsg, strict_uris)
        if code == 50:
            return Result.from_list(wmsg, strict_uris)
        if code == 68:
            return Invocation.from_list(wmsg, strict_uris)
        from_list = _get_parser(code)
    if from_list is None:
        raise ProtocolError(f"unknown message type {code!r:.40}")
    return from_list(wmsg, strict_uris)

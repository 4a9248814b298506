"""Session messages: HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE."""

from __future__ import annotations

from typing import Any

from wamp_core.messages import _check as c
from wamp_core.messages._base import Message, with_payload

CLIENT_ROLES = frozenset({"publisher", "subscriber", "caller", "callee"})
ROUTER_ROLES = frozenset({"broker", "dealer"})

HELLO_DETAILS: c.Schema = {
    "agent": c.STR,
    "authmethods": c.STRS,
    "authid": c.STR,
    "authrole": c.STR,
    "authextra": c.DICT,
    "resumable": c.BOOL,
}
WELCOME_DETAILS: c.Schema = {
    "agent": c.STR,
    "authid": c.STR,
    "authrole": c.STR,
    "authmethod": c.STR,
    "authprovider": c.STR,
    "authextra": c.DICT,
    "realm": c.URI,
    "resumed": c.BOOL,
    "resumable": c.BOOL,
    "resume_token": c.STR,
}
CLOSE_DETAILS: c.Schema = {"message": c.STR, "resumable": c.BOOL}
EXTRA: c.Schema = {}


def _roles(details: dict[str, Any], known: frozenset[str], message: str) -> None:
    """``roles`` must name at least one role of this side, each with a dict of its own."""
    roles = details.get("roles")
    if (
        type(roles) is not dict
        or not known.intersection(roles)
        or not all(type(role) is dict for role in roles.values())
    ):
        names = ", ".join(sorted(known))
        raise c.fail(message, "Details.roles", f"must be a dict naming one of {names}", roles)


class Hello(Message):
    """``[HELLO, Realm|uri, Details|dict]``: the client's opening message."""

    FIELDS = ("realm", "details")
    __slots__ = FIELDS
    CODE = 1
    NAME = "HELLO"

    def __init__(self, realm: str, details: dict[str, Any]):
        self.realm = realm
        self.details = details

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Hello:
        if len(wmsg) != 3:
            raise c.arity_error("HELLO", len(wmsg), 3, 3)
        realm = c.check_uri(wmsg[1], "HELLO", "Realm", strict_uris)
        details = c.check_dict(wmsg[2], "HELLO", "Details", HELLO_DETAILS)
        _roles(details, CLIENT_ROLES, "HELLO")
        return Hello(realm, details)

    def to_list(self) -> list[Any]:
        return [1, self.realm, self.details]


class Welcome(Message):
    """``[WELCOME, Session|id, Details|dict]``: the router accepted the session."""

    FIELDS = ("session_id", "details")
    __slots__ = FIELDS
    CODE = 2
    NAME = "WELCOME"

    def __init__(self, session_id: int, details: dict[str, Any]):
        self.session_id = session_id
        self.details = details

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Welcome:
        if len(wmsg) != 3:
            raise c.arity_error("WELCOME", len(wmsg), 3, 3)
        session_id = c.check_id(wmsg[1], "WELCOME", "Session")
        details = c.check_dict(wmsg[2], "WELCOME", "Details", WELCOME_DETAILS)
        _roles(details, ROUTER_ROLES, "WELCOME")
        return Welcome(session_id, details)

    def to_list(self) -> list[Any]:
        return [2, self.session_id, self.details]


class Abort(Message):
    """``[ABORT, Details|dict, Reason|uri, Arguments?, ArgumentsKw?]``: the session ends now."""

    FIELDS = ("reason", "details", "args", "kwargs")
    __slots__ = FIELDS
    CODE = 3
    NAME = "ABORT"

    def __init__(
        self,
        reason: str,
        details: dict[str, Any] | None = None,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
    ):
        self.reason = reason
        self.details = {} if details is None else details
        self.args = args
        self.kwargs = kwargs

    @property
    def message(self) -> str | None:
        return self.details.get("message")

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Abort:
        n = len(wmsg)
        if n < 3 or n > 5:
            raise c.arity_error("ABORT", n, 3, 5)
        details = c.check_dict(wmsg[1], "ABORT", "Details", CLOSE_DETAILS)
        reason = c.check_uri(wmsg[2], "ABORT", "Reason", strict_uris)
        args = c.check_args(wmsg[3], "ABORT") if n > 3 else None
        kwargs = c.check_kwargs(wmsg[4], "ABORT") if n > 4 else None
        return Abort(reason, details, args, kwargs)

    def to_list(self) -> list[Any]:
        return with_payload([3, self.details, self.reason], self.args, self.kwargs, None)


class Challenge(Message):
    """``[CHALLENGE, AuthMethod|string, Extra|dict]``: the router asks for proof."""

    FIELDS = ("method", "extra")
    __slots__ = FIELDS
    CODE = 4
    NAME = "CHALLENGE"

    def __init__(self, method: str, extra: dict[str, Any] | None = None):
        self.method = method
        self.extra = {} if extra is None else extra

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Challenge:
        if len(wmsg) != 3:
            raise c.arity_error("CHALLENGE", len(wmsg), 3, 3)
        method = c.check_str(wmsg[1], "CHALLENGE", "AuthMethod")
        extra = c.check_dict(wmsg[2], "CHALLENGE", "Extra", EXTRA)
        return Challenge(method, extra)

    def to_list(self) -> list[Any]:
        return [4, self.method, self.extra]


class Authenticate(Message):
    """``[AUTHENTICATE, Signature|string, Extra|dict]``: the client's answer to CHALLENGE."""

    FIELDS = ("signature", "extra")
    __slots__ = FIELDS
    CODE = 5
    NAME = "AUTHENTICATE"

    def __init__(self, signature: str, extra: dict[str, Any] | None = None):
        self.signature = signature
        self.extra = {} if extra is None else extra

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Authenticate:
        if len(wmsg) != 3:
            raise c.arity_error("AUTHENTICATE", len(wmsg), 3, 3)
        signature = c.check_str(wmsg[1], "AUTHENTICATE", "Signature")
        extra = c.check_dict(wmsg[2], "AUTHENTICATE", "Extra", EXTRA)
        return Authenticate(signature, extra)

    def to_list(self) -> list[Any]:
        return [5, self.signature, self.extra]


class Goodbye(Message):
    """``[GOODBYE, Details|dict, Reason|uri]``: one side closes the session."""

    FIELDS = ("reason", "details")
    __slots__ = FIELDS
    CODE = 6
    NAME = "GOODBYE"

    def __init__(self, reason: str, details: dict[str, Any] | None = None):
        self.reason = reason
        self.details = {} if details is None else details

    @property
    def message(self) -> str | None:
        return self.details.get("message")

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Goodbye:
        if len(wmsg) != 3:
            raise c.arity_error("GOODBYE", len(wmsg), 3, 3)
        details = c.check_dict(wmsg[1], "GOODBYE", "Details", CLOSE_DETAILS)
        reason = c.check_uri(wmsg[2], "GOODBYE", "Reason", strict_uris)
        return Goodbye(reason, details)

    def to_list(self) -> list[Any]:
        return [6, self.details, self.reason]

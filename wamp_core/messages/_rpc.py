"""Remote procedure call messages: CALL ... YIELD, CANCEL, INTERRUPT, and ERROR."""

from __future__ import annotations

from typing import Any

from wamp_core.messages import _check as c
from wamp_core.messages._base import Message, with_payload
from wamp_core.messages._check import KNOWN_URIS
from wamp_core.vocabulary import CANCEL_MODES, INVOKE_POLICIES, MAX_ID

CALL_OPTIONS: c.Schema = {
    **c.PASSTHRU,
    "timeout": c.COUNT,
    "receive_progress": c.BOOL,
    "progress": c.BOOL,
    "disclose_me": c.BOOL,
    "runmode": c.STR,
    "rkey": c.STR,
}
CANCEL_OPTIONS: c.Schema = {"mode": c.one_of(*CANCEL_MODES)}
INTERRUPT_OPTIONS: c.Schema = {**CANCEL_OPTIONS, "reason": c.STR}
RESULT_DETAILS: c.Schema = {**c.PASSTHRU, "progress": c.BOOL}
YIELD_OPTIONS: c.Schema = RESULT_DETAILS
ERROR_DETAILS: c.Schema = c.PASSTHRU
REGISTER_OPTIONS: c.Schema = {
    "match": c.MATCH,
    "invoke": c.one_of(*INVOKE_POLICIES),
    "disclose_caller": c.BOOL,
    "concurrency": c.POSITIVE,
    "force_reregister": c.BOOL,
    "forward_timeout": c.BOOL,
    "forward_for": c.FORWARD_FOR,
}
INVOCATION_DETAILS: c.Schema = {
    **c.PASSTHRU,
    "caller": c.ID,
    "caller_authid": c.STR,
    "caller_authrole": c.STR,
    "procedure": c.URI,
    "receive_progress": c.BOOL,
    "progress": c.BOOL,
    "timeout": c.COUNT,
    "trustlevel": c.COUNT,
}
REVOCATION_DETAILS: c.Schema = {"registration": c.ID, "reason": c.STR}

# The requests an ERROR may answer: the Basic Profile's six plus INVOCATION (callee side).
ERROR_REQUEST_TYPES = frozenset({16, 32, 34, 48, 64, 66, 68})


class Call(Message):
    """``[CALL, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?]``."""

    FIELDS = ("request_id", "procedure", "args", "kwargs", "options", "payload")
    __slots__ = FIELDS
    CODE = 48
    NAME = "CALL"

    def __init__(
        self,
        request_id: int,
        procedure: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_id = request_id
        self.procedure = procedure
        self.args = args
        self.kwargs = kwargs
        self.options = {} if options is None else options
        self.payload = payload

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Call:
        n = len(wmsg)
        if n < 4 or n > 6:
            raise c.arity_error("CALL", n, 4, 6)
        request_id, options, procedure = wmsg[1], wmsg[2], wmsg[3]
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:
            raise c.id_error("CALL", "Request", request_id)
        if type(options) is not dict or options:
            c.check_dict(options, "CALL", "Options", CALL_OPTIONS)
        if strict_uris or type(procedure) is not str or procedure not in KNOWN_URIS:
            c.check_uri(procedure, "CALL", "Procedure", strict_uris)
        if n == 4:
            args = kwargs = payload = None
        elif n == 5 and type(wmsg[4]) is list:  # the common case: Arguments only
            args = wmsg[4]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 4, "CALL", options)
        return Call(request_id, procedure, args, kwargs, options, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [48, self.request_id, self.options, self.procedure, self.args]
            return [48, self.request_id, self.options, self.procedure]
        return with_payload(
            [48, self.request_id, self.options, self.procedure],
            self.args,
            self.kwargs,
            self.payload,
        )


class Cancel(Message):
    """``[CANCEL, CALL.Request|id, Options|dict]``: stop a pending call."""

    FIELDS = ("request_id", "options")
    __slots__ = FIELDS
    CODE = 49
    NAME = "CANCEL"

    def __init__(self, request_id: int, options: dict[str, Any] | None = None):
        self.request_id = request_id
        self.options = {} if options is None else options

    @property
    def mode(self) -> str | None:
        return self.options.get("mode")

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Cancel:
        if len(wmsg) != 3:
            raise c.arity_error("CANCEL", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "CANCEL", "Request")
        options = c.check_dict(wmsg[2], "CANCEL", "Options", CANCEL_OPTIONS)
        return Cancel(request_id, options)

    def to_list(self) -> list[Any]:
        return [49, self.request_id, self.options]


class Result(Message):
    """``[RESULT, CALL.Request|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    FIELDS = ("request_id", "args", "kwargs", "details", "payload")
    __slots__ = FIELDS
    CODE = 50
    NAME = "RESULT"

    def __init__(
        self,
        request_id: int,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_id = request_id
        self.args = args
        self.kwargs = kwargs
        self.details = {} if details is None else details
        self.payload = payload

    @property
    def progress(self) -> bool:
        return self.details.get("progress") is True

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Result:
        n = len(wmsg)
        if n < 3 or n > 5:
            raise c.arity_error("RESULT", n, 3, 5)
        request_id, details = wmsg[1], wmsg[2]
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:
            raise c.id_error("RESULT", "Request", request_id)
        if type(details) is not dict or details:
            c.check_dict(details, "RESULT", "Details", RESULT_DETAILS)
        if n == 3:
            args = kwargs = payload = None
        elif n == 4 and type(wmsg[3]) is list:  # the common case: Arguments only
            args = wmsg[3]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 3, "RESULT", details)
        return Result(request_id, args, kwargs, details, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [50, self.request_id, self.details, self.args]
            return [50, self.request_id, self.details]
        return with_payload(
            [50, self.request_id, self.details], self.args, self.kwargs, self.payload
        )


class Register(Message):
    """``[REGISTER, Request|id, Options|dict, Procedure|uri]``."""

    FIELDS = ("request_id", "procedure", "options")
    __slots__ = FIELDS
    CODE = 64
    NAME = "REGISTER"

    def __init__(self, request_id: int, procedure: str, options: dict[str, Any] | None = None):
        self.request_id = request_id
        self.procedure = procedure
        self.options = {} if options is None else options

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Register:
        if len(wmsg) != 4:
            raise c.arity_error("REGISTER", len(wmsg), 4, 4)
        request_id = c.check_id(wmsg[1], "REGISTER", "Request")
        options = c.check_dict(wmsg[2], "REGISTER", "Options", REGISTER_OPTIONS)
        match = options.get("match")
        procedure = c.check_pattern_uri(wmsg[3], match, "REGISTER", "Procedure", strict_uris)
        return Register(request_id, procedure, options)

    def to_list(self) -> list[Any]:
        return [64, self.request_id, self.options, self.procedure]


class Registered(Message):
    """``[REGISTERED, REGISTER.Request|id, Registration|id]``."""

    FIELDS = ("request_id", "registration_id")
    __slots__ = FIELDS
    CODE = 65
    NAME = "REGISTERED"

    def __init__(self, request_id: int, registration_id: int):
        self.request_id = request_id
        self.registration_id = registration_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Registered:
        if len(wmsg) != 3:
            raise c.arity_error("REGISTERED", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "REGISTERED", "Request")
        registration_id = c.check_id(wmsg[2], "REGISTERED", "Registration")
        return Registered(request_id, registration_id)

    def to_list(self) -> list[Any]:
        return [65, self.request_id, self.registration_id]


class Unregister(Message):
    """``[UNREGISTER, Request|id, REGISTERED.Registration|id]``."""

    FIELDS = ("request_id", "registration_id")
    __slots__ = FIELDS
    CODE = 66
    NAME = "UNREGISTER"

    def __init__(self, request_id: int, registration_id: int):
        self.request_id = request_id
        self.registration_id = registration_id

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Unregister:
        if len(wmsg) != 3:
            raise c.arity_error("UNREGISTER", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "UNREGISTER", "Request")
        registration_id = c.check_id(wmsg[2], "UNREGISTER", "Registration")
        return Unregister(request_id, registration_id)

    def to_list(self) -> list[Any]:
        return [66, self.request_id, self.registration_id]


class Unregistered(Message):
    """``[UNREGISTERED, UNREGISTER.Request|id]``, or a revocation ``[UNREGISTERED, 0, Details]``."""

    FIELDS = ("request_id", "details")
    __slots__ = FIELDS
    CODE = 67
    NAME = "UNREGISTERED"

    def __init__(self, request_id: int, details: dict[str, Any] | None = None):
        self.request_id = request_id
        self.details = details

    @property
    def revoked(self) -> bool:
        return self.request_id == 0

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Unregistered:
        n = len(wmsg)
        if n < 2 or n > 3:
            raise c.arity_error("UNREGISTERED", n, 2, 3)
        if n == 3:
            details = c.check_dict(wmsg[2], "UNREGISTERED", "Details", REVOCATION_DETAILS)
            if type(wmsg[1]) is int and wmsg[1] == 0:
                if "registration" not in details:
                    raise c.fail("UNREGISTERED", "Details.registration", "required in a revocation")
                return Unregistered(0, details)
        else:
            details = None
        request_id = c.check_id(wmsg[1], "UNREGISTERED", "Request")
        return Unregistered(request_id, details)

    def to_list(self) -> list[Any]:
        if self.details is None:
            return [67, self.request_id]
        return [67, self.request_id, self.details]


class Invocation(Message):
    """``[INVOCATION, Request|id, Registration|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    FIELDS = ("request_id", "registration_id", "args", "kwargs", "details", "payload")
    __slots__ = FIELDS
    CODE = 68
    NAME = "INVOCATION"

    def __init__(
        self,
        request_id: int,
        registration_id: int,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_id = request_id
        self.registration_id = registration_id
        self.args = args
        self.kwargs = kwargs
        self.details = {} if details is None else details
        self.payload = payload

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Invocation:
        n = len(wmsg)
        if n < 4 or n > 6:
            raise c.arity_error("INVOCATION", n, 4, 6)
        request_id, registration_id, details = wmsg[1], wmsg[2], wmsg[3]
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:
            raise c.id_error("INVOCATION", "Request", request_id)
        if type(registration_id) is not int or not 0 < registration_id <= MAX_ID:
            raise c.id_error("INVOCATION", "Registration", registration_id)
        if type(details) is not dict or details:
            c.check_dict(details, "INVOCATION", "Details", INVOCATION_DETAILS)
        if n == 4:
            args = kwargs = payload = None
        elif n == 5 and type(wmsg[4]) is list:  # the common case: Arguments only
            args = wmsg[4]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 4, "INVOCATION", details)
        return Invocation(request_id, registration_id, args, kwargs, details, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [68, self.request_id, self.registration_id, self.details, self.args]
            return [68, self.request_id, self.registration_id, self.details]
        return with_payload(
            [68, self.request_id, self.registration_id, self.details],
            self.args,
            self.kwargs,
            self.payload,
        )


class Interrupt(Message):
    """``[INTERRUPT, INVOCATION.Request|id, Options|dict]``: the caller canceled."""

    FIELDS = ("request_id", "options")
    __slots__ = FIELDS
    CODE = 69
    NAME = "INTERRUPT"

    def __init__(self, request_id: int, options: dict[str, Any] | None = None):
        self.request_id = request_id
        self.options = {} if options is None else options

    @property
    def mode(self) -> str | None:
        return self.options.get("mode")

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Interrupt:
        if len(wmsg) != 3:
            raise c.arity_error("INTERRUPT", len(wmsg), 3, 3)
        request_id = c.check_id(wmsg[1], "INTERRUPT", "Request")
        options = c.check_dict(wmsg[2], "INTERRUPT", "Options", INTERRUPT_OPTIONS)
        return Interrupt(request_id, options)

    def to_list(self) -> list[Any]:
        return [69, self.request_id, self.options]


class Yield(Message):
    """``[YIELD, INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?]``."""

    FIELDS = ("request_id", "args", "kwargs", "options", "payload")
    __slots__ = FIELDS
    CODE = 70
    NAME = "YIELD"

    def __init__(
        self,
        request_id: int,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_id = request_id
        self.args = args
        self.kwargs = kwargs
        self.options = {} if options is None else options
        self.payload = payload

    @property
    def progress(self) -> bool:
        return self.options.get("progress") is True

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Yield:
        n = len(wmsg)
        if n < 3 or n > 5:
            raise c.arity_error("YIELD", n, 3, 5)
        request_id, options = wmsg[1], wmsg[2]
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:
            raise c.id_error("YIELD", "Request", request_id)
        if type(options) is not dict or options:
            c.check_dict(options, "YIELD", "Options", YIELD_OPTIONS)
        if n == 3:
            args = kwargs = payload = None
        elif n == 4 and type(wmsg[3]) is list:  # the common case: Arguments only
            args = wmsg[3]
            kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 3, "YIELD", options)
        return Yield(request_id, args, kwargs, options, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [70, self.request_id, self.options, self.args]
            return [70, self.request_id, self.options]
        return with_payload(
            [70, self.request_id, self.options], self.args, self.kwargs, self.payload
        )


class Error(Message):
    """``[ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, A?, K?]``."""

    FIELDS = (
        "request_type",
        "request_id",
        "error",
        "args",
        "kwargs",
        "details",
        "payload",
    )
    __slots__ = FIELDS
    CODE = 8
    NAME = "ERROR"

    def __init__(
        self,
        request_type: int,
        request_id: int,
        error: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        payload: bytes | str | None = None,
    ):
        self.request_type = request_type
        self.request_id = request_id
        self.error = error
        self.args = args
        self.kwargs = kwargs
        self.details = {} if details is None else details
        self.payload = payload

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Error:
        n = len(wmsg)
        if n < 5 or n > 7:
            raise c.arity_error("ERROR", n, 5, 7)
        request_type = wmsg[1]
        if type(request_type) is not int or request_type not in ERROR_REQUEST_TYPES:
            rule = "must be the type of a request (16, 32, 34, 48, 64, 66 or 68)"
            raise c.fail("ERROR", "REQUEST.Type", rule, request_type)
        request_id = c.check_id(wmsg[2], "ERROR", "REQUEST.Request")
        details = c.check_dict(wmsg[3], "ERROR", "Details", ERROR_DETAILS)
        error = c.check_uri(wmsg[4], "ERROR", "Error", strict_uris)
        if n == 5:
            args = kwargs = payload = None
        else:
            args, kwargs, payload = c.payload(wmsg, n, 5, "ERROR", details)
        return Error(request_type, request_id, error, args, kwargs, details, payload)

    def to_list(self) -> list[Any]:
        if self.payload is None and not self.kwargs:  # the common case, without a call
            if self.args:
                return [8, self.request_type, self.request_id, self.details, self.error, self.args]
            return [8, self.request_type, self.request_id, self.details, self.error]
        return with_payload(
            [8, self.request_type, self.request_id, self.details, self.error],
            self.args,
            self.kwargs,
            self.payload,
        )

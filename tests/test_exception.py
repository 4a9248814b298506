"""The error types: Autobahn's names and attributes."""

from __future__ import annotations

from wamp_core.exception import (
    ApplicationError,
    Error,
    InvalidUriError,
    ProtocolError,
    SerializationError,
    TypeCheckError,
)


def test_hierarchy() -> None:
    assert issubclass(SerializationError, ProtocolError)
    assert issubclass(ProtocolError, Error)
    assert issubclass(Error, RuntimeError)
    assert issubclass(InvalidUriError, ValueError)


def test_application_error_carries_payload_and_routing_details() -> None:
    err = ApplicationError("com.example.oops", 1, "two", code=3, callee=77, enc_algo="xbr")
    assert err.error == "com.example.oops"
    assert err.args == (1, "two")
    assert err.kwargs == {"code": 3}
    assert err.callee == 77 and err.enc_algo == "xbr"
    assert err.callee_authid is None and err.forward_for is None
    assert err.error_message() == "com.example.oops: 1 two"
    assert (
        str(err)
        == "ApplicationError(error=<com.example.oops>, args=[1, 'two'], kwargs={'code': 3})"
    )
    assert repr(err) == str(err)
    assert ApplicationError.CANCELED == "wamp.error.canceled"


def test_type_check_error() -> None:
    err = TypeCheckError("bad type")
    assert err.error == ApplicationError.TYPE_CHECK_ERROR
    assert err.args == ("bad type",)


def test_protocol_error_fields() -> None:
    err = ProtocolError("text", message_type="CALL", field="Options")
    assert (str(err), err.message_type, err.field) == ("text", "CALL", "Options")
    assert ProtocolError("x").field is None

"""The errors users see, with Autobahn's names (``autobahn.wamp.exception``).

Which side broke the rules decides the type:

* the peer sent something malformed or out of order: :class:`ProtocolError`
  (undecodable bytes: its subclass :class:`SerializationError`);
* the application misused the API: :class:`SessionNotReady`, :class:`InvalidUriError`
  or a plain :class:`ValueError`/:class:`TypeError` raised before anything is sent;
* the transport went away: :class:`TransportLost`;
* the remote application or the router answered with an ERROR: :class:`ApplicationError`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApplicationError",
    "AuthenticationError",
    "Error",
    "FeatureNotSupported",
    "InvalidPayload",
    "InvalidUri",
    "InvalidUriError",
    "NotAuthorized",
    "ProtocolError",
    "SerializationError",
    "SessionNotReady",
    "TransportLost",
    "TypeCheckError",
]


class Error(RuntimeError):
    """Base of every WAMP error raised by this library."""


class SessionNotReady(Error):
    """The session is not joined (yet, or any more): the request was not sent."""


class ProtocolError(Error):
    """The peer broke the WAMP protocol: a malformed, unknown or out-of-order message.

    ``message_type`` and ``field`` name where the rule was broken when that is known.
    """

    def __init__(self, text: str, *, message_type: str | None = None, field: str | None = None):
        super().__init__(text)
        self.message_type = message_type
        self.field = field


class SerializationError(ProtocolError):
    """Bytes that do not decode with the negotiated serializer, or a value it cannot encode."""


class InvalidUriError(Error, ValueError):
    """A URI the application passed breaks the WAMP URI rules (nothing was sent)."""


class TransportLost(Error):
    """The transport closed while the request was pending."""


class FeatureNotSupported(Error):
    """The router did not announce a feature the request needs (nothing was sent)."""


class AuthenticationError(Error):
    """A challenge could not be answered, or the router failed to prove itself."""


class ApplicationError(Error):
    """An ERROR from the peer, or one an application raises to send an ERROR.

    ``error`` is the error URI; positional and keyword arguments travel as the
    ERROR's Arguments and ArgumentsKw.
    """

    INVALID_URI = "wamp.error.invalid_uri"
    INVALID_PAYLOAD = "wamp.error.invalid_payload"
    PAYLOAD_SIZE_EXCEEDED = "wamp.error.payload_size_exceeded"
    NO_SUCH_PROCEDURE = "wamp.error.no_such_procedure"
    PROCEDURE_ALREADY_EXISTS = "wamp.error.procedure_already_exists"
    PROCEDURE_EXISTS_INVOCATION_POLICY_CONFLICT = (
        "wamp.error.procedure_exists_with_different_invocation_policy"
    )
    NO_SUCH_REGISTRATION = "wamp.error.no_such_registration"
    NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
    NO_SUCH_SESSION = "wamp.error.no_such_session"
    INVALID_ARGUMENT = "wamp.error.invalid_argument"
    SYSTEM_SHUTDOWN = "wamp.close.system_shutdown"
    CLOSE_REALM = "wamp.close.close_realm"
    GOODBYE_AND_OUT = "wamp.close.goodbye_and_out"
    NOT_AUTHORIZED = "wamp.error.not_authorized"
    AUTHORIZATION_FAILED = "wamp.error.authorization_failed"
    AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
    AUTHENTICATION_DENIED = "wamp.error.authentication_denied"
    NO_AUTH_METHOD = "wamp.error.no_auth_method"
    NO_MATCHING_AUTH_METHOD = "wamp.error.no_matching_auth_method"
    NO_SUCH_REALM = "wamp.error.no_such_realm"
    NO_SUCH_ROLE = "wamp.error.no_such_role"
    NO_SUCH_PRINCIPAL = "wamp.error.no_such_principal"
    CANCELED = "wamp.error.canceled"
    TIMEOUT = "wamp.error.timeout"
    NO_ELIGIBLE_CALLEE = "wamp.error.no_eligible_callee"
    NO_AVAILABLE_CALLEE = "wamp.error.no_available_callee"
    UNAVAILABLE = "wamp.error.unavailable"
    FEATURE_NOT_SUPPORTED = "wamp.error.feature_not_supported"
    OPTION_NOT_ALLOWED = "wamp.error.option_not_allowed"
    OPTION_DISALLOWED_DISCLOSE_ME = "wamp.error.option_disallowed.disclose_me"
    NETWORK_FAILURE = "wamp.error.network_failure"
    PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
    RUNTIME_ERROR = "wamp.error.runtime_error"
    ENC_NO_PAYLOAD_CODEC = "wamp.error.no_payload_codec"
    ENC_TRUSTED_URI_MISMATCH = "wamp.error.encryption.trusted_uri_mismatch"
    ENC_DECRYPT_ERROR = "wamp.error.encryption.decrypt_error"
    TYPE_CHECK_ERROR = "wamp.error.type_check_error"

    def __init__(self, error: str, *args: Any, **kwargs: Any):
        super().__init__(*args)
        self.error = error
        # Routing details travel beside the payload, not in it (as Autobahn does).
        self.enc_algo: str | None = kwargs.pop("enc_algo", None)
        self.callee: int | None = kwargs.pop("callee", None)
        self.callee_authid: str | None = kwargs.pop("callee_authid", None)
        self.callee_authrole: str | None = kwargs.pop("callee_authrole", None)
        self.forward_for: list[Any] | None = kwargs.pop("forward_for", None)
        self.kwargs: dict[str, Any] = kwargs

    def error_message(self) -> str:
        """The error URI followed by the positional arguments, as one line."""
        return "{}: {}".format(self.error, " ".join(str(a) for a in self.args))

    def __str__(self) -> str:
        return (
            f"ApplicationError(error=<{self.error}>, args={list(self.args)}, kwargs={self.kwargs})"
        )

    def __repr__(self) -> str:
        return self.__str__()


class TypeCheckError(ApplicationError):
    """A procedure or handler was given arguments of the wrong types."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(ApplicationError.TYPE_CHECK_ERROR, *args, **kwargs)


class NotAuthorized(Exception):
    """Not authorized to perform the action; maps to ``wamp.error.not_authorized``."""


class InvalidUri(Exception):
    """A URI is not a valid WAMP URI; maps to ``wamp.error.invalid_uri``."""


class InvalidPayload(Exception):
    """The payload cannot be processed; maps to ``wamp.error.invalid_payload``."""

"""Exceptions <-> WAMP error URIs, as Autobahn's ``define`` and ``@wamp.error`` do it.

An application raises an exception in a procedure: it becomes ERROR with a URI,
args and kwargs. A caller receives an ERROR: it becomes the exception class
defined for that URI (or an ApplicationError), raised where it awaited the call.
"""

from __future__ import annotations

from typing import Any

from wamp_core.decorators import wamp_uris
from wamp_core.exception import ApplicationError, InvalidPayload, InvalidUri, NotAuthorized
from wamp_core.uri import validate_uri

__all__ = ["ErrorMapper"]

RUNTIME_ERROR = "wamp.error.runtime_error"


# Raised in an endpoint, these become their URIs; a caller still gets an
# ApplicationError for those URIs (routers send them too), as in Autobahn.
_DEFAULT_BY_CLASS: dict[type[BaseException], str] = {
    NotAuthorized: ApplicationError.NOT_AUTHORIZED,
    InvalidUri: ApplicationError.INVALID_URI,
    InvalidPayload: ApplicationError.INVALID_PAYLOAD,
}
_NO_URIS: dict[str, type[BaseException]] = {}


class ErrorMapper:
    """The exception classes of one session (or Application), by error URI.

    Every mapper starts on the shared defaults and copies them at its first
    ``define()``: most sessions define nothing (issue 15: an idle session's memory)."""

    def __init__(self) -> None:
        self._by_uri = _NO_URIS  # shared until define(): never changed in place
        self._by_class = _DEFAULT_BY_CLASS

    def define(self, exception: type[BaseException], error: str | None = None) -> None:
        """Map ``exception`` to ``error`` (or to the URI its ``@wamp.error`` gave it)."""
        if not (isinstance(exception, type) and issubclass(exception, BaseException)):
            raise TypeError(f"define() takes an exception class, not {exception!r}")
        if error is None:
            uris = [u.uri for u in wamp_uris(exception) if u.target == "error" and u.uri]
            if not uris:
                raise ValueError(f"{exception.__name__} has no @wamp.error URI; pass error=")
            error = uris[0]
        validate_uri(error, what="error")
        if self._by_class is _DEFAULT_BY_CLASS:
            self._by_uri = {}
            self._by_class = dict(_DEFAULT_BY_CLASS)
        self._by_uri[error] = exception
        self._by_class[exception] = error

    def uri_of(self, exception: BaseException) -> str | None:
        for cls in type(exception).__mro__:
            uri = self._by_class.get(cls)
            if uri is not None:
                return uri
        return None

    def to_wire(self, exception: BaseException) -> tuple[str, list[Any], dict[str, Any]]:
        """The ERROR (URI, args, kwargs) an exception raised by an endpoint becomes."""
        if isinstance(exception, ApplicationError):
            return exception.error, list(exception.args), dict(exception.kwargs)
        uri = self.uri_of(exception)
        if uri is not None:
            return uri, list(exception.args), {}
        # Like Autobahn: an unmapped exception is a runtime error carrying its arguments.
        return RUNTIME_ERROR, list(exception.args), {}

    def from_wire(self, error: ApplicationError) -> BaseException:
        """The exception a caller sees for an ERROR: the defined class, if any."""
        cls = self._by_uri.get(error.error)
        if cls is None or isinstance(error, cls):
            return error
        try:
            return cls(*error.args, **error.kwargs)
        except TypeError:
            try:  # the class may not take the keyword arguments
                return cls(*error.args)
            except TypeError:
                return error

"""What both adapters share above the session (Sans-IO, no event loop): the façade's
bookkeeping (SessionCore), argument and result shaping, exception <-> error URI
mapping, the Application decorator model, and the reconnect backoff."""

from wamp_core.application.app import ApplicationModel, Decorated
from wamp_core.application.backoff import Backoff
from wamp_core.application.core import SessionCore
from wamp_core.application.errors import ErrorMapper
from wamp_core.application.host import Host, SessionEvent, SessionHost
from wamp_core.application.shaping import (
    Endpoint,
    Handler,
    call_result,
    event_call,
    invocation_call,
    run_direct,
    yield_payload,
)

__all__ = [
    "ApplicationModel",
    "Backoff",
    "Decorated",
    "Endpoint",
    "ErrorMapper",
    "Handler",
    "Host",
    "SessionCore",
    "SessionEvent",
    "SessionHost",
    "call_result",
    "event_call",
    "invocation_call",
    "run_direct",
    "yield_payload",
]

"""How wire payloads become Python calls and values, the way Autobahn users expect.

- A RESULT with one positional value and no keywords is that value; several, or
  keywords, make a CallResult; nothing at all is None.
- An endpoint's return value: a CallResult gives its results and kwresults; any
  other value (None too) is the one positional result.
- Endpoints and handlers get the wire's args and kwargs as Python arguments, plus
  the details under the keyword their ``details_arg`` names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wamp_core.messages import Event, Invocation, Result
from wamp_core.request import Registration, Subscription
from wamp_core.types import CallDetails, CallResult, EventDetails, RegisterOptions, SubscribeOptions

__all__ = [
    "Endpoint",
    "Handler",
    "call_result",
    "event_call",
    "invocation_call",
    "run_direct",
    "yield_payload",
]

# The keyword arguments of an event without any: shared, so never to be changed (the
# adapters only ever spread it into a call).
_NO_KWARGS: dict[str, Any] = {}


@dataclass(slots=True)
class Endpoint:
    """A registered procedure: the function and how to call it."""

    fn: Callable[..., Any]
    procedure: str
    options: RegisterOptions | None = None
    registration: Registration | None = None

    @property
    def details_arg(self) -> str | None:
        return self.options.details_arg if self.options is not None else None

    @property
    def concurrency(self) -> int | None:
        return self.options.concurrency if self.options is not None else None


@dataclass(slots=True)
class Handler:
    """An event handler on a subscription; several may share one router subscription."""

    fn: Callable[..., Any]
    topic: str
    options: SubscribeOptions | None = None
    subscription: Subscription | None = None
    buffer: int | None = None  # how many events may wait for it (None: the adapter's default)
    # Set by an adapter that lets the core call ``fn`` in place (it found a plain
    # function whose events need nothing of the adapter): the core then hands it only
    # what ``fn`` returned, when not None, or raised. Saves the adapter's own frame
    # per event.
    direct: Callable[[Handler, Any, Exception | None], None] | None = None

    @property
    def details_arg(self) -> str | None:
        return self.options.details_arg if self.options is not None else None


def run_direct(
    handler: Handler,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    outcome: Callable[[Handler, Any, Exception | None], None],
) -> None:
    """Call a plain event handler in place; ``outcome`` hears what it raised, or
    returned other than None."""
    try:
        value = handler.fn(*args, **kwargs)
    except Exception as exc:
        outcome(handler, None, exc)
        return
    if value is not None:
        outcome(handler, value, None)


def call_result(result: Result, details: bool = False) -> Any:
    """The value ``await session.call(...)`` gives for a RESULT; with ``details``
    (the call's ``CallOptions(details=True)``) always a CallResult."""
    args, kwargs = result.args, result.kwargs
    if result.payload is not None:
        args = [result.payload]
    if details or kwargs or (args and len(args) > 1):
        known = result.details
        return CallResult.with_details(
            args or (),
            kwargs,
            callee=known.get("callee"),
            callee_authid=known.get("callee_authid"),
            callee_authrole=known.get("callee_authrole"),
            enc_algo=known.get("enc_algo"),
            forward_for=known.get("forward_for"),
        )
    return args[0] if args else None


def yield_payload(value: Any) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """The YIELD args/kwargs for what an endpoint returned."""
    if isinstance(value, CallResult):
        return list(value.results) or None, dict(value.kwresults) or None
    return [value], None


def invocation_call(
    endpoint: Endpoint,
    invocation: Invocation,
    progress: Callable[..., Any] | None,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional and keyword arguments for calling ``endpoint``."""
    args = tuple(invocation.args or ())
    if invocation.payload is not None:
        args = (invocation.payload,)
    kwargs = dict(invocation.kwargs or {})
    name = endpoint.details_arg
    if name:
        details = invocation.details
        assert endpoint.registration is not None
        kwargs[name] = CallDetails(
            endpoint.registration,
            progress=progress,
            caller=details.get("caller"),
            caller_authid=details.get("caller_authid"),
            caller_authrole=details.get("caller_authrole"),
            procedure=details.get("procedure", endpoint.procedure),
            transaction_hash=details.get("transaction_hash"),
            enc_algo=details.get("enc_algo"),
            forward_for=details.get("forward_for"),
        )
    return args, kwargs


def event_call(handler: Handler, event: Event) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional and keyword arguments for calling an event ``handler``."""
    args = tuple(event.args or ())
    if event.payload is not None:
        args = (event.payload,)
    name = handler.details_arg
    if not name and not event.kwargs:
        return args, _NO_KWARGS  # the common case: read only (a call copies ** anyway)
    kwargs = dict(event.kwargs or {})
    if name:
        details = event.details
        assert handler.subscription is not None
        kwargs[name] = EventDetails(
            handler.subscription,
            event.publication_id,
            publisher=details.get("publisher"),
            publisher_authid=details.get("publisher_authid"),
            publisher_authrole=details.get("publisher_authrole"),
            topic=details.get("topic", handler.topic),
            retained=details.get("retained"),
            transaction_hash=details.get("transaction_hash"),
            enc_algo=details.get("enc_algo"),
            forward_for=details.get("forward_for"),
        )
    return args, kwargs

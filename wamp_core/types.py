"""The value types users touch, with Autobahn's names (``autobahn.wamp.types``).

Constructor parameter names, their positional order and attribute names follow
Autobahn, so ported code keeps working; parameters Autobahn lacks are keyword-only.

* Options (:class:`CallOptions`, :class:`RegisterOptions`, :class:`SubscribeOptions`,
  :class:`PublishOptions`) validate their arguments when built -- ``TypeError`` for a
  wrong type, ``ValueError`` for a bad value, naming the parameter -- and give the
  wire dict with :meth:`message_attr` (only the keys that were set). Lists given to
  them are stored as tuples, so a validated option cannot change afterwards.
* Details (:class:`SessionDetails`, :class:`CallDetails`, :class:`EventDetails`, ...)
  are built by the core from messages it already validated, so they do not check
  their arguments again (they sit on the per-event path).
* Handles (:class:`Subscription`, :class:`Registration`) are the one stateful kind:
  ``active`` turns false once they are released, and ``unsubscribe()`` /
  ``unregister()`` delegate to a callable the adapter injects.

Everything is immutable except :class:`ComponentConfig` (hosting runtimes fill in
``runner``/``controller``, as Autobahn allows) and the handles' ``active`` flag.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, fields
from typing import Any, ClassVar

from .request import Publication, Registration, Subscription
from .uri import MatchPolicy
from .vocabulary import INVOKE_POLICIES, MATCH_POLICIES, MAX_ID, PPT_CIPHERS, PPT_SERIALIZERS

__all__ = [
    "INVOKE_POLICIES",
    "CallDetails",
    "CallOptions",
    "CallResult",
    "Challenge",
    "CloseDetails",
    "ComponentConfig",
    "EventDetails",
    "Publication",
    "PublishOptions",
    "RegisterOptions",
    "Registration",
    "SessionDetails",
    "SubscribeOptions",
    "Subscription",
    "TransportDetails",
]

# --------------------------------------------------------------------------- checks
# Each check names the owner and the parameter, so a bad option points at itself.


def _type_error(owner: str, name: str, expected: str, value: object) -> TypeError:
    return TypeError(f"{owner}: {name} must be {expected}, not {type(value).__name__}")


def _check_bool(owner: str, name: str, value: object) -> None:
    # type() is not isinstance(): WAMP forbids sending 0/1 for a bool.
    if value is not None and type(value) is not bool:
        raise _type_error(owner, name, "a bool or None", value)


def _check_str(owner: str, name: str, value: object, *, nonempty: bool = False) -> None:
    if value is None:
        return
    if type(value) is not str:
        raise _type_error(owner, name, "a str or None", value)
    if nonempty and not value:
        raise ValueError(f"{owner}: {name} must not be empty")


def _check_choice(owner: str, name: str, value: object, choices: tuple[str, ...]) -> None:
    _check_str(owner, name, value)
    if value is not None and value not in choices:
        allowed = ", ".join(repr(c) for c in sorted(choices))
        raise ValueError(f"{owner}: {name} must be one of {allowed}, got {value!r}")


def _check_id(owner: str, name: str, value: object) -> None:
    """A WAMP ID: an int (not a bool) in [1, 2**53]."""
    if type(value) is not int:
        raise _type_error(owner, name, "an int session ID", value)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"{owner}: {name} must be in [1, 2**53], got {value}")


def _norm_ids(owner: str, name: str, value: object) -> int | tuple[int, ...] | None:
    """One session ID or a sequence of them; a sequence becomes a tuple."""
    if value is None or type(value) is int:
        if value is not None:
            _check_id(owner, name, value)
        return value
    if not isinstance(value, (list, tuple)):
        raise _type_error(owner, name, "an int or a list of ints", value)
    for item in value:
        _check_id(owner, name, item)
    return tuple(value)


def _norm_strs(owner: str, name: str, value: object) -> str | tuple[str, ...] | None:
    """One string or a sequence of them; a sequence becomes a tuple."""
    if value is None or type(value) is str:
        return value
    if not isinstance(value, (list, tuple)) or any(type(v) is not str for v in value):
        raise _type_error(owner, name, "a str or a list of str", value)
    return tuple(value)


def _norm_forward_for(owner: str, value: object) -> tuple[dict[str, Any], ...] | None:
    """Router-to-router ``forward_for``: a list of ``{session, authid, authrole}`` dicts."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise _type_error(owner, "forward_for", "a list of dicts", value)
    hops = []
    for hop in value:
        if not isinstance(hop, Mapping):
            raise _type_error(owner, "forward_for item", "a dict", hop)
        _check_id(owner, "forward_for session", hop.get("session"))
        _check_str(owner, "forward_for authid", hop.get("authid"))
        if type(hop.get("authrole")) is not str:
            raise _type_error(owner, "forward_for authrole", "a str", hop.get("authrole"))
        hops.append(dict(hop))
    return tuple(hops)


def _details_arg(owner: str, details: object, details_arg: object) -> str | None:
    """The keyword under which the handler receives its details (local only).

    ``details=True`` means ``details_arg="details"`` (Autobahn's newer spelling);
    contradicting values raise.
    """
    _check_bool(owner, "details", details)
    if details_arg is not None:
        if not isinstance(details_arg, str):
            raise _type_error(owner, "details_arg", "a str or None", details_arg)
        if not details_arg.isidentifier():
            raise ValueError(f"{owner}: details_arg must be an identifier, got {details_arg!r}")
    if details is True:
        if details_arg not in (None, "details"):
            raise ValueError(f"{owner}: give details=True or details_arg, not both")
        return "details"
    if details is False and details_arg is not None:
        raise ValueError(f"{owner}: details=False contradicts details_arg={details_arg!r}")
    return details_arg


def _check_correlation(owner: str, obj: Any) -> None:
    """The local-only tracing attributes Autobahn carries (never sent)."""
    _check_str(owner, "correlation_id", obj.correlation_id)
    _check_str(owner, "correlation_uri", obj.correlation_uri)
    _check_bool(owner, "correlation_is_anchor", obj.correlation_is_anchor)
    _check_bool(owner, "correlation_is_last", obj.correlation_is_last)


def _check_ppt(owner: str, obj: Any) -> None:
    """Payload passthru options: ``ppt_scheme`` is required once any ``ppt_*`` is set."""
    _check_str(owner, "ppt_scheme", obj.ppt_scheme, nonempty=True)
    _check_choice(owner, "ppt_serializer", obj.ppt_serializer, PPT_SERIALIZERS)
    _check_choice(owner, "ppt_cipher", obj.ppt_cipher, PPT_CIPHERS)
    _check_str(owner, "ppt_keyid", obj.ppt_keyid)
    others = (obj.ppt_serializer, obj.ppt_cipher, obj.ppt_keyid)
    if obj.ppt_scheme is None and any(v is not None for v in others):
        raise ValueError(f"{owner}: ppt_serializer, ppt_cipher and ppt_keyid need ppt_scheme")


def _wire(obj: Any, names: str) -> dict[str, Any]:
    """The set attributes among the space-separated ``names``, tuples as lists."""
    out: dict[str, Any] = {}
    for name in names.split():
        value = getattr(obj, name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = [dict(v) if isinstance(v, dict) else v for v in value]
        out[name] = value
    return out


# Option names that go on the wire as they are (space-separated, for _wire).
_CALL_WIRE = (
    "transaction_hash caller caller_authid caller_authrole forward_for disclose_me progress "
)
_PUBLISH_WIRE = "acknowledge exclude_me retain transaction_hash forward_for disclose_me "
_PPT_WIRE = "ppt_scheme ppt_serializer ppt_cipher ppt_keyid"


def _as_list(value: object) -> list[Any]:
    """A scalar or tuple option as the list the wire wants."""
    return list(value) if isinstance(value, tuple) else [value]


def _short_repr(obj: Any) -> str:
    """``Name(field=value, ...)`` for the fields that are set: options stay readable."""
    parts = (f"{f.name}={getattr(obj, f.name)!r}" for f in fields(obj))
    return f"{type(obj).__name__}({', '.join(p for p in parts if not p.endswith('=None'))})"


def _set(obj: object, name: str, value: object) -> None:
    """Normalise a field of a frozen dataclass during ``__post_init__``."""
    object.__setattr__(obj, name, value)


# ------------------------------------------------------------------ session values


@dataclass(slots=True, eq=False)
class ComponentConfig:
    """What an ``ApplicationSession`` is built with (``self.config``).

    Mutable and compared by identity, as in Autobahn: hosting runtimes fill in
    ``runner`` and ``controller``, and ``extra``/``shared`` are the user's objects.
    """

    realm: str | None = None
    extra: Any = None
    keyring: Any = None
    controller: Any = None
    shared: Any = None
    runner: Any = None

    def __post_init__(self) -> None:
        _check_str("ComponentConfig", "realm", self.realm)


@dataclass(frozen=True, slots=True, repr=False)
class TransportDetails:
    """What the adapter knows about the transport a session runs over (a small subset
    of Autobahn's). The integer codes are Autobahn's ``CHANNEL_*`` constants."""

    __repr__ = _short_repr

    # Plain class attributes (no annotation), so the dataclass ignores them.
    (
        CHANNEL_TYPE_NONE,
        CHANNEL_TYPE_FUNCTION,
        CHANNEL_TYPE_MEMORY,
        CHANNEL_TYPE_SERIAL,
        CHANNEL_TYPE_TCP,
        CHANNEL_TYPE_TLS,
        CHANNEL_TYPE_UDP,
        CHANNEL_TYPE_DTLS,
    ) = range(8)
    CHANNEL_TYPE_TO_STR: ClassVar[Mapping[int, str]] = dict(
        enumerate(("null", "function", "memory", "serial", "tcp", "tls", "udp", "dtls"))
    )
    (
        CHANNEL_FRAMING_NONE,
        CHANNEL_FRAMING_NATIVE,
        CHANNEL_FRAMING_WEBSOCKET,
        CHANNEL_FRAMING_RAWSOCKET,
    ) = range(4)
    CHANNEL_FRAMING_TO_STR: ClassVar[Mapping[int, str]] = dict(
        enumerate(("null", "native", "websocket", "rawsocket"))
    )
    (
        CHANNEL_SERIALIZER_NONE,
        CHANNEL_SERIALIZER_JSON,
        CHANNEL_SERIALIZER_MSGPACK,
        CHANNEL_SERIALIZER_CBOR,
        CHANNEL_SERIALIZER_UBJSON,
        CHANNEL_SERIALIZER_FLATBUFFERS,
    ) = range(6)
    CHANNEL_SERIALIZER_TO_STR: ClassVar[Mapping[int, str]] = dict(
        enumerate(("null", "json", "msgpack", "cbor", "ubjson", "flatbuffers"))
    )

    channel_type: int | None = None
    channel_framing: int | None = None
    channel_serializer: int | None = None
    own: str | None = None
    peer: str | None = None
    is_server: bool | None = None
    is_secure: bool | None = None
    channel_id: Mapping[str, bytes] | None = None
    peer_cert: Mapping[str, Any] | None = None
    websocket_protocol: str | None = None
    http_headers_received: Mapping[str, Any] | None = None

    @property
    def channel_typeid(self) -> str:
        """Type, framing and serializer in one string, e.g. ``"tls-websocket-json"``."""
        return "-".join(
            (
                self.CHANNEL_TYPE_TO_STR.get(self.channel_type or 0, "null"),
                self.CHANNEL_FRAMING_TO_STR.get(self.channel_framing or 0, "null"),
                self.CHANNEL_SERIALIZER_TO_STR.get(self.channel_serializer or 0, "null"),
            )
        )


@dataclass(frozen=True, slots=True, repr=False)
class SessionDetails:
    """The joined session, as ``onJoin(details)`` receives it (from WELCOME)."""

    __repr__ = _short_repr

    realm: str | None = None
    session: int | None = None
    authid: str | None = None
    authrole: str | None = None
    authmethod: str | None = None
    authprovider: str | None = None
    authextra: Mapping[str, Any] | None = None
    serializer: str | None = None
    transport: TransportDetails | None = None
    resumed: bool | None = None
    resumable: bool | None = None
    resume_token: str | None = None


@dataclass(frozen=True, slots=True)
class CloseDetails:
    """Why a session ended, as ``onLeave(details)`` receives it (GOODBYE/ABORT)."""

    REASON_DEFAULT: ClassVar[str] = "wamp.close.normal"
    REASON_TRANSPORT_LOST: ClassVar[str] = "wamp.close.transport_lost"

    reason: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        _check_str("CloseDetails", "reason", self.reason)
        _check_str("CloseDetails", "message", self.message)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A CHALLENGE from the router, as ``onChallenge(challenge)`` receives it."""

    method: str
    extra: Mapping[str, Any] = None  # type: ignore[assignment]  # None becomes {}

    def __post_init__(self) -> None:
        if type(self.method) is not str:
            raise _type_error("Challenge", "method", "a str", self.method)
        if self.extra is None:
            _set(self, "extra", {})
        elif not isinstance(self.extra, Mapping):
            raise _type_error("Challenge", "extra", "a dict or None", self.extra)


# ---------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True, repr=False)
class CallOptions:
    """Options for ``call()``.

    ``timeout`` is in seconds (int or float, ``>= 0``; ``0`` means none). The client
    enforces it itself, to the fraction; on the wire it goes as whole seconds (what
    Crossbar.io reads, and forwards to the callee, and what Autobahn sends: the spec's
    milliseconds would make such a router wait a thousand times longer, and Crossbar.io
    refuses a non-integer), rounded up and one more, so that the router's timer, which
    Crossbar.io batches in 1-second buckets, never ends the call before the client's own
    deadline does: the router's is the backstop. ``on_progress``
    asks for progressive results; ``details=True`` makes the call return a
    :class:`CallResult` (with the callee's identity) whatever the result shape.
    ``progress=True`` sends a progressive call invocation chunk.
    """

    __repr__ = _short_repr

    on_progress: Callable[..., Any] | None = None
    timeout: float | None = None
    transaction_hash: str | None = None
    caller: int | None = None
    caller_authid: str | None = None
    caller_authrole: str | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None
    correlation_id: str | None = None
    correlation_uri: str | None = None
    correlation_is_anchor: bool | None = None
    correlation_is_last: bool | None = None
    details: bool | None = None
    _: KW_ONLY
    disclose_me: bool | None = None
    progress: bool | None = None
    ppt_scheme: str | None = None
    ppt_serializer: str | None = None
    ppt_cipher: str | None = None
    ppt_keyid: str | None = None

    def __post_init__(self) -> None:
        owner = "CallOptions"
        if self.on_progress is not None and not callable(self.on_progress):
            raise _type_error(owner, "on_progress", "callable or None", self.on_progress)
        timeout = self.timeout
        if timeout is not None:
            if type(timeout) not in (int, float):
                raise _type_error(owner, "timeout", "an int or float (seconds)", timeout)
            if not math.isfinite(timeout) or timeout < 0:
                raise ValueError(f"{owner}: timeout must be finite and >= 0, got {timeout!r}")
        _check_str(owner, "transaction_hash", self.transaction_hash)
        if self.caller is not None:
            _check_id(owner, "caller", self.caller)
        _check_str(owner, "caller_authid", self.caller_authid)
        _check_str(owner, "caller_authrole", self.caller_authrole)
        _set(self, "forward_for", _norm_forward_for(owner, self.forward_for))
        _check_correlation(owner, self)
        _check_bool(owner, "details", self.details)
        _check_bool(owner, "disclose_me", self.disclose_me)
        _check_bool(owner, "progress", self.progress)
        _check_ppt(owner, self)

    @property
    def wire_timeout(self) -> int | None:
        """``timeout`` as the wire's whole seconds: rounded up, plus one (see the class
        docstring); 0 stays 0 (no timeout), unset is ``None``."""
        if self.timeout is None:
            return None
        return math.ceil(self.timeout) + 1 if self.timeout else 0

    def message_attr(self) -> dict[str, Any]:
        """The ``CALL.Options`` dict (local-only settings left out)."""
        out = _wire(self, _CALL_WIRE + _PPT_WIRE)
        if self.timeout is not None:
            out["timeout"] = self.wire_timeout
        if self.on_progress is not None:
            out["receive_progress"] = True
        return out


@dataclass(frozen=True, slots=True, repr=False)
class RegisterOptions:
    """Options for ``register()``.

    ``details``/``details_arg`` (inject :class:`CallDetails` into the endpoint under
    that keyword) are local only; ``details=True`` sets ``details_arg="details"``.
    """

    __repr__ = _short_repr

    match: MatchPolicy | None = None
    invoke: str | None = None
    concurrency: int | None = None
    force_reregister: bool | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None
    details: bool | None = None
    details_arg: str | None = None
    correlation_id: str | None = None
    correlation_uri: str | None = None
    correlation_is_anchor: bool | None = None
    correlation_is_last: bool | None = None
    _: KW_ONLY
    disclose_caller: bool | None = None
    forward_timeout: bool | None = None

    def __post_init__(self) -> None:
        owner = "RegisterOptions"
        _check_choice(owner, "match", self.match, MATCH_POLICIES)
        _check_choice(owner, "invoke", self.invoke, INVOKE_POLICIES)
        if self.concurrency is not None:
            if type(self.concurrency) is not int:
                raise _type_error(owner, "concurrency", "an int or None", self.concurrency)
            if self.concurrency < 1:
                raise ValueError(f"{owner}: concurrency must be >= 1, got {self.concurrency}")
        _check_bool(owner, "force_reregister", self.force_reregister)
        _set(self, "forward_for", _norm_forward_for(owner, self.forward_for))
        _set(self, "details_arg", _details_arg(owner, self.details, self.details_arg))
        _check_correlation(owner, self)
        _check_bool(owner, "disclose_caller", self.disclose_caller)
        _check_bool(owner, "forward_timeout", self.forward_timeout)

    def message_attr(self) -> dict[str, Any]:
        """The ``REGISTER.Options`` dict (local-only settings left out)."""
        return _wire(
            self,
            "match invoke concurrency force_reregister forward_for disclose_caller forward_timeout",
        )


@dataclass(frozen=True, slots=True, repr=False)
class SubscribeOptions:
    """Options for ``subscribe()``; ``details``/``details_arg`` are local only."""

    __repr__ = _short_repr

    match: MatchPolicy | None = None
    details: bool | None = None
    details_arg: str | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None
    get_retained: bool | None = None
    correlation_id: str | None = None
    correlation_uri: str | None = None
    correlation_is_anchor: bool | None = None
    correlation_is_last: bool | None = None

    def __post_init__(self) -> None:
        owner = "SubscribeOptions"
        _check_choice(owner, "match", self.match, MATCH_POLICIES)
        _set(self, "details_arg", _details_arg(owner, self.details, self.details_arg))
        _set(self, "forward_for", _norm_forward_for(owner, self.forward_for))
        _check_bool(owner, "get_retained", self.get_retained)
        _check_correlation(owner, self)

    def message_attr(self) -> dict[str, Any]:
        """The ``SUBSCRIBE.Options`` dict (local-only settings left out)."""
        return _wire(self, "match get_retained forward_for")


@dataclass(frozen=True, slots=True, repr=False)
class PublishOptions:
    """Options for ``publish()``.

    ``exclude``/``eligible`` take one session ID or a list; the ``*_authid`` and
    ``*_authrole`` filters one string or a list. On the wire they are always lists.
    """

    __repr__ = _short_repr

    acknowledge: bool | None = None
    exclude_me: bool | None = None
    exclude: int | Sequence[int] | None = None
    exclude_authid: str | Sequence[str] | None = None
    exclude_authrole: str | Sequence[str] | None = None
    eligible: int | Sequence[int] | None = None
    eligible_authid: str | Sequence[str] | None = None
    eligible_authrole: str | Sequence[str] | None = None
    retain: bool | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None
    transaction_hash: str | None = None
    correlation_id: str | None = None
    correlation_uri: str | None = None
    correlation_is_anchor: bool | None = None
    correlation_is_last: bool | None = None
    _: KW_ONLY
    disclose_me: bool | None = None
    ppt_scheme: str | None = None
    ppt_serializer: str | None = None
    ppt_cipher: str | None = None
    ppt_keyid: str | None = None

    def __post_init__(self) -> None:
        owner = "PublishOptions"
        for name in ("acknowledge", "exclude_me", "retain", "disclose_me"):
            _check_bool(owner, name, getattr(self, name))
        for name in ("exclude", "eligible"):
            _set(self, name, _norm_ids(owner, name, getattr(self, name)))
        for name in _AUTH_FILTERS:
            _set(self, name, _norm_strs(owner, name, getattr(self, name)))
        _set(self, "forward_for", _norm_forward_for(owner, self.forward_for))
        _check_str(owner, "transaction_hash", self.transaction_hash)
        _check_correlation(owner, self)
        _check_ppt(owner, self)

    def message_attr(self) -> dict[str, Any]:
        """The ``PUBLISH.Options`` dict (local-only settings left out)."""
        out = _wire(self, _PUBLISH_WIRE + _PPT_WIRE)
        for name in ("exclude", "eligible", *_AUTH_FILTERS):
            value = getattr(self, name)
            if value is not None:
                out[name] = _as_list(value)
        return out


_AUTH_FILTERS = ("exclude_authid", "exclude_authrole", "eligible_authid", "eligible_authrole")
# ---------------------------------------------------------------------------- details


@dataclass(frozen=True, slots=True, repr=False)
class CallDetails:
    """What an endpoint learns about an invocation (injected under ``details_arg``).

    ``progress`` is a callable the endpoint calls to send a progressive result
    (``None`` unless the caller asked for progress); ``procedure`` is the concrete
    URI for a pattern registration.
    """

    __repr__ = _short_repr

    registration: Registration
    progress: Callable[..., Any] | None = None
    caller: int | None = None
    caller_authid: str | None = None
    caller_authrole: str | None = None
    procedure: str | None = None
    transaction_hash: str | None = None
    enc_algo: str | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True, slots=True, repr=False)
class EventDetails:
    """What a handler learns about an event (injected under ``details_arg``).

    ``topic`` is the concrete topic for a pattern subscription.
    """

    __repr__ = _short_repr

    subscription: Subscription
    publication: int
    publisher: int | None = None
    publisher_authid: str | None = None
    publisher_authrole: str | None = None
    topic: str | None = None
    retained: bool | None = None
    transaction_hash: str | None = None
    enc_algo: str | None = None
    forward_for: Sequence[Mapping[str, Any]] | None = None


class CallResult:
    """Several positional and/or keyword results of a call (or for a YIELD).

    ``results``/``kwresults`` (Autobahn) are also ``args``/``kwargs``. Unlike
    Autobahn, every keyword is a result: ``CallResult(callee=1)`` carries a result
    named ``callee``. The callee's identity, which RESULT details may carry, is
    attached by the core through :meth:`with_details`. Plain attributes, as in
    Autobahn (a result is handed over once, not shared).
    """

    __slots__ = (
        "callee",
        "callee_authid",
        "callee_authrole",
        "enc_algo",
        "forward_for",
        "kwresults",
        "results",
    )

    def __init__(self, *results: Any, **kwresults: Any):
        self.results = results
        self.kwresults = kwresults
        self.callee: int | None = None
        self.callee_authid: str | None = None
        self.callee_authrole: str | None = None
        self.enc_algo: str | None = None
        self.forward_for: Sequence[Mapping[str, Any]] | None = None

    @classmethod
    def with_details(
        cls,
        results: Sequence[Any] = (),
        kwresults: Mapping[str, Any] | None = None,
        *,
        callee: int | None = None,
        callee_authid: str | None = None,
        callee_authrole: str | None = None,
        enc_algo: str | None = None,
        forward_for: Sequence[Mapping[str, Any]] | None = None,
    ) -> CallResult:
        """A result together with the RESULT details about the callee."""
        result = cls(*results, **(kwresults or {}))
        result.callee = callee
        result.callee_authid = callee_authid
        result.callee_authrole = callee_authrole
        result.enc_algo = enc_algo
        result.forward_for = forward_for
        return result

    @property
    def args(self) -> tuple[Any, ...]:
        """The positional results (alias of ``results``)."""
        return self.results

    @property
    def kwargs(self) -> dict[str, Any]:
        """The keyword results (alias of ``kwresults``)."""
        return self.kwresults

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CallResult):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, and holds a dict

    def __repr__(self) -> str:
        parts = [f"results={self.results!r}", f"kwresults={self.kwresults!r}"]
        for name in ("callee", "callee_authid", "callee_authrole", "enc_algo", "forward_for"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"CallResult({', '.join(parts)})"

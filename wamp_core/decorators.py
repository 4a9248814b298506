"""``@register``, ``@subscribe`` and ``@error``: WAMP metadata on functions and classes.

The equivalent of Autobahn's ``autobahn.wamp.uri.register/subscribe/error`` (used
as ``@wamp.register(...)``). Autobahn stores ``Pattern`` objects in a ``_wampuris``
list; here each decoration adds one immutable :class:`WampUri` to the tuple
``__wamp_uris__`` on the decorated object, and :func:`wamp_uris` reads it back.

Decorating validates at once (a bad URI fails at import time, not at join time):
the URI by the loose rule for its match policy, the options by their type. A URI of
``None`` means "derive it later" (the Application model joins its prefix and the
function name). An empty component with no explicit ``match`` makes the URI a
wildcard pattern, as Autobahn does for subscriptions (here for both kinds, since
an empty component has no other meaning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .types import RegisterOptions, SubscribeOptions
from .uri import MatchPolicy, validate_pattern

__all__ = [
    "WampUri",
    "decorated_members",
    "decorated_uri",
    "error",
    "register",
    "subscribe",
    "wamp_uris",
]

Target = Literal["register", "subscribe", "error"]

_ATTRIBUTE = "__wamp_uris__"

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=type[BaseException])


@dataclass(frozen=True, slots=True)
class WampUri:
    """One decoration: what to do with the decorated object, and under which URI.

    ``target`` is ``"register"`` (a procedure endpoint), ``"subscribe"`` (an event
    handler) or ``"error"`` (an exception class mapped to an error URI).
    """

    uri: str | None
    target: Target
    options: RegisterOptions | SubscribeOptions | None = None
    check_types: bool | None = None

    @property
    def match(self) -> MatchPolicy:
        """The effective match policy: the options' one, else inferred from the URI."""
        if self.options is not None and self.options.match is not None:
            return self.options.match
        # "" stays exact (and so invalid): an empty URI is a mistake, not a wildcard.
        if self.uri and "" in self.uri.split("."):
            return "wildcard"
        return "exact"


def _record(obj: Any, entry: WampUri) -> None:
    """Append ``entry`` to the object's own decorations.

    Only the object's *own* attribute is extended: a subclass of a decorated exception
    class starts afresh instead of appending to (and corrupting) its parent's tuple.
    """
    own = getattr(obj, "__dict__", {}).get(_ATTRIBUTE, ())
    try:
        setattr(obj, _ATTRIBUTE, (*own, entry))
    except AttributeError:
        # Builtins and __slots__ objects have nowhere to keep the metadata.
        raise TypeError(f"@{entry.target}: cannot attach WAMP metadata to {obj!r}") from None


def _make(
    target: Target,
    uri: str | None,
    options: RegisterOptions | SubscribeOptions | None,
    check_types: bool | None,
    options_type: type[RegisterOptions] | type[SubscribeOptions],
) -> WampUri:
    """Validate the decorator's arguments (at run time too) and build its :class:`WampUri`."""
    decorator = f"@{target}"
    if options is not None and type(options) is not options_type:
        raise TypeError(
            f"{decorator}: options must be a {options_type.__name__} or None, "
            f"not {type(options).__name__}"
        )
    if check_types is not None and type(check_types) is not bool:
        raise TypeError(
            f"{decorator}: check_types must be a bool or None, not {type(check_types).__name__}"
        )
    if uri is not None and type(uri) is not str:
        raise TypeError(f"{decorator}: uri must be a str or None, not {type(uri).__name__}")
    entry = WampUri(uri, target, options, check_types)
    if uri is not None:
        # An explicit match wins; otherwise the URI's shape decides (see WampUri.match).
        validate_pattern(uri, entry.match, what=f"{decorator} URI")
    return entry


def register(
    uri: str | None = None,
    options: RegisterOptions | None = None,
    check_types: bool | None = None,
) -> Callable[[F], F]:
    """Mark a function or method as a procedure endpoint for ``uri``."""
    entry = _make("register", uri, options, check_types, RegisterOptions)

    def decorate(func: F) -> F:
        if not callable(func):
            raise TypeError(f"@register: can only decorate a callable, not {func!r}")
        _record(func, entry)
        return func

    return decorate


def subscribe(
    uri: str | None = None,
    options: SubscribeOptions | None = None,
    check_types: bool | None = None,
) -> Callable[[F], F]:
    """Mark a function or method as an event handler for ``uri``."""
    entry = _make("subscribe", uri, options, check_types, SubscribeOptions)

    def decorate(func: F) -> F:
        if not callable(func):
            raise TypeError(f"@subscribe: can only decorate a callable, not {func!r}")
        _record(func, entry)
        return func

    return decorate


def error(uri: str) -> Callable[[E], E]:
    """Map an exception class to the error URI ``uri`` (both ways: raise and receive)."""
    if type(uri) is not str:
        raise TypeError(f"@error: uri must be a str, not {type(uri).__name__}")
    validate_pattern(uri, "exact", what="@error URI")
    entry = WampUri(uri, "error")

    def decorate(cls: E) -> E:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(f"@error: can only decorate an exception class, not {cls!r}")
        _record(cls, entry)
        return cls

    return decorate


def wamp_uris(obj: object) -> list[WampUri]:
    """The decorations of ``obj`` (a function, bound method or class), oldest first.

    Bound methods see their function's decorations; a subclass of a decorated
    exception class sees its parent's until it is decorated itself.
    """
    return list(getattr(obj, _ATTRIBUTE, ()))


def decorated_uri(fn: Any, target: Target, prefix: str | None = None) -> str:
    """The URI ``fn`` was decorated with for ``target`` (with ``prefix`` before it)."""
    uris = [u.uri for u in wamp_uris(fn) if u.target == target and u.uri]
    if not uris:
        raise ValueError(f"{getattr(fn, '__name__', fn)!r} has no URI: pass one or decorate it")
    return f"{prefix}{uris[0]}" if prefix else uris[0]


def decorated_members(
    obj: Any, target: Target, prefix: str | None = None
) -> list[tuple[Any, str, Any]]:
    """The ``@register``/``@subscribe``-decorated methods of ``obj``, bound:
    (method, URI with ``prefix`` before it, options: RegisterOptions for "register",
    SubscribeOptions for "subscribe", or None), as ``session.register(obj)`` uses them."""
    out = []
    for name in dir(obj):
        if name.startswith("__"):
            continue
        member = getattr(obj, name, None)
        for entry in wamp_uris(member) if callable(member) else ():
            if entry.target == target and entry.uri:
                out.append((member, f"{prefix or ''}{entry.uri}", entry.options))
    return out

"""WAMP URI rules: strict and loose validation, pattern matching and resolution.

The four regular expressions are the spec's (``basic/building_blocks.md`` "URIs").
Validation sits on the decode hot path, so results for valid URIs are remembered
in a bounded set: a steady stream of messages on the same topics costs one set
lookup per URI.

Pattern rules (``advanced/rpc_pattern_based_registration.md``,
``advanced/pubsub_pattern_based_subscription.md``):

* ``exact``: every component non-empty; the URI must be equal.
* ``prefix``: a plain string prefix (``a.b1-x`` matches ``a.b1``). Components must
  be non-empty except the *last* one, so ``com.myapp.`` (match only below
  ``com.myapp``) and ``""`` (match everything) are valid prefixes. The spec is
  silent on this; Crossbar.io accepts exactly these (its ``*_LAST_EMPTY`` rule) and
  Autobahn's starred URIs produce them (``com.myapp.*`` -> ``com.myapp.``).
* ``wildcard``: same number of components; an empty pattern component matches any
  component.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, Literal, TypeVar

from .exception import InvalidUriError
from .vocabulary import MATCH_POLICIES

__all__ = [
    "MATCH_POLICIES",
    "MatchPolicy",
    "UriMatcher",
    "is_valid_pattern",
    "is_valid_uri",
    "match_uri",
    "validate_pattern",
    "validate_uri",
]

_LOOSE = re.compile(r"([^\s.#]+\.)*([^\s.#]+)")
_LOOSE_EMPTY = re.compile(r"(([^\s.#]+\.)|\.)*([^\s.#]+)?")
_STRICT = re.compile(r"([0-9a-z_]+\.)*([0-9a-z_]+)")
_STRICT_EMPTY = re.compile(r"(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?")

_PATTERNS = {
    (False, False): _LOOSE,
    (False, True): _LOOSE_EMPTY,
    (True, False): _STRICT,
    (True, True): _STRICT_EMPTY,
}

# One remembered set per rule; cleared when full so memory stays bounded
# whatever URIs a peer sends.
_CACHE_LIMIT = 4096
_VALID: dict[tuple[bool, bool], set[str]] = {key: set() for key in _PATTERNS}

MatchPolicy = Literal["exact", "prefix", "wildcard"]
"""How a subscription or registration URI is matched against concrete URIs."""

_MATCH_CHOICES = ", ".join(repr(policy) for policy in MATCH_POLICIES)

_STRICT_COMPONENT = re.compile(r"[0-9a-z_]+")


def is_valid_uri(value: object, *, strict: bool = False, allow_empty: bool = False) -> bool:
    """Whether ``value`` is a string that satisfies the chosen URI rule.

    ``strict`` selects ``[0-9a-z_]`` components; ``allow_empty`` admits empty
    components (only pattern-based subscriptions and registrations use them).
    """
    if type(value) is not str:
        return False
    key = (strict, allow_empty)
    known = _VALID[key]
    if value in known:
        return True
    if _PATTERNS[key].fullmatch(value) is None:
        return False
    if len(known) >= _CACHE_LIMIT:
        known.clear()
    known.add(value)
    return True


def _rule_broken(uri: str, *, strict: bool, allow_empty: bool, last_empty: bool = False) -> str:
    """Say which rule an *invalid* ``uri`` breaks (only called after a failed check).

    ``last_empty`` exempts the final component from the non-empty rule (prefixes).
    """
    if uri == "":
        return "it must not be empty"
    for index, char in enumerate(uri):
        if char.isspace():
            return f"it contains whitespace ({char!r}) at index {index}"
        if char == "#":
            return f"it contains '#' at index {index}"
    components = uri.split(".")
    exempt = len(components) if last_empty else 0  # the 1-based component spared
    for number, component in enumerate(components, start=1):
        if component == "" and not allow_empty and number != exempt:
            return (
                f"component {number} is empty (empty components are only allowed "
                "in wildcard patterns, and as the last component of a prefix)"
            )
    # Whitespace, '#' and empty components passed: only the strict character set is left.
    bad = next(c for c in components if c and _STRICT_COMPONENT.fullmatch(c) is None)
    return f"component {bad!r} has characters outside [0-9a-z_] (strict rule)"


def validate_uri(
    uri: object, *, strict: bool = False, allow_empty: bool = False, what: str = "URI"
) -> str:
    """Return ``uri`` if it satisfies the chosen rule, else raise :class:`InvalidUriError`.

    ``what`` names the value in the message (``"procedure"``, ``"topic"``, ...).
    A non-string also raises :class:`InvalidUriError` (a ``ValueError``), so callers
    have one exception to expect for any bad URI argument.
    """
    if is_valid_uri(uri, strict=strict, allow_empty=allow_empty):
        return uri  # type: ignore[return-value]  # is_valid_uri proved it is a str
    if type(uri) is not str:
        raise InvalidUriError(f"{what} must be a str, not {type(uri).__name__}")
    reason = _rule_broken(uri, strict=strict, allow_empty=allow_empty)
    rule = "strict" if strict else "loose"
    raise InvalidUriError(f"invalid {what} {uri!r} ({rule} rule): {reason}")


def _check_match(match: object) -> MatchPolicy:
    """Return ``match`` if it is a known policy; a wrong type or value raises at once."""
    if type(match) is not str:
        raise TypeError(f"match must be a str, not {type(match).__name__}")
    if match not in MATCH_POLICIES:
        raise ValueError(f"match must be one of {_MATCH_CHOICES}, got {match!r}")
    return match  # type: ignore[return-value]  # membership in MATCH_POLICIES checked


def is_valid_pattern(uri: object, match: str, *, strict: bool = False) -> bool:
    """Whether ``uri`` is a valid URI for the ``match`` policy (see the module docstring)."""
    if _check_match(match) == "prefix":
        if uri == "":
            return True
        if type(uri) is str and uri.endswith("."):
            uri = uri[:-1]
        return is_valid_uri(uri, strict=strict)
    return is_valid_uri(uri, strict=strict, allow_empty=match == "wildcard")


def validate_pattern(uri: object, match: str, *, strict: bool = False, what: str = "URI") -> str:
    """Return ``uri`` if it is valid for ``match``, else raise :class:`InvalidUriError`.

    Empty components are allowed for ``wildcard`` only; a ``prefix`` may also end
    with ``"."`` or be ``""``. An unknown ``match`` raises ``ValueError`` (``TypeError``
    if it is not a string).
    """
    if is_valid_pattern(uri, match, strict=strict):
        return uri  # type: ignore[return-value]  # is_valid_pattern proved it is a str
    if match != "prefix":
        return validate_uri(uri, strict=strict, allow_empty=match == "wildcard", what=what)
    if type(uri) is not str:
        raise InvalidUriError(f"{what} must be a str, not {type(uri).__name__}")
    reason = _rule_broken(uri, strict=strict, allow_empty=False, last_empty=True)
    rule = "strict" if strict else "loose"
    raise InvalidUriError(f"invalid {what} prefix {uri!r} ({rule} rule): {reason}")


def match_uri(pattern: str, match: str, uri: str) -> bool:
    """Whether the concrete ``uri`` matches ``pattern`` under the ``match`` policy.

    Arguments are not validated (this runs per message); an unknown ``match``
    raises ``ValueError``.
    """
    if match == "exact":
        return uri == pattern
    if match == "prefix":
        return uri.startswith(pattern)
    if match == "wildcard":
        return _wildcard_matches(pattern.split("."), uri.split("."))
    raise ValueError(f"match must be one of {_MATCH_CHOICES}, got {match!r}")


def _wildcard_matches(pattern: list[str] | tuple[str, ...], components: list[str]) -> bool:
    """Component-wise wildcard match: same length, empty pattern components match anything."""
    if len(pattern) != len(components):
        return False
    return all(p in ("", c) for p, c in zip(pattern, components, strict=True))


T = TypeVar("T")


class _Wildcard(Generic[T]):
    """A stored wildcard pattern, pre-split, with its resolution rank."""

    __slots__ = ("components", "pattern", "rank", "value")

    def __init__(self, pattern: str, value: T):
        self.pattern = pattern
        self.components = tuple(pattern.split("."))
        # The spec prefers "the longest portion of URI components matched before each
        # wildcard", compared portion by portion. Among patterns that match the same
        # URI (hence have the same length) that order is exactly the lexicographic
        # order of the "component is literal" flags: a longer first portion puts a True
        # where the other pattern has its wildcard, and equal portions defer to the next.
        self.rank = tuple(c != "" for c in self.components)
        self.value = value


class UriMatcher(Generic[T]):
    """Values stored under ``(pattern, match)`` keys, resolved against concrete URIs.

    :meth:`resolve` applies the spec's routing order for registrations: exact, then
    the longest prefix, then the wildcard with the longest leading portions.
    :meth:`matches` returns every matching value in that same order (an event is
    delivered once per matching subscription). Exact lookups are one dict lookup;
    prefix lookups probe one slice per distinct prefix length; wildcard lookups scan
    only the patterns with the URI's number of components.
    """

    __slots__ = ("_exact", "_prefix", "_prefix_lengths", "_sorted_lengths", "_wildcard")

    def __init__(self) -> None:
        self._exact: dict[str, T] = {}
        self._prefix: dict[str, T] = {}
        self._prefix_lengths: dict[int, int] = {}  # length -> number of prefixes of it
        self._sorted_lengths: tuple[int, ...] = ()  # longest first
        self._wildcard: dict[int, dict[str, _Wildcard[T]]] = {}  # by component count

    def __len__(self) -> int:
        return (
            len(self._exact)
            + len(self._prefix)
            + sum(len(group) for group in self._wildcard.values())
        )

    def __contains__(self, key: object) -> bool:
        """Whether ``(pattern, match)`` is stored."""
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        pattern, match = key
        if not isinstance(pattern, str):
            return False
        if match == "exact":
            return pattern in self._exact
        if match == "prefix":
            return pattern in self._prefix
        if match == "wildcard":
            return pattern in self._wildcard.get(pattern.count(".") + 1, {})
        return False

    def __iter__(self) -> Iterator[tuple[str, MatchPolicy, T]]:
        """Every stored ``(pattern, match, value)``: exact, then prefix, then wildcard."""
        for pattern, value in self._exact.items():
            yield pattern, "exact", value
        for pattern, value in self._prefix.items():
            yield pattern, "prefix", value
        for group in self._wildcard.values():
            for entry in group.values():
                yield entry.pattern, "wildcard", entry.value

    def __repr__(self) -> str:
        return f"UriMatcher({[(p, m) for p, m, _ in self]!r})"

    def add(self, pattern: str, match: str, value: T) -> None:
        """Store ``value`` under ``(pattern, match)``.

        The pattern is validated with the loose rule for ``match``
        (:class:`InvalidUriError`); a key that is already stored raises ``KeyError``,
        because silently replacing a handler hides double registrations.
        """
        validate_pattern(pattern, match, what="pattern")
        if (pattern, match) in self:
            raise KeyError(f"{match} pattern {pattern!r} is already stored")
        if match == "exact":
            self._exact[pattern] = value
        elif match == "prefix":
            self._prefix[pattern] = value
            self._count_length(len(pattern), +1)
        else:
            group = self._wildcard.setdefault(pattern.count(".") + 1, {})
            group[pattern] = _Wildcard(pattern, value)

    def remove(self, pattern: str, match: str) -> T:
        """Remove and return the value under ``(pattern, match)``; ``KeyError`` if absent."""
        if (pattern, match) not in self:
            raise KeyError(f"{match} pattern {pattern!r} is not stored")
        if match == "exact":
            return self._exact.pop(pattern)
        if match == "prefix":
            self._count_length(len(pattern), -1)
            return self._prefix.pop(pattern)
        size = pattern.count(".") + 1
        group = self._wildcard[size]
        entry = group.pop(pattern)
        if not group:
            del self._wildcard[size]
        return entry.value

    def get(self, pattern: str, match: str) -> T | None:
        """The value stored under ``(pattern, match)``, or ``None``."""
        if (pattern, match) not in self:
            return None
        if match == "exact":
            return self._exact[pattern]
        if match == "prefix":
            return self._prefix[pattern]
        return self._wildcard[pattern.count(".") + 1][pattern].value

    def clear(self) -> None:
        """Remove everything."""
        self._exact.clear()
        self._prefix.clear()
        self._prefix_lengths.clear()
        self._sorted_lengths = ()
        self._wildcard.clear()

    def _count_length(self, length: int, delta: int) -> None:
        """Keep the distinct prefix lengths (longest first) in step with the prefixes."""
        count = self._prefix_lengths.get(length, 0) + delta
        if count:
            self._prefix_lengths[length] = count
        else:
            del self._prefix_lengths[length]
        self._sorted_lengths = tuple(sorted(self._prefix_lengths, reverse=True))

    def _prefix_hits(self, uri: str) -> Iterator[T]:
        """Values of the prefixes of ``uri``, longest first."""
        for length in self._sorted_lengths:
            if length <= len(uri):
                value = self._prefix.get(uri[:length], _MISSING)
                if value is not _MISSING:
                    yield value  # type: ignore[misc]  # not the sentinel, so a T

    def _wildcard_hits(self, uri: str) -> list[_Wildcard[T]]:
        """Wildcard entries matching ``uri``, best rank first."""
        components = uri.split(".")
        group = self._wildcard.get(len(components))
        if not group:
            return []
        hits = [e for e in group.values() if _wildcard_matches(e.components, components)]
        hits.sort(key=lambda entry: entry.rank, reverse=True)
        return hits

    def resolve(self, uri: str) -> T | None:
        """The single best value for ``uri`` (exact > longest prefix > wildcard), or ``None``."""
        if uri in self._exact:
            return self._exact[uri]
        for value in self._prefix_hits(uri):
            return value
        if self._wildcard:
            hits = self._wildcard_hits(uri)
            if hits:
                return hits[0].value
        return None

    def matches(self, uri: str) -> list[T]:
        """Every value whose pattern matches ``uri``, in resolution order."""
        found: list[T] = []
        if uri in self._exact:
            found.append(self._exact[uri])
        found.extend(self._prefix_hits(uri))
        if self._wildcard:
            found.extend(entry.value for entry in self._wildcard_hits(uri))
        return found


_MISSING = object()

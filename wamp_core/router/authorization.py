"""Who may do what in a realm: roles with permissions, as Crossbar.io's node configuration
states them (``"roles": [{"name": ..., "permissions": [{"uri", "match", "allow",
"disclose", "cache"}]}]``).

A role's permission for a URI is the best matching one in the spec's routing order
(exact, then the longest prefix, then the wildcard with the longest literal
leading components), as Crossbar.io picks it; no matching permission denies
everything. A role the realm does not know has no permissions at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from wamp_core.uri import MatchPolicy, UriMatcher, validate_pattern, validate_uri

__all__ = [
    "ACTIONS",
    "ALLOW_ALL",
    "TRUSTED",
    "Action",
    "Permission",
    "Role",
    "RoleSet",
]

Action = Literal["call", "register", "publish", "subscribe"]
ACTIONS: Final[tuple[Action, ...]] = ("call", "register", "publish", "subscribe")


@dataclass(frozen=True, slots=True)
class Permission:
    """What a role may do under ``uri`` (matched by ``match``)."""

    uri: str
    match: MatchPolicy = "exact"
    allow: frozenset[Action] = frozenset()
    disclose_caller: bool = False
    disclose_publisher: bool = False
    cache: bool = True

    def __post_init__(self) -> None:
        validate_pattern(self.uri, self.match, what="permission URI")
        unknown = set(self.allow) - set(ACTIONS)
        if unknown:
            raise ValueError(f"unknown actions in permission {self.uri!r}: {sorted(unknown)}")


ALLOW_ALL: Final = Permission("", "prefix", frozenset(ACTIONS))
"""Every action on every URI (the default realm's anonymous role)."""

_MAX_REMEMBERED = 10_000
# What allows() remembers for a denial: a Permission, so that one dict look-up says
# both whether the question was asked and what the answer was.
_DENIED: Final = Permission("", "prefix")

TRUSTED: Final = "trusted"
"""The role of the router's own sessions (as in Crossbar.io): every action on every URI."""


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permissions; at most one permission per ``(uri, match)``.

    A role with an ``authorizer`` (a procedure URI) is dynamic, as in Crossbar.io:
    each action is decided by calling ``authorizer(session, uri, action, options)``
    (the realm does that; see realm.py), and ``permissions`` are not consulted."""

    name: str
    permissions: tuple[Permission, ...] = ()
    authorizer: str | None = None
    _matcher: UriMatcher[Permission] = field(
        init=False, repr=False, compare=False, default_factory=UriMatcher
    )

    def __post_init__(self) -> None:
        if self.authorizer is not None:
            validate_uri(self.authorizer, what="authorizer")
        for permission in self.permissions:
            try:
                self._matcher.add(permission.uri, permission.match, permission)
            except KeyError:
                raise ValueError(
                    f"role {self.name!r} has two permissions for {permission.match} "
                    f"URI {permission.uri!r}"
                ) from None

    def permission(self, uri: str) -> Permission | None:
        """The permission that applies to ``uri``, or None (nothing is allowed)."""
        return self._matcher.resolve(uri)


class RoleSet:
    """The roles of one realm, by name."""

    __slots__ = ("_allowed", "_roles", "dynamic")

    def __init__(self, roles: Iterable[Role] = ()) -> None:
        self._roles: dict[str, Role] = {}
        for role in roles:
            if role.name in self._roles:
                raise ValueError(f"role {role.name!r} is defined twice")
            self._roles[role.name] = role
        # The names of the roles whose actions their authorizer decides.
        self.dynamic: frozenset[str] = frozenset(
            role.name for role in self._roles.values() if role.authorizer is not None
        )
        # allows() remembered: roles never change once the set is built, and every
        # PUBLISH and CALL asks (most often about the same few URIs).
        self._allowed: dict[tuple[str, str, Action], Permission] = {}

    @property
    def roles(self) -> Mapping[str, Role]:
        return self._roles

    def __contains__(self, name: object) -> bool:
        """Whether a session may have role ``name`` (a configured one, or TRUSTED)."""
        return name == TRUSTED or name in self._roles

    def permission(self, authrole: str, uri: str) -> Permission | None:
        if authrole == TRUSTED:
            return ALLOW_ALL
        role = self._roles.get(authrole)
        return None if role is None else role.permission(uri)

    def allows(self, authrole: str, uri: str, action: Action) -> Permission | None:
        """The permission if ``authrole`` may do ``action`` on ``uri``, else None."""
        key = (authrole, uri, action)
        allowed = self._allowed
        known = allowed.get(key)
        if known is None:
            permission = self.permission(authrole, uri)
            known = _DENIED if permission is None or action not in permission.allow else permission
            if len(allowed) >= _MAX_REMEMBERED:
                allowed.clear()  # bounded, whatever URIs the clients use
            allowed[key] = known
        return None if known is _DENIED else known

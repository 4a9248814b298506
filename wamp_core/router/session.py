"""A session joined to a realm, as the realm sees it, and the peer it writes to.

The realm never touches bytes: it hands messages to the session's :class:`Peer`
(a server connection, or the realm's own meta session). A message that goes to
many sessions at once (an EVENT to every subscriber of one subscription) goes
through :meth:`Peer.send_shared` with one cache for all of them, so that it is
encoded (and framed) once per serializer, not once per receiver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from wamp_core.exception import ProtocolError
from wamp_core.messages import Message
from wamp_core.router._ids import SequentialIds

if TYPE_CHECKING:
    from wamp_core.router.dealer import _Call

__all__ = ["ROUTER_FEATURES", "EncodingCache", "Peer", "RouterSession", "announced_features"]

EncodingCache = dict[str, Any]
"""Per-message scratch space shared by the receivers of one message: each peer kind
keeps its encoded form there under a key of its own (serializer and framing)."""


ROUTER_FEATURES: tuple[tuple[str, str], ...] = (
    ("callee", "call_canceling"),
    ("callee", "registration_revocation"),
    ("subscriber", "subscription_revocation"),
)
"""The client features (role, feature) the router acts on."""

Features = frozenset[tuple[str, str]]

# Every set of ROUTER_FEATURES a client can announce, once: at most 2**3 entries.
_SHARED: dict[Features, Features] = {}


def announced_features(roles: dict[str, Any] | None) -> Features:
    """Which of ROUTER_FEATURES HELLO's ``roles`` announce (``True``), as a set shared
    by every session that announced the same: a session keeps it, not the decoded
    roles (a dozen objects per idle session)."""
    found = frozenset(pair for pair in ROUTER_FEATURES if _announces(roles or {}, *pair))
    return _SHARED.setdefault(found, found)


def _announces(roles: dict[str, Any], role: str, feature: str) -> bool:
    announced = roles.get(role)
    if not isinstance(announced, dict):
        return False
    features = announced.get("features")
    return isinstance(features, dict) and features.get(feature) is True


class Peer(Protocol):
    """Where a joined session's messages go."""

    def send(self, message: Message) -> None:
        """Queue one message for this peer."""

    def send_shared(self, message: Message, cache: EncodingCache) -> None:
        """Queue a message that also goes to other peers (encode it once, via ``cache``)."""

    def kill(self, reason: str, message: str | None) -> None:
        """The realm ends the session: say GOODBYE with ``reason`` (and leave)."""

    def fail(self, error: ProtocolError) -> None:
        """The session broke the protocol in a message handled late (after waiting for
        its authorizer): ABORT it, as if the violation had been found on arrival."""


class RouterSession:
    """One joined session: who it is, what it announced, and its peer.

    ``roles`` are the client's roles from HELLO (with their features); the session
    keeps which of ROUTER_FEATURES they announce (``features``), which the realm
    reads to decide, for instance, whether a callee can be sent INTERRUPT.
    ``details`` is what the meta API and ``wamp.session.on_join`` publish.
    """

    __slots__ = (
        "authextra",
        "authid",
        "authmethod",
        "authprovider",
        "authrole",
        "calls",
        "features",
        "id",
        "invocations",
        "peer",
        "realm",
        "request_ids",
        "transport",
    )

    def __init__(
        self,
        session_id: int,
        realm: str,
        peer: Peer,
        *,
        authid: str,
        authrole: str,
        authmethod: str = "anonymous",
        authprovider: str = "static",
        authextra: dict[str, Any] | None = None,
        roles: dict[str, Any] | None = None,
        transport: dict[str, Any] | None = None,
    ) -> None:
        self.id = session_id
        self.realm = realm
        self.peer = peer
        self.authid = authid
        self.authrole = authrole
        self.authmethod = authmethod
        self.authprovider = authprovider
        self.authextra = authextra or {}
        self.features = announced_features(roles)
        self.transport = transport or {}
        self.request_ids = SequentialIds()  # for the INVOCATIONs the router sends it
        # The dealer's calls in flight of this session, as caller (by CALL request id)
        # and as callee (by INVOCATION request id): kept with the session, they are
        # found without building a key and are at hand when it leaves.
        self.calls: dict[int, _Call] = {}
        self.invocations: dict[int, _Call] = {}

    def __repr__(self) -> str:
        return (
            f"RouterSession(id={self.id}, realm={self.realm!r}, authid={self.authid!r}, "
            f"authrole={self.authrole!r})"
        )

    def has_feature(self, role: str, feature: str) -> bool:
        """Whether the client announced ``feature`` for ``role`` in HELLO (one of
        ROUTER_FEATURES: the session keeps no other)."""
        return (role, feature) in self.features

    def details(self) -> dict[str, Any]:
        """The session as the meta API describes it (``wamp.session.get``)."""
        return {
            "session": self.id,
            "realm": self.realm,
            "authid": self.authid,
            "authrole": self.authrole,
            "authmethod": self.authmethod,
            "authprovider": self.authprovider,
            "authextra": self.authextra,
            "transport": self.transport,
        }

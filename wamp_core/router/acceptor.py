"""The acceptor: the router's side of opening a session (``basic/session.md``,
``advanced/authentication.md``).

One per connection, before WELCOME::

    HELLO -> [realm known?] -> [an authmethod of the client's, in its order, that the
             transport allows] -> principal (static, or a dynamic authenticator's answer)
          -> CHALLENGE <-> AUTHENTICATE (zero or one round) -> WELCOME | ABORT

The realm is resolved first (an unknown one is ABORT ``wamp.error.no_such_realm``).
A dynamic authenticator is a procedure registered in a realm: the acceptor calls it
through the realm's dealer as the router's own trusted session (Crossbar.io's
``authenticate(realm, authid, details)``), so neither a socket nor the host is
involved, and resumes when its RESULT or ERROR comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wamp_core.messages import Abort, Authenticate, Challenge, Hello, Message, Welcome
from wamp_core.router.auth import (
    AUTHENTICATION_FAILED,
    Accept,
    Ask,
    Deny,
    Lookup,
    Verifier,
    authenticator_details,
    create_verifier,
    find_principal,
)
from wamp_core.router.features import ROUTER_ROLES

if TYPE_CHECKING:
    from wamp_core.router.realm import Realm
    from wamp_core.router.router import Router

__all__ = ["Acceptor", "Admitted", "TransportAuth"]

TransportAuth = Mapping[str, Mapping[str, Any]]
"""A transport's ``auth`` section in Crossbar.io's form: method -> its configuration
(``{"type": "static", "principals": {...}}``, ``{"type": "dynamic", "authenticator":
URI, "authenticator-realm": realm}``, ``{"type": "static", "role": ...}`` for anonymous)."""

NO_SUCH_REALM = "wamp.error.no_such_realm"
NO_AUTH_METHOD = "wamp.error.no_auth_method"
NO_SUCH_ROLE = "wamp.error.no_such_role"


@dataclass(frozen=True, slots=True)
class Admitted:
    """The acceptor's result: WELCOME was sent for this identity in ``realm``."""

    realm: Realm
    session_id: int
    accept: Accept
    roles: dict[str, Any]


class Acceptor:
    """One session opening. Feed it HELLO and AUTHENTICATE (:meth:`receive`); it sends
    CHALLENGE, WELCOME or ABORT through ``send`` and reports the end through
    ``done`` (an :class:`Admitted` or the :class:`Abort` sent). ``channel_id`` is the
    TLS channel binding the host knows (for cryptosign's ``tls-unique``)."""

    def __init__(
        self,
        router: Router,
        auth: TransportAuth,
        *,
        send: Callable[[Message], None],
        done: Callable[[Admitted | Abort], None],
        channel_id: bytes | None = None,
        transport: Mapping[str, Any] | None = None,
    ) -> None:
        self._router = router
        self._auth = auth
        self._send = send
        self._done = done
        self._channel_id = channel_id
        self._transport = dict(transport or {})
        self._hello: Hello | None = None
        self._realm: Realm | None = None
        self._session_id = 0
        self._verifier: Verifier | None = None
        self._assigned_realm: object = None  # a principal's "realm" (Crossbar.io's redirect)
        self._waiting = False  # for a dynamic authenticator's answer
        self._finished = False

    @property
    def waiting(self) -> bool:
        """Whether the acceptor waits for a dynamic authenticator (input is not expected)."""
        return self._waiting

    def receive(self, message: Message) -> bool:
        """Handle HELLO or AUTHENTICATE; False for a message that does not belong here
        (the caller's protocol violation)."""
        if self._finished or self._waiting:
            return False
        if type(message) is Hello and self._hello is None:
            self._on_hello(message)
            return True
        if type(message) is Authenticate and self._verifier is not None:
            verifier, self._verifier = self._verifier, None
            self._resolve(verifier.authenticate(message.signature, message.extra))
            return True
        return False

    def cancel(self) -> None:
        """The connection is gone: ignore whatever answer comes later."""
        if not self._finished:
            self._finished = True
            self._release()

    def _release(self) -> None:
        if self._session_id:
            self._router.release_session_id(self._session_id)
            self._session_id = 0

    # -- HELLO ------------------------------------------------------------------------

    def _on_hello(self, hello: Hello) -> None:
        self._hello = hello
        realm = self._router.realms.get(hello.realm)
        if realm is None:
            self._deny(Deny(NO_SUCH_REALM, f"no realm {hello.realm!r} exists on this router"))
            return
        self._realm = realm
        self._session_id = self._router.new_session_id()
        offered = hello.details.get("authmethods") or ["anonymous"]
        method = next((m for m in offered if m in self._auth), None)
        if not isinstance(offered, list) or method is None:
            text = f"cannot authenticate using any of the offered authmethods {offered!r:.80}"
            self._deny(Deny(NO_AUTH_METHOD, text))
            return
        config = self._auth[method]
        if config.get("type") == "dynamic":
            self._ask_authenticator(method, config)
        else:
            self._static(method, config)

    def _static(self, method: str, config: Mapping[str, Any]) -> None:
        hello = self._checked_hello()
        if method == "anonymous":
            principal: object = {"role": config.get("role", "anonymous")}
            authid = hello.details.get("authid")
        else:
            principals = config.get("users" if method == "wampcra" else "principals") or {}
            found = find_principal(
                method, principals, hello.details.get("authid"), hello.details.get("authextra")
            )
            if isinstance(found, Deny):
                self._deny(found)
                return
            authid, principal = found
        self._start(method, authid, principal, "static")

    def _start(self, method: str, authid: object, principal: object, provider: str) -> None:
        hello = self._checked_hello()
        self._assigned_realm = _realm_of(principal)
        verifier = create_verifier(
            method,
            realm=hello.realm,
            authid=authid if isinstance(authid, str) else None,
            hello_details=hello.details,
            principal=principal,
            provider=provider,
            session_id=self._session_id,
            random_bytes=self._router.random_bytes,
            channel_id=self._channel_id,
            timestamp=self._router.timestamp(),
        )
        step = verifier.challenge()
        if isinstance(step, Ask):
            self._verifier = verifier
            self._send(Challenge(step.method, step.extra))
        else:
            self._resolve(step)

    # -- dynamic authenticators -------------------------------------------------------

    def _ask_authenticator(self, method: str, config: Mapping[str, Any]) -> None:
        hello = self._checked_hello()
        if method == "ticket":
            # The ticket comes with AUTHENTICATE: challenge first, ask then (Lookup).
            self._start(method, hello.details.get("authid"), None, "dynamic")
            return
        details = authenticator_details(
            method,
            session_id=self._session_id,
            hello_details=hello.details,
            transport=self._transport,
        )
        self._call_authenticator(config, details, lambda answer: self._dynamic(method, answer))

    def _call_authenticator(
        self, config: Mapping[str, Any], details: dict[str, Any], then: Callable[[object], None]
    ) -> None:
        hello = self._checked_hello()
        realm_name = config.get("authenticator-realm") or hello.realm
        realm = self._router.realms.get(realm_name)
        procedure = config.get("authenticator")
        if realm is None or not isinstance(procedure, str):
            self._deny(Deny(AUTHENTICATION_FAILED, "the dynamic authenticator is not reachable"))
            return
        self._waiting = True
        args = [hello.realm, hello.details.get("authid"), details]

        def answered(result: list[Any] | None, error: str | None, message: str) -> None:
            if self._finished:
                return
            self._waiting = False
            if error is not None:
                self._deny(Deny(error, message))
            else:
                then(result[0] if result else None)

        realm.internal_call(procedure, args, answered)

    def _dynamic(self, method: str, answer: object) -> None:
        # create_verifier checks the answer: an unusable one is a Deny, not an exception.
        self._start(method, self._checked_hello().details.get("authid"), answer, "dynamic")

    # -- the end ----------------------------------------------------------------------

    def _resolve(self, step: Accept | Deny | Lookup) -> None:
        if isinstance(step, Lookup):
            config = self._auth["ticket"]
            hello = self._checked_hello()
            details = authenticator_details(
                "ticket",
                session_id=self._session_id,
                hello_details=hello.details,
                transport=self._transport,
                ticket=step.ticket,
            )
            self._call_authenticator(config, details, lambda answer: self._looked_up(step, answer))
        elif isinstance(step, Accept):
            self._welcome(step)
        else:
            self._deny(step)

    def _looked_up(self, step: Lookup, answer: object) -> None:
        self._assigned_realm = _realm_of(answer)
        self._resolve(step.finish(answer))

    def _welcome(self, accept: Accept) -> None:
        realm = self._realm
        if isinstance(self._assigned_realm, str):  # checked by the verifier: a non-empty str
            realm = self._router.realms.get(self._assigned_realm)
            if realm is None:
                text = f"the principal's realm {self._assigned_realm!r} does not exist"
                self._deny(Deny(NO_SUCH_REALM, text))
                return
        assert realm is not None
        if accept.authrole not in realm.roles:
            self._deny(Deny(NO_SUCH_ROLE, f"no role {accept.authrole!r} on realm {realm.name!r}"))
            return
        self._finished = True
        details: dict[str, Any] = {
            "realm": realm.name,
            "authid": accept.authid,
            "authrole": accept.authrole,
            "authmethod": accept.authmethod,
            "authprovider": accept.authprovider,
            "roles": ROUTER_ROLES,
        }
        if accept.authextra:
            details["authextra"] = accept.authextra
        self._send(Welcome(self._session_id, details))
        roles = self._checked_hello().details.get("roles")
        self._done(
            Admitted(realm, self._session_id, accept, roles if isinstance(roles, dict) else {})
        )

    def _deny(self, deny: Deny) -> None:
        self._finished = True
        self._release()
        abort = Abort(deny.error, {"message": deny.message})
        self._send(abort)
        self._done(abort)

    def _checked_hello(self) -> Hello:
        assert self._hello is not None
        return self._hello


def _realm_of(principal: object) -> object:
    """The realm a principal assigns, if any: as in Crossbar.io it overrides HELLO's."""
    return principal.get("realm") if isinstance(principal, Mapping) else None

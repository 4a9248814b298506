"""The lifecycle hooks of a session, the same in both adapters: the snake_case
defaults (``Session``) and Autobahn's camelCase names mapped onto them
(``ApplicationSession``). Adapters add how hooks run and how errors are logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wamp_core.application.host import FutureT, RequestT, SessionEvent, SessionHost
from wamp_core.application.requests import apply_join, handlers_to_subscribe, procedures_to_register
from wamp_core.events import Challenged, Joined, Left
from wamp_core.exception import ApplicationError, SessionNotReady
from wamp_core.serializers import Serializer
from wamp_core.transports import TransportClosed, TransportOpened
from wamp_core.types import (
    Challenge,
    CloseDetails,
    ComponentConfig,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)

__all__ = ["AutobahnHooks", "SessionHooks", "session_details"]


def session_details(joined: Joined, serializer: Serializer | None) -> SessionDetails:
    """What ``on_join`` gets: the WELCOME's facts and the negotiated serializer."""
    return SessionDetails(
        realm=joined.realm,
        session=joined.session_id,
        authid=joined.authid,
        authrole=joined.authrole,
        authmethod=joined.authmethod,
        authprovider=joined.authprovider,
        authextra=joined.authextra,
        serializer=serializer.NAME if serializer else None,
    )


class SessionHooks(SessionHost[FutureT, RequestT]):
    """Default hooks; a subclass overrides the ones it needs (plain or async). The
    adapter's Session implements the SessionHost methods (``FutureT``: its futures,
    ``RequestT``: what register and subscribe return)."""

    # What the adapter's Session provides, besides the SessionHost methods.
    config: ComponentConfig
    details: SessionDetails | None

    def join(
        self,
        realm: str,
        authmethods: list[str] | None = None,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
        **ignored: Any,
    ) -> None:
        """Send HELLO for ``realm`` (``authmethods`` the application answers in on_challenge)."""
        connection = self._connection()
        if connection is None:
            raise SessionNotReady("the session has no transport")
        apply_join(connection.session, realm, authmethods, authid, authrole, authextra)
        connection.session.join(now=self._clock())
        self._flush()

    def register(
        self,
        endpoint: Callable[..., Any] | object,
        procedure: str | None = None,
        options: RegisterOptions | None = None,
        prefix: str | None = None,
        check_types: bool | None = None,
    ) -> RequestT:
        """Send REGISTER for a function under ``procedure`` (or its ``@wamp.register``
        URI), or for every ``@wamp.register``-decorated method of an object (under
        ``prefix``); the result gives the Registration (a list, for an object)."""
        core = self._joined_core("register")
        many, items = procedures_to_register(endpoint, procedure, options, prefix)
        return self._issue(lambda: [core.register(*item) for item in items], many)

    def subscribe(
        self,
        handler: Callable[..., Any] | object,
        topic: str | None = None,
        options: SubscribeOptions | None = None,
        check_types: bool | None = None,
    ) -> RequestT:
        """Send SUBSCRIBE for a function (or every ``@wamp.subscribe``-decorated method
        of an object); each handler gets the events in publication order. The result
        gives the Subscription (a list, for an object)."""
        core = self._joined_core("subscribe")
        many, items = handlers_to_subscribe(handler, topic, options)
        return self._issue(lambda: [core.subscribe(*item) for item in items], many)

    def is_connected(self) -> bool:
        connection = self._connection()
        return connection is not None and not connection.closed

    def is_attached(self) -> bool:
        connection = self._connection()
        return connection is not None and connection.session.is_joined

    @property
    def session_id(self) -> int | None:
        connection = self._connection()
        return connection.session.session_id if connection is not None else None

    def lifecycle_event(self, event: SessionEvent) -> None:
        """Turn the core's session events into hook calls, in Autobahn's order:
        on_connect; on_challenge; on_welcome then on_join; on_leave; on_disconnect
        once on_leave has finished."""
        if isinstance(event, TransportOpened):
            self._run_hook(self.on_connect, "on_connect")
        elif isinstance(event, Challenged):
            self._run_challenge(Challenge(event.method, event.extra))
        elif isinstance(event, Joined):
            connection = self._connection()
            self.details = session_details(event, connection.serializer if connection else None)
            self._run_hook(self.on_welcome, "on_welcome", event)
            self._run_hook(self.on_join, "on_join", self.details)
        elif isinstance(event, Left):
            details = CloseDetails(event.reason, event.message)
            self._session_over(details)
            self._run_hook(self.on_leave, "on_leave", details)
        elif isinstance(event, TransportClosed):
            self._session_over(None)
            self._run_hook(self.on_disconnect, "on_disconnect", after_leave=True)

    def on_connect(self) -> Any:
        """The transport is open: join (the default joins ``config.realm``)."""
        return self.join(self.config.realm or "realm1")

    def on_challenge(self, challenge: Challenge) -> Any:
        """Answer a challenge no configured authenticator handles: return the signature."""
        raise ApplicationError(
            ApplicationError.AUTHENTICATION_FAILED, f"no answer for a {challenge.method} challenge"
        )

    def on_welcome(self, welcome: Any) -> Any:
        """WELCOME arrived (before on_join)."""

    def on_join(self, details: SessionDetails) -> Any:
        """The session is open."""

    def on_leave(self, details: CloseDetails) -> Any:
        """The session ended; the default closes the transport, as Autobahn does."""
        return self.disconnect()

    def on_disconnect(self) -> Any:
        """The transport closed."""

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        """Application code raised where nobody awaits it (the adapter logs it)."""
        raise NotImplementedError


class AutobahnHooks(SessionHooks[FutureT, RequestT]):
    """Autobahn's camelCase callbacks: override ``onJoin`` & co.; each default does
    what the snake_case hook of the class after this one in the MRO does."""

    def on_connect(self) -> Any:
        return self.onConnect()

    def on_challenge(self, challenge: Challenge) -> Any:
        return self.onChallenge(challenge)

    def on_welcome(self, welcome: Any) -> Any:
        return self.onWelcome(welcome)

    def on_join(self, details: SessionDetails) -> Any:
        return self.onJoin(details)

    def on_leave(self, details: CloseDetails) -> Any:
        return self.onLeave(details)

    def on_disconnect(self) -> Any:
        return self.onDisconnect()

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        self.onUserError(fail, msg)

    def onConnect(self) -> Any:
        return super().on_connect()

    def onChallenge(self, challenge: Challenge) -> Any:
        return super().on_challenge(challenge)

    def onWelcome(self, welcome: Any) -> Any:
        return super().on_welcome(welcome)

    def onJoin(self, details: SessionDetails) -> Any:
        return super().on_join(details)

    def onLeave(self, details: CloseDetails) -> Any:
        return super().on_leave(details)

    def onDisconnect(self) -> Any:
        return super().on_disconnect()

    def onUserError(self, fail: BaseException, msg: str) -> None:
        super().on_user_error(fail, msg)

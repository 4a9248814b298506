"""Handles for what the router granted: publications, subscriptions, registrations.

As in Autobahn (``autobahn.wamp.request``), and re-exported by :mod:`wamp_core.types`.
The core creates them; releasing one (``unsubscribe()``/``unregister()``) delegates
to a callable the adapter injects, so the handle stays free of any event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from .exception import SessionNotReady

__all__ = ["Publication", "Registration", "Subscription"]


class Publication:
    """An acknowledged publication (what ``publish(..., acknowledge=True)`` returns)."""

    __slots__ = ("_id", "_was_encrypted")

    def __init__(self, publication_id: int, was_encrypted: bool = False):
        self._id = publication_id
        self._was_encrypted = was_encrypted

    @property
    def id(self) -> int:
        """The publication ID the broker assigned."""
        return self._id

    @property
    def was_encrypted(self) -> bool:
        """Whether the payload was end-to-end encrypted."""
        return self._was_encrypted

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Publication):
            return NotImplemented
        return (self._id, self._was_encrypted) == (other._id, other._was_encrypted)

    def __hash__(self) -> int:
        return hash((self._id, self._was_encrypted))

    def __repr__(self) -> str:
        return f"Publication(id={self._id}, was_encrypted={self._was_encrypted})"


class _Handle:
    """What subscriptions and registrations share: an ID, a session, an active flag.

    Handles compare by identity: two handlers on one subscription ID are two handles.
    """

    __slots__ = ("_active", "_id", "_release", "_session")

    _kind: ClassVar[str] = "handle"

    def __init__(self, handle_id: int, session: Any, release: Callable[[Any], Any] | None):
        self._id = handle_id
        self._session = session
        self._active = True
        self._release = release

    @property
    def id(self) -> int:
        """The ID the router assigned."""
        return self._id

    @property
    def session(self) -> Any:
        """The session (façade object) this handle lives on, if the adapter set one."""
        return self._session

    @property
    def active(self) -> bool:
        """False once released by the application, the session or the router."""
        return self._active

    def deactivate(self) -> None:
        """Mark the handle inactive (the session calls this on leave or revocation)."""
        self._active = False

    def _call_release(self) -> Any:
        """Run the injected release callable; mark inactive only if it did not raise."""
        if not self._active:
            raise ValueError(f"{self._kind} {self._id} is no longer active")
        if self._release is None:
            raise SessionNotReady(f"{self._kind} {self._id} is not attached to a session")
        outcome = self._release(self)
        self._active = False
        return outcome


class Subscription(_Handle):
    """A handler's subscription (what ``subscribe()`` returns).

    ``on_unsubscribe`` is called with this handle by :meth:`unsubscribe`; the adapter
    provides it and its return value (a Deferred, an awaitable) is returned as is.
    """

    __slots__ = ("_handler", "_topic")
    _kind = "subscription"

    def __init__(
        self,
        subscription_id: int,
        topic: str,
        session: Any = None,
        handler: Callable[..., Any] | None = None,
        *,
        on_unsubscribe: Callable[[Subscription], Any] | None = None,
    ):
        _Handle.__init__(self, subscription_id, session, on_unsubscribe)
        self._topic = topic
        self._handler = handler

    @property
    def topic(self) -> str:
        """The topic URI or pattern subscribed to."""
        return self._topic

    @property
    def handler(self) -> Callable[..., Any] | None:
        """The event handler."""
        return self._handler

    def unsubscribe(self) -> Any:
        """Release this handler's subscription (``ValueError`` if no longer active)."""
        return self._call_release()

    def __repr__(self) -> str:
        return f"Subscription(id={self._id}, topic={self._topic!r}, active={self._active})"


class Registration(_Handle):
    """A registered endpoint (what ``register()`` returns).

    Positional order is Autobahn's ``(session, registration_id, procedure, endpoint)``.
    ``on_unregister`` is called with this handle by :meth:`unregister`.
    """

    __slots__ = ("_endpoint", "_procedure")
    _kind = "registration"

    def __init__(
        self,
        session: Any,
        registration_id: int,
        procedure: str,
        endpoint: Callable[..., Any] | None = None,
        *,
        on_unregister: Callable[[Registration], Any] | None = None,
    ):
        _Handle.__init__(self, registration_id, session, on_unregister)
        self._procedure = procedure
        self._endpoint = endpoint

    @property
    def procedure(self) -> str:
        """The procedure URI or pattern registered."""
        return self._procedure

    @property
    def endpoint(self) -> Callable[..., Any] | None:
        """The endpoint callable."""
        return self._endpoint

    def unregister(self) -> Any:
        """Release this registration (``ValueError`` if no longer active)."""
        return self._call_release()

    def __repr__(self) -> str:
        return f"Registration(id={self._id}, procedure={self._procedure!r}, active={self._active})"

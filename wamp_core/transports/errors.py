"""The errors of the transports (see :mod:`wamp_core.transports.base`)."""

from __future__ import annotations

from wamp_core.exception import Error, ProtocolError

__all__ = [
    "ClosedByPeer",
    "HandshakeError",
    "MessageTooBig",
    "MessageTooBigToSend",
    "TransportNotOpen",
]


class HandshakeError(Error):
    """The router refused the opening handshake or answered it wrongly.

    For a refused WebSocket upgrade ``status_code`` is the HTTP status and ``body``
    the start of the response body (bounded).
    """

    def __init__(
        self,
        text: str,
        *,
        status_code: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ):
        super().__init__(text)
        self.status_code = status_code
        self.headers = headers
        self.body = body


class MessageTooBig(ProtocolError):
    """The router sent a message over our limit (WebSocket close code 1009)."""

    def __init__(self, size: int, limit: int, *, at_least: bool = False):
        # A WebSocket message is refused while it is still arriving, so only a lower
        # bound of its size is known; a RawSocket header gives the exact length.
        bound = "at least " if at_least else ""
        super().__init__(f"incoming message of {bound}{size} bytes exceeds the limit of {limit}")
        self.size = size
        self.limit = limit


class ClosedByPeer(ProtocolError):
    """The router closed the WebSocket with a code other than a normal one."""

    def __init__(self, text: str, code: int, reason: str):
        super().__init__(text)
        self.code = code
        self.reason = reason


class MessageTooBigToSend(Error, ValueError):
    """``send_message`` was given more than the router accepts (nothing was queued)."""


class TransportNotOpen(Error):
    """``send_message`` before the opening handshake finished (nothing was queued)."""

"""Transport framing state machines: WebSocket (RFC 6455, h11 for the upgrade) and RawSocket,
each as a client and as a server (for an embedded router).

All are driven the same way (see :class:`Transport`); a server starts by waiting for
the client's handshake instead of sending one::

    transport = RawSocketClientTransport("msgpack")      # or WebSocketClientTransport(...)
    sock.sendall(transport.data_to_send())               # the opening handshake
    transport.receive_data(sock.recv(65536), now)        # b"" on EOF
    for event in transport.events():                     # TransportOpened, MessageReceived,
        ...                                              # TransportClosed (always last)
    sock.sendall(transport.data_to_send())
    timer.arm(transport.next_deadline())                 # -> transport.handle_timer(now)
"""

from wamp_core.transports.base import (
    ClientTransport,
    ClosedByPeer,
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    Transport,
    TransportClosed,
    TransportEvent,
    TransportNotOpen,
    TransportOpened,
    TransportState,
)
from wamp_core.transports.rawsocket import RawSocketClientTransport, rawsocket_length_exponent
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket import WebSocketClientTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

__all__ = [
    "ClientTransport",
    "ClosedByPeer",
    "HandshakeError",
    "MessageReceived",
    "MessageTooBig",
    "MessageTooBigToSend",
    "RawSocketClientTransport",
    "RawSocketServerTransport",
    "Transport",
    "TransportClosed",
    "TransportEvent",
    "TransportNotOpen",
    "TransportOpened",
    "TransportState",
    "WebSocketClientTransport",
    "WebSocketServerTransport",
    "rawsocket_length_exponent",
]

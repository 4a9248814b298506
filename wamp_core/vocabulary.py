"""The protocol's small vocabularies, defined once for every layer that checks them.

Messages (wire checks), types (application options), uri, the session, the router
and the adapters import these; none of them spells a list of its own.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CANCEL_MODES",
    "INVOKE_POLICIES",
    "MATCH_POLICIES",
    "MAX_ID",
    "PPT_CIPHERS",
    "PPT_SERIALIZERS",
]

MAX_ID: Final = 9007199254740992
"""2^53, the largest id the spec allows (ids are in [1, 2^53]). A literal, and
``Final``: compiled code then inlines it instead of looking up a global."""

MATCH_POLICIES: Final = ("exact", "prefix", "wildcard")
"""The values ``SUBSCRIBE``/``REGISTER`` ``Options.match`` may take."""

INVOKE_POLICIES: Final = ("single", "roundrobin", "random", "first", "last")
"""The values ``REGISTER.Options.invoke`` may take (shared registrations)."""

CANCEL_MODES: Final = ("skip", "kill", "killnowait")
"""The values ``CANCEL.Options.mode`` may take."""

PPT_SERIALIZERS: Final = ("native", "json", "msgpack", "cbor", "flatbuffers", "ubjson")
"""The standard ``ppt_serializer`` values of payload passthru (on the wire, an
application's own ``x_...`` is accepted too)."""

PPT_CIPHERS: Final = ("xsalsa20poly1305", "aes256gcm")
"""The standard ``ppt_cipher`` values (on the wire, ``x_...`` is accepted too)."""

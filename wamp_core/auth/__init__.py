"""Client-side WAMP authentication: anonymous, ticket, WAMP-CRA, cryptosign and SCRAM.

Each authenticator implements :class:`Authenticator`; the session asks it for
the HELLO fields, hands it each CHALLENGE and the WELCOME, and turns an
:class:`~wamp_core.exception.AuthenticationError` into an ABORT. The pure
functions are Autobahn-compatible where Autobahn has an equivalent.

Cryptosign and SCRAM's argon2 need the optional crypto extra
(``pip install wamp-sansio[crypto]``); it is imported only when used.
"""

from __future__ import annotations

from wamp_core.auth._base import AuthAnonymous, AuthBase, Authenticator, AuthTicket
from wamp_core.auth._cryptosign import CHANNEL_BINDINGS, AuthCryptosign
from wamp_core.auth._cryptosign_key import (
    CryptosignKey,
    cryptosign_channel_id,
    cryptosign_sign,
    cryptosign_verify,
)
from wamp_core.auth._factory import AUTHMETHODS, create_authenticator
from wamp_core.auth._saslprep import saslprep
from wamp_core.auth._scram import SCRAM_CHANNEL_BINDINGS, AuthScram, ScramCostLimits
from wamp_core.auth._scram_math import (
    scram_auth_message,
    scram_client_proof,
    scram_escape,
    scram_salted_password,
    scram_server_key,
    scram_server_signature,
    scram_stored_key,
)
from wamp_core.auth._wampcra import (
    WCS_SECRET_CHARSET,
    AuthWampCra,
    compute_wcs,
    derive_key,
    generate_wcs,
)

__all__ = [
    "AUTHMETHODS",
    "CHANNEL_BINDINGS",
    "SCRAM_CHANNEL_BINDINGS",
    "WCS_SECRET_CHARSET",
    "AuthAnonymous",
    "AuthBase",
    "AuthCryptosign",
    "AuthScram",
    "AuthTicket",
    "AuthWampCra",
    "Authenticator",
    "CryptosignKey",
    "ScramCostLimits",
    "compute_wcs",
    "create_authenticator",
    "cryptosign_channel_id",
    "cryptosign_sign",
    "cryptosign_verify",
    "derive_key",
    "generate_wcs",
    "saslprep",
    "scram_auth_message",
    "scram_client_proof",
    "scram_escape",
    "scram_salted_password",
    "scram_server_key",
    "scram_server_signature",
    "scram_stored_key",
]

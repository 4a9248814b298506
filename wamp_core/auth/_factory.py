"""Build an authenticator from its WAMP authmethod name, as Autobahn's factory does."""

from __future__ import annotations

from typing import Any

from wamp_core.auth._base import AuthAnonymous, Authenticator, AuthTicket
from wamp_core.auth._cryptosign import AuthCryptosign
from wamp_core.auth._cryptosign_key import CryptosignKey
from wamp_core.auth._scram import AuthScram
from wamp_core.auth._wampcra import AuthWampCra

__all__ = ["AUTHMETHODS", "create_authenticator"]

_SCRAM_CONVENTIONS = {"scram": "crossbar", "wamp-scram": "spec"}

AUTHMETHODS = ("anonymous", "ticket", "wampcra", "cryptosign", "scram", "wamp-scram")
"""The authmethod names :func:`create_authenticator` knows."""


def create_authenticator(name: str, **kwargs: Any) -> Authenticator:
    """The authenticator for authmethod ``name``, configured with ``kwargs``.

    The keyword arguments are the class's own (``authid``, ``ticket``,
    ``secret``, ``key``, ``password``, ...). For cryptosign, Autobahn's
    ``privkey`` (the hex seed) is accepted in place of ``key``. ``"scram"``
    selects Crossbar.io's SCRAM convention and ``"wamp-scram"`` the spec's.
    Unknown names and conflicting arguments raise ValueError; arguments the
    class does not take raise TypeError.
    """
    if name == "anonymous":
        return AuthAnonymous(**kwargs)
    if name == "ticket":
        return AuthTicket(**kwargs)
    if name == "wampcra":
        return AuthWampCra(**kwargs)
    if name == "cryptosign":
        if "privkey" in kwargs:
            if "key" in kwargs:
                raise ValueError("give cryptosign either key or privkey, not both")
            kwargs["key"] = CryptosignKey.from_hex(kwargs.pop("privkey"))
        return AuthCryptosign(**kwargs)
    if name in _SCRAM_CONVENTIONS:
        convention = _SCRAM_CONVENTIONS[name]
        if kwargs.setdefault("convention", convention) != convention:
            raise ValueError(f"authmethod {name!r} is the {convention!r} SCRAM convention")
        return AuthScram(**kwargs)
    raise ValueError(f"unknown authmethod {name!r}; known: {', '.join(AUTHMETHODS)}")

"""Autobahn's ``autobahn.wamp.protocol`` names that applications check against
(``isinstance(reg, wamp.protocol.Registration)``)."""

from wamp_core.request import Publication, Registration, Subscription

__all__ = ["Publication", "Registration", "Subscription"]

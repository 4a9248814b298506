"""wamp_twisted: WAMP for Twisted on the Sans-IO wamp_core, with Autobahn's
``autobahn.twisted.wamp`` façade (an Autobahn program ports by changing imports)."""

from wamp_twisted.protocol import WampClientFactory, WampProtocol
from wamp_twisted.runner import ApplicationRunner
from wamp_twisted.session import ApplicationSession, ApplicationSessionFactory, Session
from wamp_twisted.wamp import Application, Service

__all__ = [
    "Application",
    "ApplicationRunner",
    "ApplicationSession",
    "ApplicationSessionFactory",
    "Service",
    "Session",
    "WampClientFactory",
    "WampProtocol",
]

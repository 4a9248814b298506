"""Twisted adapter for wamp_core (the autobahn.twisted.wamp façade). Not written yet."""

__all__: list[str] = []

"""Small Twisted helpers (Autobahn's ``autobahn.twisted.util``)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, task

__all__ = ["sleep"]


def sleep(delay: float, reactor: Any = None) -> defer.Deferred[None]:
    """A Deferred that fires with None after ``delay`` seconds (cancelable)."""
    if reactor is None:
        from twisted.internet import reactor as default_reactor  # noqa: PLC0415

        reactor = default_reactor
    return task.deferLater(reactor, delay, lambda: None)

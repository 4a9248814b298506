"""The global Twisted reactor in a background thread, for in-process integration tests.

Twisted's global reactor runs once per process and cannot be restarted, so
:class:`ReactorThread` runs it in a daemon thread for the whole pytest session
(:meth:`ReactorThread.shared`; the fixture stops it at the session's end), and a
test hands its scenario to it with :meth:`ReactorThread.run`: the scenario (an
``async def`` or a function returning a Deferred) runs in the reactor thread,
bounded by a timeout, and its result or exception comes back to the test.

Everything a scenario does with Twisted objects happens in the reactor thread;
the test thread only waits. Blocking work (stopping or starting a Crossbar node)
belongs in the test thread between two ``run()`` calls, or in the reactor's
thread pool (``deferToThread``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from twisted.python.failure import Failure

from wamp_twisted.protocol import call_deferred

__all__ = ["ReactorThread"]

GRACE = 5.0  # seconds past a scenario's own timeout before the test thread gives up


class ReactorThread:
    """The global reactor, running in a daemon thread (see the module docstring)."""

    _shared: ClassVar[ReactorThread | None] = None

    def __init__(self) -> None:
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self._thread = threading.Thread(target=self._main, name="twisted-reactor", daemon=True)
        self._stopped = False

    @classmethod
    def shared(cls) -> ReactorThread:
        """The one reactor thread of this process, started on first use."""
        if cls._shared is None:
            if cls._reactor_used():
                raise RuntimeError("the global Twisted reactor ran already in this process")
            cls._shared = cls()
            cls._shared._thread.start()
            cls._shared.run(lambda: None, timeout=30)  # returns once the reactor runs
        elif cls._shared._stopped:
            raise RuntimeError("the reactor thread was stopped and cannot start again")
        return cls._shared

    @staticmethod
    def _reactor_used() -> bool:
        from twisted.internet import reactor

        return bool(getattr(reactor, "running", False) or getattr(reactor, "_startedBefore", False))

    def _main(self) -> None:
        # Signal handlers belong to the main thread (pytest's own).
        self.reactor.run(installSignalHandlers=False)

    def run(self, scenario: Callable[..., Any], *args: Any, timeout: float) -> Any:
        """Run ``scenario(*args)`` in the reactor thread and return its result (or
        raise its exception). After ``timeout`` seconds the scenario is canceled
        (``Deferred.addTimeout``: a ``TimeoutError``); should it not even end then,
        the test thread gives up a little later with a TimeoutError of its own."""
        outcome: queue.Queue[Any] = queue.Queue()

        def start() -> None:
            running = call_deferred(scenario, *args)
            running.addTimeout(timeout, self.reactor)
            running.addBoth(outcome.put)

        self.reactor.callFromThread(start)
        try:
            result = outcome.get(timeout=timeout + GRACE)
        except queue.Empty:
            raise TimeoutError(f"the scenario did not end within {timeout + GRACE} s") from None
        if isinstance(result, Failure):
            result.raiseException()
        return result

    def stop(self) -> None:
        """Stop the reactor (its shutdown triggers run) and wait for the thread."""
        if self._stopped:
            return
        self._stopped = True
        self.reactor.callFromThread(self.reactor.stop)
        self._thread.join(timeout=30)

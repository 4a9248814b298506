"""Autobahn's ``Component`` and ``run()`` on wamp_anyio (asyncio by default, trio by
choice): ``from autobahn.asyncio.component import Component, run`` ports as
``from wamp_anyio.component import Component, run``.

Everything but connecting, sleeping and running is
``wamp_core.application.component``'s (shared with wamp_twisted). Better than
Autobahn's: a router that comes up late is retried; a component that fails does not
stop the others in ``run()``; ``start()`` runs in the loop that awaits it; the
``giveup`` event says when every transport has given up; ``authentication`` may be a
callable called before each attempt; after a reconnect, ``procedure_already_exists``
is retried for a while; keep-alive pings are on by default.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from wamp_anyio._run import Transport, run_session
from wamp_anyio.session import Session
from wamp_core.application.component import ComponentBase, LogLevel
from wamp_core.application.transports import TransportConfig

__all__ = ["Component", "run"]

log = logging.getLogger("wamp_anyio.component")


class Component(ComponentBase):
    """A WAMP application component (Autobahn's constructor, decorators and events)."""

    session_factory: Any = Session

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stopped: anyio.Event | None = None

    async def start(self, loop: Any = None) -> Any:
        """Run in the calling task until done; returns what ``main`` returned."""
        self._stopped = anyio.Event()
        return await self._run(loop)

    async def _connect_and_run(self, config: TransportConfig, make: Callable[[], Any]) -> None:
        transport = _transport(config, self.authentication())
        stream = await transport.open()
        await run_session(make(), transport, stream, self.realm)

    async def _sleep(self, delay: float) -> None:
        assert self._stopped is not None
        with anyio.move_on_after(delay):
            await self._stopped.wait()

    def _wake(self) -> None:
        if self._stopped is not None:
            self._stopped.set()

    async def _pause(self, delay: float) -> None:
        await anyio.sleep(delay)

    def _main_loop_argument(self) -> object:
        """What Autobahn passes ``main`` first: the asyncio loop (None on trio)."""
        try:
            import asyncio  # noqa: PLC0415 (only meaningful under asyncio)

            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    def _log(self, level: LogLevel, text: str) -> None:
        getattr(log, level)(text)


def _transport(config: TransportConfig, authentication: Any) -> Transport:
    """Our Transport for one of the component's."""
    options = config.keepalive_options()
    return Transport(
        config.url,
        serializers=config.serializers,
        authentication=authentication,
        ssl=config.tls,
        proxy=config.proxy,
        headers=config.headers,
        websocket_options=options.pop("websocket_options", None),
        session_options=options,
    )


def run(
    components: Component | Sequence[Component],
    log_level: str | None = "info",
    *,
    backend: str = "asyncio",
) -> None:
    """Start the components and run until every one is done (SIGINT or SIGTERM make
    them leave cleanly). One that fails is logged and does not stop the others."""
    if isinstance(components, Component):
        components = [components]
    if log_level:
        logging.basicConfig(level=getattr(logging, log_level.upper()))
    anyio.run(_run_all, list(components), backend=backend)


async def _run_all(components: list[Component]) -> None:
    async def one(component: Component) -> None:
        try:
            await component.start()
        except Exception:
            log.exception("component %r failed", component)

    async def on_signals() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as received:
            async for _ in received:
                for component in components:
                    component.stop()

    async with anyio.create_task_group() as outer:
        outer.start_soon(on_signals)
        async with anyio.create_task_group() as running:
            for component in components:
                running.start_soon(one, component)
        outer.cancel_scope.cancel()

"""An opt-in pytest plugin: a real router for your tests, in-process, in milliseconds.

Enable it in your ``conftest.py`` with ``pytest_plugins = ["wamp_anyio.pytest_plugin"]``
(it needs anyio's pytest plugin, which anyio installs), then::

    @pytest.mark.anyio
    async def test_add(wamp_router):
        async with wamp_router.connect("realm1") as backend:
            await backend.register(lambda a, b: a + b, "com.app.add")
            async with wamp_anyio.connect(wamp_router.url, "realm1") as client:
                assert await client.call("com.app.add", 2, 3) == 5

``wamp_router`` is a :class:`wamp_anyio.Server`: realm ``realm1`` (anonymous may do
everything), WebSocket and RawSocket listeners on free loopback ports
(``wamp_router.urls``), and ``connect()`` for sessions joined in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from wamp_anyio.serve import Listen, Server, serve

__all__ = ["wamp_router"]


@pytest.fixture
async def wamp_router() -> AsyncIterator[Server]:
    async with serve([Listen("websocket", port=0), Listen("rawsocket", port=0)]) as server:
        yield server

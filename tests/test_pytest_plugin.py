"""The opt-in pytest plugin's ``wamp_router`` fixture, as a user's test uses it."""

from __future__ import annotations

import pytest

import wamp_anyio
from wamp_anyio.pytest_plugin import wamp_router  # noqa: F401 (the fixture, as the plugin gives it)
from wamp_anyio.serve import Server

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_the_router_fixture(wamp_router: Server) -> None:  # noqa: F811
    assert [url.split(":")[0] for url in wamp_router.urls] == ["ws", "rs"]
    async with wamp_router.connect("realm1") as backend:
        await backend.register(lambda a, b: a + b, "com.app.add")
        for url in wamp_router.urls:
            async with wamp_anyio.connect(url, "realm1") as client:
                assert await client.call("com.app.add", 2, 3) == 5

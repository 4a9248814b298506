"""anyio adapter for wamp_core (asyncio and trio). Not written yet."""

__all__: list[str] = []

"""``ApplicationRunner`` apart from the event loop: its settings (Autobahn's
constructor, checked once) and its reconnect loop, as a coroutine both adapters run
with their own connect, sleep and log.

The loop: connect and run one session; without ``auto_reconnect`` that is all (a
failure to connect is raised). With it, wait ``backoff.delay(n)`` and connect again,
until ``stop()`` or until ``backoff`` allows no further attempt (a failure to connect
is then raised; a session that ended is not an error). A session that joined starts
the backoff again.
"""

from __future__ import annotations

import random as _random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from wamp_core.application.backoff import Backoff
from wamp_core.application.proxy import proxy_address
from wamp_core.application.url import TransportUrl, parse_url
from wamp_core.types import ComponentConfig

__all__ = ["RunnerBase", "reconnect_loop"]


class RunnerBase:
    """The settings of ``ApplicationRunner`` and its reconnect loop."""

    def __init__(
        self,
        url: str,
        realm: str | None = None,
        extra: Any = None,
        serializers: Sequence[str] | None = None,
        ssl: Any = None,
        proxy: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        websocket_options: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        initial_retry_delay: float | None = None,
        max_retry_delay: float | None = None,
        retry_delay_growth: float | None = None,
        retry_delay_jitter: float | Callable[[], float] | None = None,
        *,
        authentication: Mapping[str, Any] | None = None,
    ):
        self.url = url
        self.target: TransportUrl = parse_url(url)
        self.realm = realm
        self.extra = extra if extra is not None else {}
        self.serializers = serializers
        self.ssl = ssl
        if proxy is not None:  # a wrong proxy fails here, not at the first connect
            proxy_address(proxy)
            if self.target.unix_path is not None:
                raise ValueError("an HTTP proxy cannot reach a Unix socket: use proxy=None")
        self.proxy = proxy
        self.headers = headers
        self.websocket_options = websocket_options
        self.authentication = authentication
        retry: dict[str, Any] = {
            "max_retries": max_retries,
            "initial_retry_delay": initial_retry_delay,
            "max_retry_delay": max_retry_delay,
            "retry_delay_growth": retry_delay_growth,
            "retry_delay_jitter": retry_delay_jitter,
        }
        # Any one of them alone is fine (Autobahn crashes with only max_retries).
        self.backoff = Backoff(**{k: v for k, v in retry.items() if v is not None})
        self.random: Callable[[], float] = _random.random

    def session_config(self) -> ComponentConfig:
        return ComponentConfig(realm=self.realm, extra=self.extra, runner=self)


async def reconnect_loop(
    connect_once: Callable[[], Awaitable[bool]],
    sleep: Callable[[float], Awaitable[None]],
    log: Callable[[str], None],
    backoff: Backoff | None,
    stopping: Callable[[], bool],
    random: Callable[[], float],
    url: str,
) -> None:
    """Run sessions (``connect_once()``: run one, True if it joined; raises if it cannot
    connect) until done, as the module docstring says. ``sleep`` returns early when
    the runner is stopped; ``stopping()`` says whether it was."""
    attempt = 0
    while not stopping():
        try:
            joined = await connect_once()
        except Exception as exc:
            if backoff is None or not backoff.may_retry(attempt):
                raise
            if not stopping():
                log(f"cannot connect to {url}: {exc}")
        else:
            if backoff is None:
                return
            if joined:
                attempt = 0  # it joined: start the backoff again
            if not backoff.may_retry(attempt):
                return
        if stopping():
            return
        delay = backoff.delay(attempt, random)
        attempt += 1
        log(f"reconnecting to {url} in {delay:.2f} s (attempt {attempt})")
        await sleep(delay)

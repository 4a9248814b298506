"""The embedded router on loopback in a thread of its own (anyio's blocking portal), for
tests whose own code blocks: the command line run as a subprocess, the blocking client.
It serves realm ``realm1`` (anonymous, every permission) and realm ``secure`` (one
static principal per authentication method), and records why each session left."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

import wamp_anyio
from wamp_anyio import Listen
from wamp_core.auth import CryptosignKey
from wamp_core.router import ALLOW_ALL, RealmConfig, Role
from wamp_core.router.auth import scram_principal, wampcra_principal

SEED = bytes(range(32))
KEY = CryptosignKey.from_seed(SEED)
AUTH: dict[str, Any] = {
    "ticket": {"type": "static", "principals": {"joe": {"ticket": "t1ck3t", "role": "user"}}},
    "wampcra": {
        "type": "static",
        "users": {"ann": {**wampcra_principal("s3cret"), "role": "user"}},
    },
    "cryptosign": {
        "type": "static",
        "principals": {"cy": {"authorized_keys": [KEY.public_key_hex()], "role": "user"}},
    },
    "scram": {
        "type": "static",
        "principals": {
            "sam": scram_principal("pa55", b"saltsalt", kdf="pbkdf2", iterations=4096, role="user")
        },
    },
}
REALMS = (RealmConfig("realm1"), RealmConfig("secure", (Role("user", (ALLOW_ALL,)),)))
_LEFT = re.compile(r"session (\d+) left realm (\S+): (\S+)")


@dataclass
class RunningRouter:
    portal: BlockingPortal
    server: Any
    urls: list[str]  # ws:// and rs:// (anonymous), then ws:// with every auth method
    leaves: list[tuple[int, str]] = field(default_factory=list)  # (session id, reason)
    left: threading.Condition = field(default_factory=threading.Condition)

    @property
    def ws(self) -> str:
        return self.urls[0]

    @property
    def rs(self) -> str:
        return self.urls[1]

    @property
    def secure(self) -> str:
        return self.urls[2]

    def wait_for_leave(self, reason: str, *, after: int = 0, timeout: float = 20.0) -> bool:
        """Wait until a session left with ``reason``, among those that left after the
        first ``after``."""
        with self.left:
            return self.left.wait_for(
                lambda: any(why == reason for _, why in self.leaves[after:]), timeout
            )

    @contextmanager
    def callee(self, register: Callable[[Any], Any]) -> Iterator[Any]:
        """An in-memory session joined to realm1 in the router's thread; ``register``
        (a coroutine function) is awaited with it first."""
        with self.portal.wrap_async_context_manager(self.server.connect()) as session:
            self.portal.call(register, session)
            yield session


class _Leaves(logging.Handler):
    def __init__(self, router: RunningRouter) -> None:
        super().__init__(logging.INFO)
        self.router = router

    def emit(self, record: logging.LogRecord) -> None:
        match = _LEFT.search(record.getMessage())
        if match:
            with self.router.left:
                self.router.leaves.append((int(match.group(1)), match.group(3)))
                self.router.left.notify_all()


@contextmanager
def threaded_router() -> Iterator[RunningRouter]:
    listens = [
        Listen("websocket", port=0),
        Listen("rawsocket", port=0),
        Listen("websocket", port=0, auth=AUTH),
    ]
    logger = logging.getLogger("wamp_anyio.router")
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(wamp_anyio.serve(listens, REALMS)) as server,
    ):
        router = RunningRouter(portal, server, list(server.urls))
        handler = _Leaves(router)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield router
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

"""ApplicationRunner's shared settings and reconnect loop (wamp_core.application.runner),
driven with scripted attempts: what both adapters' runners do between sessions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wamp_core.application import Backoff
from wamp_core.application.runner import RunnerBase, reconnect_loop


def loop(
    script: list[Any],
    backoff: Backoff | None,
    stop_after: int | None = None,
    stop_in_sleep: bool = False,
) -> tuple[list[str], list[float], int]:
    """Run reconnect_loop over ``script`` (True/False: a session that joined or not;
    an exception: a failed connect). Returns the log, the waits, attempts made."""
    logged: list[str] = []
    waits: list[float] = []
    attempts = [0]

    async def connect_once() -> bool:
        attempts[0] += 1
        step = script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return bool(step)

    async def sleep(delay: float) -> None:
        waits.append(delay)
        if stop_in_sleep:
            stopped.append(True)  # stop() wakes the sleep

    stopped: list[bool] = []

    def stopping() -> bool:
        return bool(stopped) or (stop_after is not None and attempts[0] >= stop_after)

    asyncio.run(
        reconnect_loop(connect_once, sleep, logged.append, backoff, stopping, lambda: 0.0, "ws://r")
    )
    return logged, waits, attempts[0]


BACKOFF = Backoff(max_retries=2, initial_retry_delay=1, retry_delay_growth=2, retry_delay_jitter=0)


def test_without_backoff_one_session_and_failures_raise() -> None:
    assert loop([False], None) == ([], [], 1)
    with pytest.raises(OSError):
        loop([OSError("refused")], None)


def test_failures_back_off_until_the_retries_run_out() -> None:
    with pytest.raises(OSError):
        loop([OSError("a"), OSError("b"), OSError("c")], BACKOFF)
    logged, waits, attempts = loop([OSError("a"), False, False], BACKOFF)
    assert waits == [1.0, 2.0] and attempts == 3
    assert logged[0] == "cannot connect to ws://r: a"
    assert logged[1] == "reconnecting to ws://r in 1.00 s (attempt 1)"


def test_a_join_starts_the_backoff_again() -> None:
    _, waits, attempts = loop([False, True, False, False], BACKOFF)
    assert waits == [1.0, 1.0, 2.0] and attempts == 4


def test_stopping() -> None:
    logged, waits, attempts = loop([True, True], BACKOFF, stop_after=1)
    assert (waits, attempts) == ([], 1)
    logged, waits, attempts = loop([OSError("while stopping")], BACKOFF, stop_after=1)
    assert logged == [] and waits == []
    _, waits, attempts = loop([False, False], BACKOFF, stop_in_sleep=True)
    assert (waits, attempts) == ([1.0], 1)


def test_runner_settings() -> None:
    runner = RunnerBase("ws://127.0.0.1:8080/ws", "realm1", max_retries=3)
    assert runner.backoff.max_retries == 3 and runner.extra == {}
    config = runner.session_config()
    assert (config.realm, config.runner) == ("realm1", runner)
    with pytest.raises(ValueError, match="Unix"):
        RunnerBase("rs+unix:///tmp/x", proxy={"host": "p", "port": 1})
    with pytest.raises(ValueError):
        RunnerBase("ws://x/ws", proxy={"host": "", "port": 1})
    assert RunnerBase("ws://x/ws", proxy={"host": "p", "port": 1}).proxy == {"host": "p", "port": 1}

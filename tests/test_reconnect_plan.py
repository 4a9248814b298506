"""The reconnect decisions over a list of transports (time and randomness passed in)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wamp_core.application.reconnect import Attempt, ReconnectPlan, RetrySettings


def no_jitter() -> float:
    return 0.0


def test_autobahn_component_defaults() -> None:
    assert RetrySettings() == RetrySettings(-1, 1.5, 300.0, 1.5, 0.1)


def test_one_transport_backs_off_then_gives_up() -> None:
    plan = ReconnectPlan(
        [RetrySettings(max_retries=3, initial_retry_delay=1, retry_delay_growth=2)], no_jitter
    )
    delays = []
    while (attempt := plan.next()) is not None:
        delays.append(attempt.delay)
    assert delays == [0.0, 1.0, 2.0, 4.0]  # the first try, then three retries
    assert plan.gave_up()
    assert plan.next() is None


def test_transports_are_tried_in_turn_each_with_its_own_count() -> None:
    fast = RetrySettings(max_retries=1, initial_retry_delay=1, retry_delay_growth=1)
    slow = RetrySettings(max_retries=2, initial_retry_delay=10, retry_delay_growth=1)
    plan = ReconnectPlan([fast, slow], no_jitter)
    attempts = []
    while (attempt := plan.next()) is not None:
        attempts.append(attempt)
    assert attempts == [
        Attempt(0, 0.0),
        Attempt(1, 0.0),
        Attempt(0, 1.0),
        Attempt(1, 10.0),
        Attempt(1, 10.0),  # the first transport is used up: skipped
    ]


def test_a_join_resets_its_transport_and_is_tried_first_again() -> None:
    plan = ReconnectPlan([RetrySettings(max_retries=1), RetrySettings(max_retries=1)], no_jitter)
    assert plan.next() == Attempt(0, 0.0)
    assert plan.next() == Attempt(1, 0.0)
    plan.joined(1)
    assert plan.attempts == (1, 0)
    assert plan.next() == Attempt(1, 0.0)
    assert plan.next() == Attempt(0, 1.5)


def test_forever_and_never() -> None:
    plan = ReconnectPlan([RetrySettings(max_retries=-1, max_retry_delay=5)], no_jitter)
    for _ in range(100):
        assert plan.next() is not None
    assert plan.next() == Attempt(0, 5.0)  # capped
    once = ReconnectPlan([RetrySettings(max_retries=0)], no_jitter)
    assert once.next() == Attempt(0, 0.0)
    assert once.next() is None


def test_jitter_and_huge_growth() -> None:
    settings = RetrySettings(initial_retry_delay=2, retry_delay_jitter=0.5, max_retry_delay=1e9)
    assert settings.delay(1, lambda: 0.5) == 2.5
    assert RetrySettings(retry_delay_growth=1e300).delay(5, no_jitter) == 300.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -2},
        {"max_retries": 1.5},
        {"initial_retry_delay": -1},
        {"max_retry_delay": float("inf")},
        {"retry_delay_jitter": "x"},
        {"retry_delay_growth": 0.5},
    ],
)
def test_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetrySettings(**kwargs)  # type: ignore[arg-type]


def test_a_plan_needs_a_transport() -> None:
    with pytest.raises(ValueError):
        ReconnectPlan([], no_jitter)


@given(
    st.lists(st.integers(-1, 4), min_size=1, max_size=4),
    st.lists(st.integers(0, 3), max_size=20),
)
def test_a_plan_ends_unless_a_transport_retries_for_ever(
    retries: list[int], joins: list[int]
) -> None:
    plan = ReconnectPlan([RetrySettings(max_retries=r) for r in retries], no_jitter)
    steps = 0
    while (attempt := plan.next()) is not None and steps < 200:
        steps += 1
        assert 0 <= attempt.transport < len(retries)
        assert attempt.delay >= 0
        if joins and joins[0] == steps % 4:
            plan.joined(attempt.transport)
            joins.pop(0)
    if -1 not in retries:
        assert attempt is None and plan.gave_up()

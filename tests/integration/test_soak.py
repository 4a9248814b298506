"""A short soak (issue 15): 8 reconnecting clients over asyncio, trio and Twisted while
our router is killed (SIGKILL) and started again on the same ports, 3 times.

The machinery is benchmarks/soak.py's (benchmarks/_soak_run.py, one client process
per event loop, benchmarks/_soak_client.py): each restart waits for conditions only
(the router accepting connections again, every client joined again and served since
the kill), each bounded by a fail-safe timeout. Asserted: no request hung (every call
has a timeout; none may go unanswered past timeout + margin), no unhandled exception
in any client process or the router, every callee's registration back after every
restart, every call either succeeded or failed with a clear WAMP/transport error, and
every event expected at a subscriber that stayed connected arrived.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks._soak_run import SoakConfig, SoakRouter, our_router, run_soak, summarize

RESTARTS = 3
ROLES = {
    "asyncio": ["caller", "callee", "subscriber"],
    "trio": ["caller", "callee", "publisher"],
    "twisted": ["callee", "subscriber"],
}
CLEAR = ("TransportLost", "SessionNotReady", "wamp.error.")


def test_clients_survive_router_restarts(tmp_path: Path) -> None:
    config = SoakConfig(
        roles=ROLES,
        restarts=RESTARTS,
        interval=0.0,  # kill as soon as the system is whole again
        restore_timeout=20.0,  # fail-safe only
        call_timeout=2.0,
        margin=5.0,
        call_pause=0.01,
        publish_pause=0.05,
        served=10,  # per session: a few deliveries before each kill to check
        deliver_margin=0.2,
    )
    result = run_soak(
        SoakRouter(our_router("asyncio"), tmp_path / "router"), config, tmp_path, say=print
    )
    row = summarize(result)
    context = f"{row}\n{result.stderr_tails}"

    assert row["restarts"] == RESTARTS
    assert row["restored"] == RESTARTS, context  # every client joined and was served again
    assert row["registrations_restored"] == RESTARTS, context
    assert row["calls_hung"] == 0 and row["publishes_hung"] == 0, context
    assert row["unhandled"] == 0 and row["router_tracebacks"] == 0, context
    assert not row["broken_processes"] and not row["stop_timed_out"], context
    assert row["calls_ok"] > 0 and row["acked"] > 0, context
    assert row["calls_wrong"] == 0, context
    assert row["calls_ok"] + row["calls_failed"] == row["calls"], context
    for kind in row["failures"]:
        assert kind.split(":", 1)[1].startswith(CLEAR), context  # no unclear error
    assert row["deliveries_expected"] > 0, context
    assert row["deliveries_received"] == row["deliveries_expected"], context
    # The callees share the registration (roundrobin): each of them was invoked.
    assert len(row["invocations"]) == 3 and min(row["invocations"].values()) > 0, context
    # Every client joined again exactly once after each restart.
    assert row["reconnects"] == RESTARTS * sum(len(r) for r in ROLES.values()), context

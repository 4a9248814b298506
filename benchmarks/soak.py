"""Soak: 20 reconnecting clients over asyncio, trio and Twisted while the router is
killed (SIGKILL) and started again on the same ports every few seconds (issue 15).

Clients (benchmarks/_soak_client.py, one process per event loop: asyncio 7, trio 7,
Twisted 6): 6 callers (2 calls at a time each, a call timeout of ``--call-timeout``
seconds), 5 callees sharing one registration (``invoke: roundrobin``), 3 publishers
(acknowledged publications) and 6 subscribers; reconnecting Components
(wamp_anyio.component, wamp_twisted.component), WebSocket and RawSocket, json,
msgpack and cbor in turn.

Routers (``--routers``, each run in turn): ours served by asyncio (``ours``, or
``ours-trio``, ``ours-twisted``: ``python -m wamp_anyio serve`` / ``python -m
wamp_twisted serve`` with benchmarks/_router_procs.py's node configuration) and
Crossbar.io (``crossbar``: ``$WAMP_CROSSBAR`` or .nox/crossbar).

The router is killed once it has run ``--interval`` seconds and every client has
joined again and been served since the previous kill (bounded by a fail-safe); see
benchmarks/_soak_run.py for the procedure and what "expected" deliveries are.

Reported per router: calls made / succeeded / failed with a clear error (a WAMP
error URI, TransportLost, SessionNotReady) / hung (no answer within the call timeout
+ ``--margin``), acknowledged publications and the deliveries expected at subscribers
that stayed connected / received, reconnects, the time from the router listening
again to each callee's registration being back (median and max), client and router
RSS at start (after the first restart) and at the end, open fds and tasks (asyncio
tasks, trio tasks, Twisted delayed calls) at start, at the end, and after leaving.

Client RSS is measured warm: "start" is taken once the first restart is restored (the
imports, the first connections, the loops' own pools are in by then), "end" after the
last restart, both after a gc.collect(); the soak's own records (events received,
publications, one record per session) grow by design and are taken out of the target.
The RSS after every restart gives the curve and the growth of its first half against
its second: a leak grows alike in both, a warm-up mostly in the first. ``--trace``
adds tracemalloc snapshots (mark, half-way, end) and prints what grew between them by
allocation site (tracing costs memory of its own: not for the target). What it found
(600 s, our router on asyncio, 105 restarts, 2,100 reconnects; three client processes
together): RSS +3.3% (+2.1% in the first half, +1.3% in the second), of which 1.2 MiB
the records; the Python heap grew by ~0.65 MiB per process, about half of it the
records (Attempt objects, their arrays and tag keys), the rest small caches that stop
growing by the second half; live objects +1,300 per process (~12 per restart: the
records). No table of the client runtime grows with calls or reconnects; the rest of
the RSS growth is the allocator (freed memory not given back to the OS), which slows
down over the run.

Targets, PASS or MISS: 0 hung requests, 0 unhandled exceptions (client logs at
ERROR, unclear errors, router tracebacks, a client process that failed), every
registration restored after each restart, every expected delivery received, client
RSS growth < 10% (meaningful over the full ``--duration``; ``--quick`` is ~60 s).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _router_procs import RouterKind, crossbar, ours, ours_twisted
from _soak_run import SoakConfig, SoakRouter, run_soak, summarize, verdicts
from _variant import wamp_core_build

from tests.integration.crossbar_node import find_crossbar

MB = 1024 * 1024


def router_kind(name: str) -> RouterKind | None:
    if name in ("ours", "ours-asyncio"):
        return ours("asyncio")
    if name == "ours-trio":
        return ours("trio")
    if name == "ours-twisted":
        return ours_twisted()
    if name == "crossbar":
        executable = find_crossbar()
        return crossbar(executable) if executable else None
    raise SystemExit(f"unknown router {name!r}")


def fmt_seconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} s"


def rows(row: dict[str, Any]) -> list[tuple[str, str]]:
    rss0, rss1 = row["client_rss"]
    r0, r1 = row["router_rss"]
    growth = (rss1 - rss0) / rss0 if rss0 else float("nan")
    out = [
        ("run (s) / clients", f"{row['seconds']:.0f} / {row['clients']}"),
        ("restarts (all whole again)", f"{row['restarts']} ({row['restored']})"),
        ("calls made", str(row["calls"])),
        ("  succeeded", str(row["calls_ok"])),
        ("  failed, clear error", str(row["calls_failed"])),
        ("  wrong result", str(row["calls_wrong"])),
        ("  hung", str(row["calls_hung"])),
        ("publications made / acked", f"{row['publishes']} / {row['acked']}"),
        ("  hung", str(row["publishes_hung"])),
        ("deliveries expected", str(row["deliveries_expected"])),
        ("  received", str(row["deliveries_received"])),
        ("invocations per callee min / max", _spread(row["invocations"])),
        ("reconnects", str(row["reconnects"])),
        (
            "re-register median / max",
            f"{fmt_seconds(row['reregister_median'])} / {fmt_seconds(row['reregister_max'])}",
        ),
        ("registrations restored", f"{row['registrations_restored']} / {row['restarts']}"),
        ("client RSS start -> end", f"{rss0 / MB:.1f} -> {rss1 / MB:.1f} MiB ({growth:+.1%})"),
        ("  of which the soak's records", f"{row['client_records_growth'] / MB:.1f} MiB"),
        ("  growth 1st half / 2nd half", _halves(row["client_rss_curve"])),
        ("client RSS after restarts (MiB)", _curve(row["client_rss_curve"])),
        ("router RSS first -> last", f"{r0 / MB:.1f} -> {r1 / MB:.1f} MiB"),
        ("unhandled exceptions (clients)", str(row["unhandled"])),
        ("router tracebacks", str(row["router_tracebacks"])),
    ]
    for loop, (start, end) in row["client_rss_by_loop"].items():
        out.append((f"{loop} client RSS start -> end", f"{start / MB:.1f} -> {end / MB:.1f} MiB"))
    for loop, stats in row["end"].items():
        parts = []
        for when in ("mark", "end", "after"):
            s = stats.get(when) or {}
            parts.append(f"{s.get('fds', '?')}/{s.get('tasks', '?')}")
        out.append((f"{loop} fds/tasks start, end, left", " ; ".join(parts)))
    return out


def _halves(curve: list[int]) -> str:
    """The growth of the first half of the curve and of the second (each of the start):
    a leak grows alike in both, a warm-up mostly in the first."""
    if len(curve) < 3:
        return "n/a"
    start, mid, end = curve[0], curve[len(curve) // 2], curve[-1]
    return f"{(mid - start) / start:+.1%} / {(end - mid) / start:+.1%}"


def _curve(curve: list[int], points: int = 8) -> str:
    if not curve:
        return "n/a"
    step = max(1, len(curve) // points)
    picked = curve[::step] if curve[::step][-1] == curve[-1] else [*curve[::step], curve[-1]]
    return " ".join(f"{rss / MB:.1f}" for rss in picked)


def _spread(counts: dict[str, int]) -> str:
    return f"{min(counts.values())} / {max(counts.values())}" if counts else "n/a"


def print_table(summaries: list[dict[str, Any]]) -> None:
    table = [rows(s) for s in summaries]
    width = max(len(label) for label, _ in table[0])
    cols = [
        max(len(s["router"]), *(len(v) for _, v in t))
        for s, t in zip(summaries, table, strict=True)
    ]
    header = " | ".join(s["router"].ljust(c) for s, c in zip(summaries, cols, strict=True))
    print(f"{'':{width}} | {header}")
    print("-" * (width + 3 + len(header)))
    for i, (label, _) in enumerate(table[0]):
        values = " | ".join(
            t[i][1].ljust(c) if i < len(t) else "" for t, c in zip(table, cols, strict=True)
        )
        print(f"{label:{width}} | {values}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--quick", action="store_true", help="~60 s per router")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--routers", default="ours,crossbar")
    parser.add_argument("--call-timeout", type=float, default=3.0)
    parser.add_argument("--margin", type=float, default=5.0)
    parser.add_argument("--json", help="also write the summaries to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any MISS")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="clients take tracemalloc snapshots (mark, half-way, end) and report the top"
        " growth between them (tracing inflates the RSS figures: not for the targets)",
    )
    opts = parser.parse_args()
    duration = 60.0 if opts.quick else opts.duration
    print(wamp_core_build())
    print(f"soak: {duration:.0f} s per router, killed every {opts.interval:.0f} s or more; "
          "20 clients: asyncio 7, trio 7, twisted 6")  # fmt: skip
    summaries = []
    verdict_ok = True
    for name in opts.routers.split(","):
        kind = router_kind(name)
        if kind is None:
            print(f"{name}: not available, skipped")
            continue
        config = SoakConfig(
            duration=duration,
            interval=opts.interval,
            call_timeout=opts.call_timeout,
            margin=opts.margin,
            trace=opts.trace,
        )
        with tempfile.TemporaryDirectory(prefix="wamp-soak-") as tmp:
            node_dir = Path(tmp)
            print(f"{kind.name}:")
            result = run_soak(SoakRouter(kind, node_dir / "router"), config, node_dir)
            row = summarize(result)
            for text in row["router_traceback_texts"]:
                print(f"  router traceback:\n{text}")
            if row["unhandled"] or row["unclear"]:
                print(f"  unhandled: {row['unhandled_texts']} unclear: {row['unclear']}")
                for loop, tail in result.stderr_tails.items():
                    if tail.strip():
                        print(f"  {loop} stderr tail:\n{tail}")
        print(f"  failures by kind: {row['failures']}")
        for loop, growth in row["client_trace"].items():
            for span, lines in growth.items():
                print(f"  {loop} tracemalloc growth {span}:")
                for line in lines:
                    print(f"    {line}")
        summaries.append(row)
        for target, ok in verdicts(row).items():
            print(f"  {'PASS' if ok else 'MISS'}: {target}")
            verdict_ok = verdict_ok and ok
    if summaries:
        print()
        print_table(summaries)
    if opts.json:
        Path(opts.json).write_text(json.dumps(summaries, indent=2, default=str))
    return 1 if opts.strict and not verdict_ok else 0


if __name__ == "__main__":
    sys.exit(main())

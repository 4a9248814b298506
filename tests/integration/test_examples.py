"""Every example, the demo and the README's snippets, run against a real Crossbar.io node.

Each one runs as a subprocess, the way a user runs it, with ``WAMP_URL`` and
``WAMP_REALM`` pointing at the session's ``crossbar`` node; a test checks its exit
code, that nothing printed a traceback, and a few key lines of its output.

To stay fast, a module fixture starts the processes of every selected test up front,
a few at a time (each example works in a URI namespace of its own, so they do not
disturb each other), and each with a timeout, so nothing hangs. Examples that run
on both backends run once per backend (``WAMP_BACKEND``), in a second wave, so that
no two runs of one example ever overlap.

The Autobahn ports in ``examples/anyio/autobahn_port``, and every Twisted example
in ``examples/twisted`` (each one an Autobahn Twisted program), also run as the
Autobahn programs they were ported from (their original import lines are in their
header comment) when Autobahn is installed, which shows that only the imports
differ. Where Autobahn behaves differently, the run says so in its expectations.

The Autobahn originals run once more against our router served by asyncio and by
Twisted (the ``ours-asyncio`` and ``ours-twisted`` nodes of the ``router`` fixture:
``python -m wamp_anyio serve`` / ``python -m wamp_twisted serve`` on the same node
configuration; ids ending in ``@ours-asyncio``, ``@ours-twisted``): Autobahn's own
clients against our router; our anyio ports run against ``ours-asyncio`` too
(:data:`OUR_ROUTERS`). Where our router answers differently from Crossbar.io,
:data:`OURS_EXPECT` says how.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.integration.crossbar_node import CrossbarNode
from tests.integration.our_node import backend_available

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"
RUN_TIMEOUT = 60.0  # seconds for one example (they take 1-3 s)
MAX_PARALLEL = 6  # processes at once (the machine may have few cores; some examples time things)
HAVE_AUTOBAHN = importlib.util.find_spec("autobahn") is not None
# The routers the Autobahn ports run against besides Crossbar.io, and which runs: every
# Autobahn original on both (Autobahn's clients against our router, served by asyncio
# and by Twisted), our anyio ports on ours-asyncio. To stay within CI's time, our
# Twisted ports run against Crossbar.io only (tests/test_twisted_serve.py has our
# Twisted client against our router).
OUR_ROUTERS = {
    "ours-asyncio": ("original", "anyio port"),
    "ours-twisted": ("original",),
}


def run_kind(run: Run) -> str:
    if run.source is not None:
        return "original"
    return "anyio port" if run.id.startswith("autobahn_port/") else "twisted port"


@dataclass(frozen=True)
class Run:
    """One process to run and what its output must contain."""

    id: str
    argv: tuple[str, ...] = ()  # relative to ROOT; the interpreter is prepended
    source: str | None = None  # a program written to a file first (README, Autobahn)
    backend: str | None = None  # WAMP_BACKEND, or None to leave it unset
    expect: tuple[str, ...] = ()  # substrings the standard output must contain
    wave: int = 0
    returncode: int = 0
    allow_traceback: bool = False  # Autobahn logs tracebacks of procedures that raise
    marks: tuple[pytest.MarkDecorator, ...] = field(default_factory=tuple)
    router: str = "crossbar"  # a parameter of the router fixture


# ------------------------------------------------------------------ what runs

ANYIO_EXAMPLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # file: (backends, the first one is the example's default; expected output)
    "rpc_arguments.py": (
        ("asyncio", "trio"),
        (
            "ping() -> None",
            "add2(2, 3) -> 5",
            "stars() -> somebody starred 0x",
            "stars(nick='Homer', stars=5) -> Homer starred 5x",
            "orders('coffee', limit=2) -> ['coffee #0', 'coffee #1']",
            "arglen(1, 2, 3, a=1, b=2) -> [3, 2]",
            "done: both sessions left",
        ),
    ),
    "rpc_complex.py": (
        ("asyncio", "trio"),
        (
            "add_complex: 6 + 8i",
            "split_name: forename Homer, surname Simpson",
            "stats: args=[1, 5] kwargs={'mean': 2.8}",
            "disconnected",
        ),
    ),
    "rpc_errors.py": (
        ("asyncio", "trio"),
        (
            "checkname('Homer') -> ApplicationError com.example.errors.mixed_case "
            "args=['homer', 'HOMER'] kwargs={}",
            "checkname('foo') -> ApplicationError com.example.errors.reserved args=[] kwargs={}",
            "checkname('homer') -> 'homer is fine'",
            "kwargs={'min': 3, 'max': 10}",
            "order('donut', 12) -> OutOfStock: only 3 donuts left",
            "compare(1, 10) -> TooSmall: off by 9",
            "sqrt(-1) -> ApplicationError wamp.error.runtime_error",
            "nonexistent() -> ApplicationError wamp.error.no_such_procedure",
        ),
    ),
    "rpc_progress.py": (
        ("trio", "asyncio"),
        (
            "progress: 3 (remaining=3)",
            "progress: 1 (remaining=1)",
            "final result: liftoff",
            "final result: liftoff (no progress asked)",
        ),
    ),
    "rpc_options.py": (
        ("asyncio", "trio"),
        (
            "slow(0.1) with timeout 0.5 s -> slept 0.1 s",
            "slow(5) with timeout 0.5 s -> wamp.error.timeout after 0.5 s",
            "callee: slow() was interrupted",
            "(the caller: True), authrole anonymous",
            "service.start(1, 2) -> start(1, 2)",
            "service.stop(1, 2) -> stop(1, 2)",
        ),
    ),
    "rpc_decorators.py": (
        ("asyncio", "trio"),
        (
            "registered com.example.decorators.add2",
            "registered com.example.decorators.square",
            "add2(2, 3) -> 5",
            "square(7) -> 49",
            "whoami() -> this session: True",
            "the service answered 3 calls",
        ),
    ),
    "rpc_slow.py": (
        ("trio", "asyncio"),
        ("finished in the order [2, 3, 1]",),
    ),
    "rpc_cancel.py": (
        ("asyncio", "trio"),
        (
            "caller: gave up waiting after 0.3 s: True",
            "callee: slow-mirror was interrupted while fetching file.txt",
            "caller: first answer: image.png from fast-mirror",
            "callee: slow-mirror was interrupted while fetching image.png",
            "caller: one more call: notes.md from fast-mirror",
        ),
    ),
    "pubsub_basic.py": (
        ("asyncio", "trio"),
        (
            "subscriber: got 1 apples",
            "subscriber: received [0, 1, 2, 3, 4], in order: True",
        ),
    ),
    "pubsub_options.py": (
        ("asyncio", "trio"),
        (
            "publisher: the broker acknowledged publication",
            "publisher received ['to everybody', 'to all but alice']",
            "alice     received ['to everybody else', 'to everybody', 'to alice only']",
            "bob       received ['to everybody else', 'to everybody', 'to all but alice']",
            "by publisher)",
        ),
    ),
    "pubsub_decorators.py": (
        ("asyncio", "trio"),
        (
            "subscribed to com.example.decorators.alarm",
            "subscribed to com.example.decorators.temperature",
            "temperature: 22.0 C",
            "alarm: low in kitchen (on topic com.example.decorators.alarm)",
            "alarm: high in ?",
            "all events received, leaving",
            "disconnected",
        ),
    ),
    "pubsub_unsubscribe.py": (
        ("asyncio", "trio"),
        (
            "a and b share the router subscription: True",
            "unsubscribed a (active: False); b stays subscribed",
            "a got [1, 2, 3], b got [1, 2, 3, 4, 5]",
            "unsubscribed b (active: False): the router subscription is gone",
            "subscribed a again: a new subscription: True",
            "a got [1, 2, 3, 7], b got [1, 2, 3, 4, 5]",
        ),
    ),
    "pubsub_events.py": (
        ("trio", "asyncio"),
        (
            "reading 0: 20.5 C from kitchen (from_producer=True)",
            "reading 7: 22.1 C from kitchen (from_producer=True)",
            "sensor: published 8 readings",
            "in publication order: True; the block unsubscribed",
        ),
    ),
    "pubsub_retained.py": (
        ("asyncio", "trio"),
        (
            "latecomer: got 'ready' (retained)",
            "latecomer: got 'busy' (live)",
            "latecomer: received ['ready', 'busy']",
        ),
    ),
}

COMPONENT_EXPECT = (
    "could not connect:",
    "session joined: realm",
    "add2(2, 3) = 5",
    "heard: ['hi']",
    "session left: wamp.close.normal",
    "transport disconnected, clean: True",
)

AUTOBAHN_PORTS: dict[str, tuple[str, ...]] = {
    "component_app.py": COMPONENT_EXPECT,
    "rpc_calculator.py": (
        "session joined: realm",
        "add2(2, 3) = 5",
        "Forename: Homer, Surname: Simpson",
        "Result: 6 + 8i",
        "sqrt(16) = 4.0",
        "sqrt(-4) failed: NegativeNumber(-4,)",
        "checkname('foo') failed: com.myapp.calc.error.reserved ('foo',) {'why': 'reserved'}",
        "in parallel: [0, 2, 4, 6, 8]",
        "session left: wamp.close.normal",
        "transport disconnected",
    ),
    "rpc_progress.py": (
        "Progress: 0",
        "Progress: 2",
        "Final: 3",
        "finished in the order [2, 3, 1]",
        # ours answers at the client's deadline; Autobahn waits for Crossbar's answer
        "slowsquare(4) with timeout 1s failed: wamp.error.",
    ),
    "pubsub_monitor.py": (
        "subscribed to com.myapp.monitor.alert",
        "heartbeat 2 (publication",
        "unsubscribed from heartbeats: active=False",
        "alert: critical disk full",
        "got 3 heartbeats and alerts ['warning', 'critical']",
    ),
}

TWISTED_EXAMPLES: dict[str, tuple[str, ...]] = {
    # file in examples/twisted: expected output (of ours, and of Autobahn unless
    # TWISTED_AUTOBAHN_EXPECT says otherwise)
    "component_app.py": COMPONENT_EXPECT,
    "rpc_calculator.py": (
        "session joined: realm",
        "add2(2, 3) = 5",
        "Forename: Homer, Surname: Simpson",
        "Result: 6 + 8i",
        "sqrt(16) = 4.0",
        "sqrt(-4) failed: NegativeNumber(-4,)",
        "checkname('foo') failed: com.myapp.txcalc.error.reserved ('foo',) {'why': 'reserved'}",
        "in parallel: [0, 2, 4, 6, 8]",
        "session left: wamp.close.normal",
        "transport disconnected",
    ),
    "pubsub_monitor.py": (
        "subscribed to com.myapp.txmonitor.alert",
        "heartbeat 2 (publication",
        "unsubscribed from heartbeats: active=False",
        "alert: critical disk full",
        "got 3 heartbeats and alerts ['warning', 'critical']",
    ),
    "rpc_arguments.py": (
        "backend: registered 5 procedures under com.example.twisted.arguments.*",
        "ping() -> None",
        "add2(2, 3) -> 5",
        "stars() -> somebody starred 0x",
        "stars(nick='Homer', stars=5) -> Homer starred 5x",
        "orders('coffee', limit=2) -> ['coffee #0', 'coffee #1']",
        "arglen(1, 2, 3, a=1, b=2) -> [3, 2]",
        "done: both sessions left",
    ),
    "rpc_complex.py": (
        "add_complex: 6 + 8i",
        "split_name: forename Homer, surname Simpson",
        "stats: results=[1, 5] kwresults={'mean': 2.8}",
        "disconnected",
    ),
    "rpc_errors.py": (
        "checkname('Homer') -> ApplicationError com.example.twisted.errors.mixed_case "
        "args=['homer', 'HOMER'] kwargs={}",
        "checkname('foo') -> ApplicationError com.example.twisted.errors.reserved "
        "args=[] kwargs={}",
        "checkname('homer') -> 'homer is fine'",
        "kwargs={'min': 3, 'max': 10}",
        "order('donut', 12) -> OutOfStock: only 3 donuts left",
        "compare(1, 10) -> TooSmall: off by 9",
        "sqrt(-1) -> ApplicationError wamp.error.runtime_error",
        "nonexistent() -> ApplicationError wamp.error.no_such_procedure",
    ),
    "rpc_progress.py": (
        "progress: 3 (remaining=3)",
        "progress: 1 (remaining=1)",
        "final result: liftoff",
        "final result: liftoff (no progress asked)",
    ),
    "rpc_options.py": (
        "slow(5) with timeout 1 -> wamp.error.timeout after",
        "callee: slow() was interrupted",
        "(the caller: True), authrole anonymous",
        "service.start(1, 2) -> start(1, 2)",
        "service.stop(1, 2) -> stop(1, 2)",
    ),
    "rpc_decorators.py": (
        "registered com.example.twisted.decorators.add2",
        "registered com.example.twisted.decorators.cube",
        "add2(2, 3) -> 5",
        "square(7) -> 49",
        "cube(3) -> 27",
        "whoami() -> this session: True",
        "the service answered 4 calls",
    ),
    "rpc_slow.py": ("finished in the order [2, 3, 1]",),
    "rpc_cancel.py": (
        "caller: gave up waiting after 0.3 s (TimeoutError)",
        "callee: slow-mirror was interrupted while fetching file.txt",
        "caller: first answer: image.png from fast-mirror",
        "callee: slow-mirror was interrupted while fetching image.png",
        "caller: one more call: notes.md from fast-mirror",
    ),
    "pubsub_basic.py": (
        "subscriber: got 1 apples",
        "subscriber: received [0, 1, 2, 3, 4], in order: True",
        "publisher: disconnected",
    ),
    "pubsub_options.py": (
        "publisher: the broker acknowledged publication",
        "publisher received ['to everybody', 'to all but alice']",
        "alice     received ['to everybody else', 'to everybody', 'to alice only']",
        "bob       received ['to everybody else', 'to everybody', 'to all but alice']",
        "by publisher)",
    ),
    "pubsub_decorators.py": (
        "subscribed to com.example.twisted.decorators.alarm",
        "subscribed to com.example.twisted.decorators.temperature",
        "temperature: 22.0 C",
        "alarm: low in kitchen (on topic com.example.twisted.decorators.alarm)",
        "alarm: high in ?",
        "all events received, leaving",
        "disconnected",
    ),
    "pubsub_events.py": (
        "reading 0: 20.5 C from kitchen (from_me=True)",
        "reading 7: 22.1 C from kitchen (from_me=True)",
        "sensor: published 8 readings",
        "in publication order: True; unsubscribed",
    ),
    "pubsub_retained.py": (
        "latecomer: got 'ready' (retained)",
        "latecomer: got 'busy' (live)",
        "latecomer: received ['ready', 'busy']",
    ),
    "pubsub_unsubscribe.py": (
        "a and b share the router subscription: True",
        "unsubscribed a (active: False); b stays subscribed",
        "a got [1, 2, 3], b got [1, 2, 3, 4, 5]",
        "unsubscribed b (active: False): the router subscription is gone",
        "subscribed a again: a new subscription: True",
        "a got [1, 2, 3, 7], b got [1, 2, 3, 4, 5]",
    ),
}

AUTOBAHN_PORT_ORIGINAL_EXPECT: dict[str, tuple[str, ...]] = {
    # Autobahn's asyncio run() stops the loop before on_disconnect is called
    "component_app.py": COMPONENT_EXPECT[:-1],
}

TWISTED_AUTOBAHN_EXPECT: dict[str, tuple[str, ...]] = {
    # Autobahn calls the end of a RawSocket connection after a clean leave unclean
    "component_app.py": (*COMPONENT_EXPECT[:-1], "transport disconnected, clean: False"),
    # CallOptions(timeout=1): wamp_twisted reads seconds and fails the call itself
    # (wamp.error.timeout); Autobahn sends the number as is, Crossbar reads it in
    # milliseconds and cancels the call at once (wamp.error.canceled).
    "rpc_options.py": (
        "slow(5) with timeout 1 -> wamp.error.canceled after",
        *TWISTED_EXAMPLES["rpc_options.py"][1:],
    ),
}

# Expected output line -> the line our router gives instead, where it legitimately
# differs from Crossbar.io (none today: a client's GOODBYE is answered with
# wamp.close.normal, as Crossbar.io answers it, not the spec's goodbye_and_out).
OURS_EXPECT: dict[str, str] = {}

OUR_IMPORT = re.compile(
    r"^(from wamp_anyio\b|from wamp_twisted\b|from wamp_core\b|import wamp_core\b)"
)
ORIGINAL_IMPORT = re.compile(r"^#\s+((?:from|import) autobahn\b.*)$")


def autobahn_ports() -> list[Path]:
    """Every program that is an Autobahn program with its imports changed."""
    return [EXAMPLES / "anyio" / "autobahn_port" / name for name in AUTOBAHN_PORTS] + [
        EXAMPLES / "twisted" / name for name in TWISTED_EXAMPLES
    ]


def autobahn_original(port: Path) -> str:
    """The Autobahn program a port was made from: its import lines put back."""
    lines = port.read_text().splitlines()
    originals = [m.group(1) for line in lines if (m := ORIGINAL_IMPORT.match(line))]
    assert originals, f"{port.name}: no original Autobahn import lines in the header comment"
    out: list[str] = []
    for line in lines:
        if OUR_IMPORT.match(line):
            if originals:
                out.extend(originals)
                originals = []
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def readme_snippets() -> list[str]:
    """The README's Python blocks that talk to a router (they use port 8080, or start
    the embedded one)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [block for block in blocks if "8080" in block or "wamp_anyio.serve" in block]


def readme_expectations(source: str) -> tuple[str, ...]:
    if "wamp_anyio.serve" in source or "blocking.connect" in source:
        return ("2 + 3 = 5",)
    if "ApplicationSession" in source:
        return ("17 divmod 5 = (3, 2)", "1 divmod 0 failed: com.calc.error.division_by_zero")
    if "wamp_anyio.connect" in source:
        return ("2 + 3 = 5", "temperature 21.5 from session", "temperature 22.0 from session")
    if "Connection.websocket" in source:
        return ("Joined", "Invocation", "6 * 7 = 42", "Left", "TransportClosed")
    raise AssertionError(f"no expectations for this README snippet:\n{source}")


def all_runs() -> list[Run]:
    runs = []
    for name, (backends, expect) in ANYIO_EXAMPLES.items():
        for wave, backend in enumerate(backends):
            runs.append(
                Run(
                    f"anyio/{name}[{backend}]",
                    argv=(f"examples/anyio/{name}",),
                    backend=backend,
                    expect=expect,
                    wave=wave,
                )
            )
    for name, expect in AUTOBAHN_PORTS.items():
        runs.append(
            Run(
                f"autobahn_port/{name}",
                argv=(f"examples/anyio/autobahn_port/{name}",),
                expect=expect,
            )
        )
        runs.append(
            Run(
                f"autobahn_port/{name}[original-autobahn]",
                source=autobahn_original(EXAMPLES / "anyio" / "autobahn_port" / name),
                expect=AUTOBAHN_PORT_ORIGINAL_EXPECT.get(name, expect),
                wave=1,
                allow_traceback=True,
                marks=(pytest.mark.skipif(not HAVE_AUTOBAHN, reason="Autobahn is not installed"),),
            )
        )
    for name, expect in TWISTED_EXAMPLES.items():
        runs.append(Run(f"twisted/{name}", argv=(f"examples/twisted/{name}",), expect=expect))
        runs.append(
            Run(
                f"twisted/{name}[original-autobahn]",
                source=autobahn_original(EXAMPLES / "twisted" / name),
                expect=TWISTED_AUTOBAHN_EXPECT.get(name, expect),
                wave=1,  # the same URIs as ours: never at the same time
                allow_traceback=True,
                marks=(pytest.mark.skipif(not HAVE_AUTOBAHN, reason="Autobahn is not installed"),),
            )
        )
    runs += on_our_routers(
        [run for run in runs if run.id.startswith(("autobahn_port/", "twisted/"))]
    )
    for i, source in enumerate(readme_snippets()):
        runs.append(
            Run(f"README-snippet-{i + 1}", source=source, expect=readme_expectations(source))
        )
    runs.append(  # needs no router, but costs little here
        Run(
            "core_demo.py",
            argv=("examples/core_demo.py",),
            expect=(
                "wamp.2.msgpack.batched",
                "-> ProtocolError: EVENT.Details.publisher: must be an id",
                "wampcra     signature",
                "router's server signature verified",
            ),
        )
    )
    runs.append(  # what ./dev demo runs: our embedded router, no Crossbar.io
        Run(
            "demo.py",
            argv=("examples/demo.py",),
            expect=("through our router", "[trio   ] add2(2, 3) -> 5", "All 9 checks passed."),
        )
    )
    runs.append(
        Run(
            "demo.py --router",
            argv=("examples/demo.py", "--router", "{ws_url}"),
            expect=("[trio   ] add2(2, 3) -> 5", "All 9 checks passed."),
            wave=1,
        )
    )
    runs.append(  # nothing listens on port 1: the demo must say so and exit 1
        Run(
            "demo.py --router <nothing there>",
            argv=("examples/demo.py", "--router", "ws://127.0.0.1:1/ws"),
            expect=("1 check(s) FAILED",),
            returncode=1,
            allow_traceback=True,
        )
    )
    return runs


def on_our_routers(runs: list[Run]) -> list[Run]:
    """The same runs against each of OUR_ROUTERS (each router's node is its own, so
    they may overlap with the Crossbar.io runs; the waves keep ours and Autobahn's
    apart on one router)."""
    out = []
    for router, kinds in OUR_ROUTERS.items():
        available = backend_available(router.removeprefix("ours-"))
        skip = pytest.mark.skipif(not available, reason=f"{router} is not available here")
        for run in runs:
            if run_kind(run) not in kinds:
                continue
            out.append(
                replace(
                    run,
                    id=f"{run.id}@{router}",
                    expect=tuple(OURS_EXPECT.get(line, line) for line in run.expect),
                    router=router,
                    marks=(*run.marks, skip),
                )
            )
    return out


RUNS = all_runs()


def _params() -> Iterator[object]:
    for run in RUNS:
        yield pytest.param(run, id=run.id, marks=run.marks)


# ------------------------------------------------------------------ running them


@dataclass
class Outcome:
    returncode: int | None  # None: killed after RUN_TIMEOUT
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        code = "timed out" if self.returncode is None else f"exit code {self.returncode}"
        return (
            f"{code} after {self.seconds:.1f} s\n--- stdout ---\n{self.stdout}"
            f"--- stderr ---\n{self.stderr}"
        )


class _Process:
    def __init__(self, run: Run, node: CrossbarNode, workdir: Path):
        self.run = run
        safe = re.sub(r"[^\w.-]+", "_", run.id)
        self.out_path = workdir / f"{safe}.out"
        self.err_path = workdir / f"{safe}.err"
        argv = [arg.format(ws_url=node.ws_url) for arg in run.argv]
        if run.source is not None:
            script = workdir / f"{safe}.py"
            script.write_text(
                run.source.replace("ws://127.0.0.1:8080/ws", node.ws_url).replace(
                    "8080", str(node.endpoints.ws_port)
                )
            )
            argv = [str(script)]
        env = dict(os.environ)
        env.update(
            WAMP_URL=node.ws_url,
            WAMP_RS_URL=node.rs_url,
            WAMP_REALM=node.realm,
            PYTHONUNBUFFERED="1",
            PYTHONIOENCODING="utf-8",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        )
        env.pop("WAMP_BACKEND", None)
        if run.backend is not None:
            env["WAMP_BACKEND"] = run.backend
        self.started = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def finished(self) -> bool:
        return self.proc.poll() is not None

    def overdue(self) -> bool:
        return time.monotonic() - self.started > RUN_TIMEOUT

    def outcome(self, killed: bool = False) -> Outcome:
        if killed:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return Outcome(
            None if killed else self.proc.returncode,
            self.out_path.read_text(errors="replace"),
            self.err_path.read_text(errors="replace"),
            time.monotonic() - self.started,
        )


def run_all(runs: list[Run], nodes: dict[str, CrossbarNode], workdir: Path) -> dict[str, Outcome]:
    """Run wave after wave, at most MAX_PARALLEL processes at a time; ``nodes`` by
    router name (``Run.router``)."""
    outcomes: dict[str, Outcome] = {}
    for wave in sorted({run.wave for run in runs}):
        waiting = [run for run in runs if run.wave == wave]
        running: list[_Process] = []
        while waiting or running:
            while waiting and len(running) < MAX_PARALLEL:
                run = waiting.pop(0)
                running.append(_Process(run, nodes[run.router], workdir))
            time.sleep(0.02)  # poll interval
            for process in list(running):
                if process.finished() or process.overdue():
                    outcomes[process.run.id] = process.outcome(killed=not process.finished())
                    running.remove(process)
    return outcomes


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Runs every selected (and not skipped) run of this module, once, up front, each
    against its router (the session's node of that name)."""
    selected = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or item.module is not request.module or "run" not in callspec.params:
            continue
        if any(
            mark.name == "skipif" and mark.args and mark.args[0] for mark in item.iter_markers()
        ):
            continue
        selected.append(callspec.params["run"])
    names = {run.router for run in selected}
    nodes = {name: request.getfixturevalue(name.replace("-", "_")) for name in sorted(names)}
    return run_all(selected, nodes, tmp_path_factory.mktemp("examples"))


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("run", list(_params()))
def test_example(run: Run, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[run.id]
    missing = [line for line in run.expect if line not in outcome.stdout]
    assert not missing, f"{run.id}: missing output {missing}\n{outcome.describe()}"
    assert outcome.returncode == run.returncode, f"{run.id}: {outcome.describe()}"
    if not run.allow_traceback:
        assert "Traceback" not in outcome.stderr + outcome.stdout, outcome.describe()


def test_every_example_is_run() -> None:
    """A new example must be added to the tables above."""
    found = {path.relative_to(EXAMPLES).as_posix() for path in EXAMPLES.rglob("*.py")}
    listed = (
        {"demo.py", "core_demo.py"}
        | {f"anyio/{name}" for name in ANYIO_EXAMPLES}
        | {f"anyio/autobahn_port/{name}" for name in AUTOBAHN_PORTS}
        | {f"twisted/{name}" for name in TWISTED_EXAMPLES}
    )
    assert found == listed


def test_autobahn_ports_differ_only_in_imports() -> None:
    """Each port's header lists the Autobahn imports; the rest of the program is untouched."""
    for port in autobahn_ports():
        ours = port.read_text().splitlines()
        original = autobahn_original(port).splitlines()
        autobahn_import = ("from autobahn", "import autobahn")
        assert [line for line in ours if not OUR_IMPORT.match(line)] == [
            line for line in original if not line.startswith(autobahn_import)
        ]
        assert not any(line.startswith(autobahn_import) for line in ours)


def test_readme_has_a_runnable_program() -> None:
    # The other styles moved to docs/ (tests/test_docs.py runs every block there).
    assert readme_snippets(), "the README shows a runnable program"

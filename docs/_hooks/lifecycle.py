"""The session lifecycle diagram of docs/lifecycle.md, generated at build time.

Nothing here is drawn by hand: the states are ``SessionState``; what each state accepts
from the router is the session's own dispatch table (``wamp_core.session._base.DISPATCH``); the
transitions are found by driving a real ``ClientSession`` (it is Sans-IO: no router
needed) with every stimulus from every state it reaches; the hooks on a transition are
those ``SessionHooks.lifecycle_event`` runs for the events the session emitted there,
with Autobahn's camelCase name that ``AutobahnHooks`` maps onto each.

As an MkDocs hook it replaces ``<!-- lifecycle-diagram -->`` and
``<!-- lifecycle-table -->`` in the page; ``python docs/_hooks/lifecycle.py`` prints
the SVG.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wamp_core.application.hooks import AutobahnHooks, SessionHooks
from wamp_core.messages import MESSAGE_CLASSES, Abort, Challenge, Goodbye, Hello, Welcome
from wamp_core.session import ClientSession, SessionState
from wamp_core.session._base import DISPATCH  # filled in by _client.py, imported above
from wamp_core.transports import TransportClosed, TransportOpened
from wamp_core.types import ComponentConfig

DIAGRAM_MARK = "<!-- lifecycle-diagram -->"
TABLE_MARK = "<!-- lifecycle-table -->"
OPENED = "transport open"  # the two ends of a connection, around the session's states
CLOSED_TRANSPORT = "transport closed"

# What can happen to a session: the application's requests and the router's messages.
# Each is tried in every state; one the state refuses (an exception) is no transition.
Stimulus = Callable[[ClientSession], None]
OUT_OF_PLACE = "unexpected message"  # one the state's dispatch table lacks
STIMULI: dict[str, Stimulus] = {
    "join()": lambda s: s.join(now=0.0),
    "CHALLENGE": lambda s: s.receive_message(Challenge("ticket", {}), now=0.0),
    "authenticate()": lambda s: s.authenticate("ticket"),
    "WELCOME": lambda s: s.receive_message(
        Welcome(1, {"authid": "a", "authrole": "r", "roles": {"broker": {}, "dealer": {}}}),
        now=0.0,
    ),
    "leave()": lambda s: s.leave(now=0.0),
    "GOODBYE": lambda s: s.receive_message(Goodbye("wamp.close.normal"), now=0.0),
    "ABORT": lambda s: s.receive_message(Abort("wamp.error.not_authorized"), now=0.0),
    "abort()": lambda s: s.abort("wamp.close.normal"),
    "timeout": lambda s: s.handle_timer(1e9),
    OUT_OF_PLACE: lambda s: s.receive_message(Hello("realm1", {}), now=0.0),
    "transport lost": lambda s: s.transport_lost(),
}


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    stimuli: tuple[str, ...]
    hooks: tuple[str, ...]  # "on_join / onJoin"


def new_session() -> ClientSession:
    return ClientSession("realm1", authmethods=["ticket"], close_timeout=1.0)


def states() -> list[str]:
    return [state.name for state in SessionState]


def accepted_messages() -> dict[str, list[str]]:
    """The session's dispatch table: the router's messages each state handles."""
    names = {code: cls.NAME for code, cls in MESSAGE_CLASSES.items()}
    return {state.name: [names[code] for code in DISPATCH[state]] for state in SessionState}


def explore() -> list[Transition]:
    """Every state change reachable from a new session, grouped by (source, target)."""
    return _explore()[1]


def reachable() -> dict[str, list[str]]:
    """Each state a new session reaches, and the stimuli that take it there."""
    return {state.name: path for state, path in _explore()[0].items()}


def _explore() -> tuple[dict[SessionState, list[str]], list[Transition]]:
    paths: dict[SessionState, list[str]] = {SessionState.CLOSED: []}
    found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    queue = [SessionState.CLOSED]
    handled = accepted_messages()
    unhandled = {
        state: {n for n in STIMULI if n.isupper() and n not in handled[state]} for state in handled
    }
    while queue:
        state = queue.pop(0)
        for name in STIMULI:
            outcome = _try(paths[state], name)
            if outcome is None or outcome[0] is state:
                continue
            target, hooks = outcome
            stimuli, hook_names = found.setdefault((state.name, target.name), ([], []))
            # Each message the state does not handle is one "unexpected message" (the table).
            label = OUT_OF_PLACE if name in unhandled[state.name] else name
            if label not in stimuli:
                stimuli.append(label)
            hook_names.extend(h for h in hooks if h not in hook_names)
            if target not in paths:
                paths[target] = [*paths[state], name]
                queue.append(target)
    return paths, [
        Transition(source, target, tuple(stimuli), tuple(hooks))
        for (source, target), (stimuli, hooks) in found.items()
    ]


def _try(path: list[str], name: str) -> tuple[SessionState, list[str]] | None:
    session = new_session()
    for step in path:
        STIMULI[step](session)
    session.events()
    try:
        STIMULI[name](session)
    except Exception:
        return None
    hooks = [hook for event in session.events() for hook in hooks_for(event)]
    return session.state, hooks


class _HookRecorder(SessionHooks[Any, Any]):
    """A session whose hooks are only written down: which hooks an event runs."""

    def __init__(self) -> None:
        self.config = ComponentConfig(realm="realm1")
        self.details = None
        self.ran: list[str] = []

    def _run_hook(self, hook: Any, name: str, *args: Any, after_leave: bool = False) -> None:
        self.ran.append(name)

    def _run_challenge(self, challenge: Any) -> None:
        self.ran.append("on_challenge")

    def _session_over(self, details: Any) -> None:
        pass

    def _connection(self) -> Any:
        return None

    def _clock(self) -> float:
        return 0.0

    def _flush(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def _joined_core(self, what: str) -> Any:
        raise NotImplementedError

    def _issue(self, make: Any, many: bool) -> Any:
        raise NotImplementedError


def hooks_for(event: object) -> list[str]:
    """The hooks ``lifecycle_event`` runs for ``event``, as ``snake / camelCase``."""
    recorder = _HookRecorder()
    recorder.lifecycle_event(event)  # type: ignore[arg-type]
    return [f"{name} / {autobahn_name(name)}" for name in recorder.ran]


def autobahn_name(hook: str) -> str:
    """The camelCase method of AutobahnHooks that the snake_case ``hook`` defers to."""
    (name,) = (
        n for n in vars(AutobahnHooks) if n[:2] == "on" and n.lower() == hook.replace("_", "")
    )
    return name


def transport_transitions() -> list[Transition]:
    """The connection's ends: its opening runs on_connect (which joins by default),
    its close on_disconnect, whichever state the session was left in."""
    opened = hooks_for(TransportOpened("json", None))
    closed = hooks_for(TransportClosed(None, "", None, True))
    return [
        Transition(OPENED, SessionState.CLOSED.name, ("TransportOpened",), tuple(opened)),
        Transition(SessionState.CLOSED.name, CLOSED_TRANSPORT, ("TransportClosed",), tuple(closed)),
        Transition(SessionState.FAILED.name, CLOSED_TRANSPORT, ("TransportClosed",), tuple(closed)),
    ]


# ------------------------------------------------------------------ drawing

BOX_W, BOX_H, PITCH = 132, 44, 190
LINE_H, FONT = 14, 12
WRAP = 32  # characters per label line: a label stays within about one pitch


def svg(transitions: Iterable[Transition] | None = None) -> str:
    """The picture: the states in a row (the code's order, between the connection's
    two ends); a move to the right is an arc above, a move back an arc below; each arc
    is labeled with what causes it and, in blue, the hooks it runs."""
    edges = list(transitions) if transitions is not None else explore() + transport_transitions()
    nodes = [OPENED, *states(), CLOSED_TRANSPORT]
    column = {name: i for i, name in enumerate(nodes)}
    above = [e for e in edges if column[e.target] > column[e.source]]
    below = [e for e in edges if column[e.target] < column[e.source]]
    up_levels, up_height = _levels(above, column)
    down_levels, down_height = _levels(below, column)
    top = up_height + 20
    width = PITCH * len(nodes)
    height = top + BOX_H + down_height + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-diagram" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'font-family="sans-serif" font-size="{FONT}" style="max-width: none">',
        "<title>The WAMP session lifecycle: states, transitions and hooks</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        'fill="#444"/></marker></defs>',
    ]
    ports = _ports([*above, *below], column)
    for edge in above:
        out += _arc(edge, column, ports, top, -up_levels[edge])
    for edge in below:
        out += _arc(edge, column, ports, top + BOX_H, down_levels[edge])
    for name in nodes:
        out += _box(name, column[name] * PITCH + (PITCH - BOX_W) / 2, top)
    out.append("</svg>")
    return "\n".join(out)


def _label_lines(edge: Transition) -> tuple[list[str], list[str]]:
    cause = textwrap.wrap(", ".join(edge.stimuli), WRAP)
    hooks = [line for hook in edge.hooks for line in textwrap.wrap(hook, WRAP)]
    return cause, hooks


def _levels(edges: list[Transition], column: dict[str, int]) -> tuple[dict[Transition, int], int]:
    """Each arc's height: shorter spans lower; an arc clears every arc below it whose
    span overlaps its own, label included."""
    placed: list[tuple[int, int, int, int]] = []  # (low, high, base, top) of each arc
    heights: dict[Transition, int] = {}
    for edge in sorted(edges, key=lambda e: (abs(column[e.target] - column[e.source]), e.source)):
        low, high = sorted((column[edge.source], column[edge.target]))
        cause, hooks = _label_lines(edge)
        need = (len(cause) + len(hooks)) * LINE_H + 10
        base = 24 + max((t for lo, hi, _, t in placed if lo < high and low < hi), default=0)
        placed.append((low, high, base, base + need))
        heights[edge] = base
    return heights, max((t for *_, t in placed), default=0)


def _ports(edges: list[Transition], column: dict[str, int]) -> dict[tuple[Transition, str], float]:
    """Where each arc leaves and enters its boxes: spread along the box's edge, ordered
    by the far end so arcs do not cross at the box."""
    ends: dict[tuple[str, bool], list[tuple[float, Transition, str]]] = {}
    for edge in edges:
        side = column[edge.target] > column[edge.source]
        for end, other in ((edge.source, edge.target), (edge.target, edge.source)):
            ends.setdefault((end, side), []).append((column[other], edge, end))
    xs: dict[tuple[Transition, str], float] = {}
    for (name, _), items in ends.items():
        items.sort(key=lambda item: item[0])
        left = column[name] * PITCH + (PITCH - BOX_W) / 2
        for i, (_, edge, end) in enumerate(items):
            xs[(edge, end)] = left + BOX_W * (i + 1) / (len(items) + 1)
    return xs


def _arc(
    edge: Transition,
    column: dict[str, int],
    ports: dict[tuple[Transition, str], float],
    y0: float,
    rise: int,
) -> list[str]:
    x1, x2 = ports[(edge, edge.source)], ports[(edge, edge.target)]
    y = y0 + rise
    path = f"M{x1:.1f},{y0:.1f} V{y:.1f} H{x2:.1f} V{y0:.1f}"
    out = [
        f'<path d="{path}" fill="none" stroke="#444" stroke-width="1.3" marker-end="url(#arrow)"/>'
    ]
    cause, hooks = _label_lines(edge)
    middle = (x1 + x2) / 2
    lines = [(line, "#222") for line in cause] + [(line, "#1a5fb4") for line in hooks]
    first = y - 4 - LINE_H * (len(lines) - 1) if rise < 0 else y + LINE_H
    for i, (text, colour) in enumerate(lines):
        out.append(
            f'<text x="{middle:.1f}" y="{first + i * LINE_H:.1f}" text-anchor="middle" '
            f'fill="{colour}" paint-order="stroke" stroke="#fff" stroke-width="3">'
            f"{html.escape(text)}</text>"
        )
    return out


def _box(name: str, x: float, y: float) -> list[str]:
    pseudo = name in (OPENED, CLOSED_TRANSPORT)
    fill, dash = ("#f4f4f4", ' stroke-dasharray="4 3"') if pseudo else ("#e8f0fb", "")
    return [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" '
        f'rx="{BOX_H / 2 if pseudo else 6}" fill="{fill}" stroke="#2b4c7e"{dash}/>',
        f'<text x="{x + BOX_W / 2:.1f}" y="{y + BOX_H / 2 + 4:.1f}" text-anchor="middle" '
        f'font-weight="{"normal" if pseudo else "bold"}">{html.escape(name)}</text>',
    ]


def table() -> str:
    """A Markdown table: each state, the router's messages it handles, and what any
    other message does there (found as the transitions are)."""
    paths = reachable()
    rows = [
        "| state | the router's messages it handles | any other message |",
        "|---|---|---|",
    ]
    for state, messages in accepted_messages().items():
        handled = ", ".join(f"`{m}`" for m in messages) or "none"
        outcome = _try(paths[state], OUT_OF_PLACE) if state in paths else None
        if outcome is None:
            other = "not reached"
        elif outcome[0].name == state:
            other = "ignored"
        else:
            other = f"a protocol violation: `{outcome[0].name}`"
        rows.append(f"| `{state}` | {handled} | {other} |")
    return "\n".join(rows)


# ------------------------------------------------------------------ MkDocs hooks


def on_page_markdown(markdown: str, **_: Any) -> str:
    return markdown.replace(TABLE_MARK, table())


def on_page_content(content: str, **_: Any) -> str:
    if DIAGRAM_MARK in content:
        # Its own size, scrolled sideways where the page is narrower: scaled down, the
        # labels would be too small to read.
        picture = f'<div class="lifecycle" style="overflow-x: auto">{svg()}</div>'
        return content.replace(DIAGRAM_MARK, picture)
    return content


if __name__ == "__main__":
    print(svg())

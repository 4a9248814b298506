"""Every fenced block of the documentation (docs/**/*.md and README.md) runs here.

The convention the pages follow:

- ```python: a complete program, run as a script in a fresh temporary folder (exit
  status 0 within 60 s). ``127.0.0.1:8080`` and ``127.0.0.1:8081`` (the addresses of
  ``python -m wamp_anyio serve``) are rewritten to a router served here on free ports.
  A ```text block right after it is its expected standard output (``...`` matches
  anything, as doctest's ELLIPSIS).
- ```console: each line starting with ``$ `` is a shell command, the lines up to the
  next one its expected output (standard output and error, ELLIPSIS-matched); the
  commands of a block run in one shell, in order, with ``python`` the interpreter
  running these tests and the same address rewriting.
- ```json / ```yaml: a Crossbar.io node configuration our router's loader accepts.
- ```text not right after a python block: a file tree (like docs/architecture.md's):
  every file and folder it names exists in the repository.

Any other block fails: there is no way to leave one untested. The programs run a few at
a time, each worker with a router of its own (so two pages may use the same URIs).
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
TIMEOUT = 60.0  # seconds for one block
WORKERS = 2  # blocks run at once, each against its own router
LANGUAGES = ("python", "console", "json", "yaml", "text")
DEFAULT_WS = "127.0.0.1:8080"  # python -m wamp_anyio serve's listeners
DEFAULT_RS = "127.0.0.1:8081"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$")


@dataclass(frozen=True)
class Block:
    page: str  # relative to docs/ (README.md for the README)
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    expected_stdout: str | None = None  # a python block's ```text block that follows it

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[tuple[str, Path]]:
    found = [(str(p.relative_to(DOCS)), p) for p in sorted(DOCS.rglob("*.md"))]
    return [*found, ("README.md", ROOT / "README.md")]


def parse_blocks(page: str, source: str) -> list[Block]:
    """The fenced blocks of a Markdown text, in order; an indented fence (in a list or
    an admonition) has its indentation taken off its lines."""
    blocks: list[Block] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not _closes(lines[j], fence):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise ValueError(f"{page}:{i + 1}: a code block is never closed")
        text = "\n".join(body) + "\n"
        blocks.append(Block(page, i + 1, opening["info"].lower(), text))
        i = j + 1
    return _attach_outputs(blocks)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def _attach_outputs(blocks: list[Block]) -> list[Block]:
    """A ```text block right after a python block is that program's expected output:
    it becomes part of the python block (checked when the program runs)."""
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            block.language == "text"
            and previous is not None
            and previous.language == "python"
            and previous.expected_stdout is None
        ):
            out[-1] = Block(previous.page, previous.line, "python", previous.text, block.text)
        else:
            out.append(block)
    return out


def all_blocks() -> list[Block]:
    return [block for page, path in pages() for block in parse_blocks(page, path.read_text())]


BLOCKS = all_blocks()


# ------------------------------------------------------------------ the routers


class RouterPool:
    """One served router per worker (started on first use, stopped with the pool), so
    that blocks run at the same time never share one."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._stack: list[Any] = []
        self._lock = threading.Lock()

    def addresses(self) -> dict[str, str]:
        """The ws and rs host:port of this thread's router."""
        found = getattr(self._local, "addresses", None)
        if found is None:
            from tests.threaded_router import threaded_router

            context = threaded_router()
            router = context.__enter__()
            with self._lock:
                self._stack.append(context)
            found = {DEFAULT_WS: _host_port(router.ws), DEFAULT_RS: _host_port(router.rs)}
            self._local.addresses = found
        return found

    def close(self) -> None:
        with self._lock:
            contexts, self._stack = self._stack, []
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def _host_port(url: str) -> str:
    match = re.match(r"^\w+://([^/]+)", url)
    assert match is not None, url
    return match.group(1)


def rewrite(text: str, addresses: dict[str, str]) -> str:
    for default, real in addresses.items():
        text = text.replace(default, real)
    return text


# ------------------------------------------------------------------ running blocks


def _environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE", "WAMP_"))}
    bindir = workdir / ".bin"
    bindir.mkdir()
    shim = bindir / "python"  # `python` in a command: this interpreter, with its packages
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    shim.chmod(0o755)
    venv_bin = str(Path(sys.executable).parent)  # wamp-sansio and the like
    env["PATH"] = os.pathsep.join([str(bindir), venv_bin, env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env["HOME"] = str(workdir)
    return env


def matches(expected: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(_tidy(expected), _tidy(got), doctest.ELLIPSIS)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def run_python(block: Block, addresses: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="docblock-") as tmp:
        workdir = Path(tmp)
        script = workdir / "program.py"
        script.write_text(rewrite(block.text, addresses))
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=workdir,
            env=_environment(workdir),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, (
        f"{block.id}: exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    if block.expected_stdout is not None:
        expected = rewrite(block.expected_stdout, addresses)
        assert matches(expected, result.stdout), (
            f"{block.id}: output differs\n--- expected\n{expected}--- got\n{result.stdout}"
            f"--- stderr\n{result.stderr}"
        )


def console_commands(text: str) -> list[tuple[str, str]]:
    """The (command, expected output) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"output before the first command: {line!r}")
    return [(command, "\n".join(output) + "\n") for command, output in pairs]


def run_console(block: Block, addresses: dict[str, str]) -> None:
    commands = console_commands(rewrite(block.text, addresses))
    assert commands, f"{block.id}: a console block without a `$ ` command"
    marker = "@@docs-command-output@@"
    script = "".join(
        f"echo {marker}\n{{ {command}\n}} 2>&1 </dev/null\n" for command, _ in commands
    )
    with tempfile.TemporaryDirectory(prefix="docblock-") as tmp:
        workdir = Path(tmp)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=workdir,
            env=_environment(workdir),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    outputs = result.stdout.split(marker + "\n")[1:]
    assert len(outputs) == len(commands), f"{block.id}: the shell stopped early\n{result}"
    for (command, expected), got in zip(commands, outputs, strict=True):
        assert matches(expected, got), (
            f"{block.id}: `{command}` printed\n{got}--- expected\n{expected}"
        )


def run_config(block: Block, suffix: str) -> None:
    from wamp_core.router.config import load_config

    with tempfile.TemporaryDirectory(prefix="docblock-") as tmp:
        path = Path(tmp) / f"config{suffix}"
        path.write_text(block.text)
        load_config(path)  # a ConfigError fails the test, with the key it names


TREE_NAME = re.compile(r"^(?P<indent> *)(?P<names>[\w.*]+(?:/|\.py)?(?:, [\w.*]+(?:/|\.py)?)*)")
NAME_COLUMN = 20  # deeper lines of a file tree are the descriptions' continuations


def tree_paths(text: str) -> list[str]:
    """The paths a file tree names: ``name/`` opens a folder for the lines indented
    under it, ``a.py, b.py`` names two files, ``_auth_*`` is a glob."""
    folders: list[tuple[int, str]] = []
    paths: list[str] = []
    for line in text.splitlines():
        match = TREE_NAME.match(line)
        if match is None or len(match["indent"]) >= NAME_COLUMN:
            continue
        if not line[match.end() :].startswith(("  ", "\t")) and match.end() != len(line):
            continue  # prose, not a name column
        indent = len(match["indent"])
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else ""
        for name in match["names"].split(", "):
            paths.append(parent + name)
            if name.endswith("/"):
                folders.append((indent, parent + name))
    return paths


def check_tree(block: Block) -> None:
    paths = tree_paths(block.text)
    assert paths, (
        f"{block.id}: a text block that is neither a program's output (right after its "
        "python block) nor a file tree cannot be checked"
    )
    missing = [p for p in paths if not any(ROOT.glob(p.rstrip("/")))]
    assert not missing, f"{block.id}: the tree names what the repository lacks: {missing}"


# ------------------------------------------------------------------ the tests


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[None]]]:
    """Starts every selected block at once, WORKERS at a time; a test waits for its own."""
    selected = {
        block.id
        for item in request.session.items
        if isinstance(
            block := getattr(item, "callspec", None) and item.callspec.params.get("block"), Block
        )
    }
    routers = RouterPool()
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="docblock")
    futures = {b.id: pool.submit(run_block, b, routers) for b in BLOCKS if b.id in selected}
    try:
        yield futures
    finally:
        for future in futures.values():
            future.cancel()
        pool.shutdown(wait=True)
        routers.close()


def run_block(block: Block, routers: RouterPool) -> None:
    if block.language == "python":
        run_python(block, routers.addresses())
    elif block.language == "console":
        run_console(block, routers.addresses())
    elif block.language in ("json", "yaml"):
        run_config(block, "." + block.language)
    elif block.language == "text":
        check_tree(block)
    else:
        raise AssertionError(
            f"{block.id}: a ```{block.language or '(no language)'} block cannot be run; "
            f"write it as one of {', '.join(LANGUAGES)}"
        )


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block(block: Block, runs: dict[str, Future[None]]) -> None:
    runs[block.id].result(timeout=TIMEOUT * len(runs))


def test_every_block_has_a_language_the_harness_runs() -> None:
    unknown = [b.id for b in BLOCKS if b.language not in LANGUAGES]
    assert not unknown, f"blocks no test runs (languages: {LANGUAGES}): {unknown}"


def test_the_harness_sees_every_page() -> None:
    found = {page for page, _ in pages()}
    assert {"index.md", "getting-started.md", "architecture.md", "README.md"} <= found
    assert all(b.page in found for b in BLOCKS)


def test_parse_blocks_reads_fences_as_markdown_does() -> None:
    source = (
        "# t\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
        "- item\n\n    ```console\n    $ echo hi\n    hi\n    ```\n\n"
        "~~~~yaml\n```\nversion: 2\n~~~~\n\n```\nplain\n```\n"
    )
    blocks = parse_blocks("t.md", source)
    assert [(b.line, b.language) for b in blocks] == [
        (3, "python"),
        (13, "console"),
        (18, "yaml"),
        (23, ""),
    ]
    assert blocks[0].expected_stdout == "1\n"
    assert blocks[1].text == "$ echo hi\nhi\n"
    assert blocks[2].text == "```\nversion: 2\n"
    with pytest.raises(ValueError, match="never closed"):
        parse_blocks("t.md", "```python\nprint(1)\n")


def test_console_commands_and_matching() -> None:
    assert console_commands("$ a\nout 1\nout 2\n$ b\n") == [("a", "out 1\nout 2\n"), ("b", "\n")]
    with pytest.raises(ValueError, match="before the first command"):
        console_commands("stray\n$ a\n")
    assert matches("session ... joined\n", "session 123 joined\n")
    assert not matches("session 1 joined\n", "session 2 joined\n")
    assert matches("a\n\n", "a  \n")


def test_tree_paths() -> None:
    tree = (
        "wamp_core/            pure\n"
        "  messages/           one class per message\n"
        "    _check.py         field checks\n"
        "                      continued.py: not a name\n"
        "  url.py, connect.py  transport URLs\n"
        "wamp_anyio/           the adapter\n"
    )
    assert tree_paths(tree) == [
        "wamp_core/",
        "wamp_core/messages/",
        "wamp_core/messages/_check.py",
        "wamp_core/url.py",
        "wamp_core/connect.py",
        "wamp_anyio/",
    ]


# ------------------------------------------------------------------ the lifecycle diagram


def lifecycle_module() -> Any:
    """docs/_hooks/lifecycle.py, the MkDocs hook that draws the diagram."""
    import importlib.util

    path = DOCS / "_hooks" / "lifecycle.py"
    spec = importlib.util.spec_from_file_location("docs_lifecycle_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_lifecycle_diagram_names_every_state_and_hook() -> None:
    from wamp_core.application.hooks import SessionHooks
    from wamp_core.session import SessionState

    lifecycle = lifecycle_module()
    picture = lifecycle.svg()
    for state in SessionState:
        assert f">{state.name}</text>" in picture, state
        assert f"| `{state.name}` |" in lifecycle.table(), state
    assert set(lifecycle.reachable()) == {state.name for state in SessionState}
    hooks = [
        name for name in vars(SessionHooks) if name.startswith("on_") and name != "on_user_error"
    ]
    for hook in hooks:
        assert f"{hook} / {lifecycle.autobahn_name(hook)}" in picture, hook


def test_the_lifecycle_transitions_are_the_sessions() -> None:
    lifecycle = lifecycle_module()
    moves = {(t.source, t.target): t for t in lifecycle.explore()}
    assert moves["CLOSED", "JOINING"].stimuli == ("join()",)
    assert "on_join / onJoin" in moves["JOINING", "JOINED"].hooks
    assert "on_challenge / onChallenge" in moves["JOINING", "AUTHENTICATING"].hooks
    assert "timeout" in moves["LEAVING", "CLOSED"].stimuli
    assert lifecycle.OUT_OF_PLACE in moves["JOINED", "FAILED"].stimuli
    assert ("LEAVING", "FAILED") not in moves  # after GOODBYE, stray messages are ignored


def test_the_lifecycle_page_has_the_diagram_and_table_marks() -> None:
    lifecycle = lifecycle_module()
    page = (DOCS / "lifecycle.md").read_text()
    assert lifecycle.DIAGRAM_MARK in page and lifecycle.TABLE_MARK in page
    html = lifecycle.on_page_content(f"<p>x</p>{lifecycle.DIAGRAM_MARK}")
    assert "<svg" in html and lifecycle.DIAGRAM_MARK not in html
    assert lifecycle.on_page_content("<p>x</p>") == "<p>x</p>"

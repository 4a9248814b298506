"""Sessions: tests, lint, typecheck, docs, bench. Run them through ``./dev`` on a fresh machine."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "docs", "tests", "compiled"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV = nox.project.dependency_groups(PYPROJECT, "dev")
BENCH = nox.project.dependency_groups(PYPROJECT, "bench")
EXTRAS = ".[crypto,twisted,trio,testing,yaml]"

# The router of the integration tests, in a virtualenv of its own: its many pins must
# not mix with ours. Change the pin here; the next run reinstalls it.
CROSSBAR = "crossbar==26.10.1"
CROSSBAR_VENV = Path(__file__).resolve().parent / ".nox" / "crossbar"
CROSSBAR_PYTHONS = ("python3.13", "python3.12", "python3.11")  # Crossbar needs >= 3.11

# The documentation site's tools, pinned: a new Material or mkdocstrings may warn about
# something new, and the build is strict.
DOCS = (
    "mkdocs==1.6.1",
    "mkdocs-material==9.8.2",
    "mkdocstrings==1.0.8",
    "mkdocstrings-python==2.0.11",
    "ruff==0.17.6",  # mkdocstrings formats the signatures with it
)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, property and conformance tests, with branch coverage of wamp_core."""
    session.install("-e", EXTRAS, *DEV)
    session.env["HYPOTHESIS_PROFILE"] = "ci"
    session.env["WAMP_CROSSBAR"] = os.environ.get("WAMP_CROSSBAR") or crossbar_executable(session)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--fail-under=100")


@nox.session
def compiled(session: nox.Session) -> None:
    """The whole test suite again, against a built wheel whose hot path (see setup.py)
    is compiled by mypyc: what users install."""
    install_compiled(session, *DEV)
    session.env["HYPOTHESIS_PROFILE"] = "ci"
    session.env["WAMP_TEST_INSTALLED"] = "compiled"  # tests/conftest.py checks it got that
    session.env["WAMP_CROSSBAR"] = os.environ.get("WAMP_CROSSBAR") or crossbar_executable(session)
    session.run("pytest", "-q", "tests", *session.posargs)


def install_compiled(session: nox.Session, *requirements: str) -> None:
    """Build the wheel afresh (sdist first, so nothing stale from a local build/ gets
    in) and install it, not editable, with our extras and ``requirements``."""
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    uv = shutil.which("uv")
    if uv:
        session.run_install(uv, "build", "--quiet", "--out-dir", str(out), external=True)
    else:
        session.install("build")
        session.run_install("python", "-m", "build", "--outdir", str(out))
    (wheel,) = out.glob("*.whl")
    reinstall = "--reinstall" if session.venv_backend == "uv" else "--force-reinstall"
    session.install(reinstall, f"{wheel}[crypto,twisted,trio,testing,yaml]", *requirements)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the three packages."""
    session.install("-e", EXTRAS, *DEV)
    session.run("mypy", "--strict")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built strictly into site/ (a warning fails it); ``-- --serve``
    serves it on 127.0.0.1:8000 instead, rebuilt as files change."""
    session.install("-e", ".", *DOCS)
    session.env["NO_MKDOCS_2_WARNING"] = "1"  # Material's notice about MkDocs 2.0, not ours
    if "--serve" in session.posargs:
        session.run("mkdocs", "serve", "--strict", "--dev-addr", "127.0.0.1:8000")
    else:
        session.run("mkdocs", "build", "--strict", "--clean", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers (Autobahn, wampproto, the raw serializers, a bare
    asyncio client) as ratios: codec, core, and RPC/PubSub through a real Crossbar.io;
    then our router (asyncio, trio, Twisted) against Crossbar.io and xconn's router."""
    install_compiled(session, *BENCH)  # what users get from a wheel
    session.env["WAMP_CROSSBAR"] = os.environ.get("WAMP_CROSSBAR") or crossbar_executable(session)
    session.run("python", "benchmarks/codec.py")
    session.run("python", "benchmarks/core.py")
    session.run("python", "benchmarks/router_core.py")
    session.run("python", "benchmarks/rpc.py", *session.posargs)
    session.run("python", "benchmarks/router.py")
    session.run("python", "benchmarks/soak.py")  # 10 minutes per router (--quick: 1)
    session.run("python", "benchmarks/sessions.py")  # 1,000 sessions per client process


@nox.session
def demo(session: nox.Session) -> None:
    """An asyncio app and a trio app do RPC and PubSub through our embedded router
    (``-- --crossbar``: through a Crossbar.io router, installed on first use)."""
    session.install("-e", ".[crypto,trio]")
    if "--crossbar" in session.posargs:
        session.env["WAMP_CROSSBAR"] = os.environ.get("WAMP_CROSSBAR") or crossbar_executable(
            session
        )
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session(python=False)
def crossbar(session: nox.Session) -> None:
    """Install Crossbar.io into .nox/crossbar (``-- --reinstall`` to redo it); print its path."""
    path = crossbar_executable(session, reinstall="--reinstall" in session.posargs)
    print(path)


def crossbar_executable(session: nox.Session, *, reinstall: bool = False) -> str:
    """The ``crossbar`` executable of .nox/crossbar, installed first if missing or stale.

    The venv is made by uv when it is on PATH (``./dev`` puts it there), else by
    ``python -m venv`` and pip, from an interpreter >= 3.11. A stamp file records what
    was installed, so a changed pin (or an interrupted install) installs afresh.
    """
    bindir = CROSSBAR_VENV / ("Scripts" if sys.platform == "win32" else "bin")
    executable = bindir / ("crossbar.exe" if sys.platform == "win32" else "crossbar")
    stamp = CROSSBAR_VENV / "installed.txt"
    installed = stamp.read_text().strip() if stamp.exists() else None
    if not reinstall and executable.exists() and installed == CROSSBAR:
        return str(executable)
    shutil.rmtree(CROSSBAR_VENV, ignore_errors=True)
    uv = shutil.which("uv")
    python = _crossbar_python(session, uv)
    if uv:
        session.run(uv, "venv", "--quiet", "--python", python, str(CROSSBAR_VENV), external=True)
        venv_python = str(bindir / "python")
        session.run(uv, "pip", "install", "--python", venv_python, CROSSBAR, external=True)
    else:
        session.run(python, "-m", "venv", str(CROSSBAR_VENV), external=True)
        pip = [str(bindir / "python"), "-m", "pip", "--disable-pip-version-check"]
        session.run(*pip, "install", "--quiet", CROSSBAR, external=True)
    stamp.write_text(CROSSBAR + "\n")
    return str(executable)


def _crossbar_python(session: nox.Session, uv: str | None) -> str:
    """An interpreter Crossbar supports: nox's own, a python3.1x on PATH, or one uv fetches."""
    if sys.version_info >= (3, 11):
        return sys.executable
    found = next(filter(None, map(shutil.which, CROSSBAR_PYTHONS)), None)
    if found is None and uv:
        return ">=3.11"  # uv finds or downloads one
    if found is None:
        session.error(f"{CROSSBAR} needs Python >= 3.11; none of {CROSSBAR_PYTHONS} is on PATH")
    return found

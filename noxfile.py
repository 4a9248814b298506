"""Sessions: tests, lint, typecheck, bench. Run them through ``./dev`` on a fresh machine."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV = nox.project.dependency_groups(PYPROJECT, "dev")
BENCH = nox.project.dependency_groups(PYPROJECT, "bench")
EXTRAS = ".[crypto,twisted,trio]"


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, property and conformance tests, with branch coverage of wamp_core."""
    session.install("-e", EXTRAS, *DEV)
    session.env["HYPOTHESIS_PROFILE"] = "ci"
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--fail-under=100")


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
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers (Autobahn, wampproto, the raw serializers), as ratios."""
    session.install("-e", EXTRAS, *BENCH)
    session.run("python", "benchmarks/codec.py", *session.posargs)
    session.run("python", "benchmarks/core.py")


@nox.session
def demo(session: nox.Session) -> None:
    """The demo of what the core does today (codecs, validation, authentication)."""
    session.install("-e", ".[crypto]")
    session.run("python", "examples/core_demo.py")

"""Shared test set-up: hypothesis profiles, the path of the test vectors, and the
choice of the wamp_core under test (the source tree, or the installed, compiled one)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _use_installed_wamp_core() -> None:
    """Import wamp_core from site-packages instead of this checkout.

    ``nox -s compiled`` installs a wheel with the mypyc-compiled modules and sets
    ``WAMP_TEST_INSTALLED=compiled``; pytest has put the checkout first on sys.path, so
    drop it while wamp_core is imported (its submodules then follow the package's own
    path), and refuse to run at all if the compiled modules are not what got imported.
    """
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    try:
        import wamp_core.messages._rpc
        import wamp_core.serializers
    finally:
        sys.path[:] = saved
    for module in (wamp_core.messages._rpc, wamp_core.serializers):
        location = Path(module.__file__ or "")
        if location.is_relative_to(ROOT / "wamp_core") or location.suffix != ".so":
            raise RuntimeError(f"expected the installed, compiled module, got {location}")


if os.environ.get("WAMP_TEST_INSTALLED") == "compiled":
    _use_installed_wamp_core()

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# The conformance and authentication vectors (data copied in; tests/vectors/NOTICE.md).
VECTORS = ROOT / "tests" / "vectors"

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

# The session state machine explores far more in CI (the issue asks for >= 2,000 runs).
MACHINE_EXAMPLES = 2000 if PROFILE == "ci" else 200


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path, for Unix sockets: a socket's path has at
    most 107 bytes, and pytest's tmp_path under a deep checkout (or .nox/) is longer."""
    path = Path(tempfile.mkdtemp(prefix="wamp-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

"""Fixtures for the tests against a real Crossbar.io node.

* ``crossbar`` (session scope): one shared, running node. Do not stop it in a test;
  use ``fresh_crossbar`` for that.
* ``fresh_crossbar`` (function scope): a node of its own (own ports, own directory),
  running, for tests that stop, kill or restart the router.

Both are :class:`~tests.integration.crossbar_node.CrossbarNode` objects: ``ws_url``,
``rs_url``, ``wss_url``, ``rss_url``, ``ws_unix_url``, ``rs_unix_url`` (and ``urls``,
all of them by name), ``ws_socket``/``rs_socket``/``ws_path``, ``ca_file`` and
``ssl_context()``, ``realm``, ``principals`` and ``wrong_principals`` (name ->
authmethod, authid, credential, role; ``make_authenticator(principal)`` turns one
into a ``wamp_core.auth`` authenticator), ``start()``, ``stop(kill=False)``,
``restart()``, ``running``, ``log_tail()``.

Crossbar is ``$WAMP_CROSSBAR``, else ``.nox/crossbar/bin/crossbar`` (``nox -s crossbar``
installs it there), else ``crossbar`` on PATH; without any, these tests are skipped.
``nox -s tests`` installs it if needed and sets the variable.
Every test under this directory is marked ``integration``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.crossbar_node import ENV_VAR, CrossbarNode, find_crossbar

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def crossbar_executable() -> str:
    executable = find_crossbar()
    if executable is None:
        pytest.skip(
            f"Crossbar.io not found: run `nox -s crossbar` (installs it into .nox/crossbar), "
            f"or set ${ENV_VAR} to a crossbar executable, or put crossbar on PATH"
        )
    return executable


@pytest.fixture(scope="session")
def crossbar(crossbar_executable: str) -> Iterator[CrossbarNode]:
    node = CrossbarNode(crossbar_executable)
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture
def fresh_crossbar(crossbar_executable: str) -> Iterator[CrossbarNode]:
    node = CrossbarNode(crossbar_executable)
    try:
        node.start()
        yield node
    finally:
        node.close()

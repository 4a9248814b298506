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

* ``router`` (session scope, parametrized): the same client tests against every
  router that runs the same node configuration: ``crossbar`` (the ``crossbar`` node
  above), ``ours-asyncio``, ``ours-trio`` and ``ours-twisted`` (our router served by
  ``python -m wamp_anyio serve --config`` / ``python -m wamp_twisted serve --config``,
  an :class:`~tests.integration.our_node.OurRouterNode`; twisted is skipped while
  ``wamp_twisted`` has no command line). ``router_name(node)`` (``our_node``) says which one a test
  got, for the expectations that legitimately differ.
* ``fresh_router`` (function scope, parametrized the same way): a node of its own.

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
from tests.integration.our_node import OurRouterNode, backend_available

ROUTERS = ["crossbar", "ours-asyncio", "ours-trio", "ours-twisted"]

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


def _our_node(backend: str) -> Iterator[OurRouterNode]:
    if not backend_available(backend):
        pytest.skip(f"our router cannot be served on {backend} from the command line here")
    node = OurRouterNode(backend)
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def ours_asyncio() -> Iterator[OurRouterNode]:
    yield from _our_node("asyncio")


@pytest.fixture(scope="session")
def ours_trio() -> Iterator[OurRouterNode]:
    yield from _our_node("trio")


@pytest.fixture(scope="session")
def ours_twisted() -> Iterator[OurRouterNode]:
    yield from _our_node("twisted")


@pytest.fixture(scope="session", params=ROUTERS)
def router(request: pytest.FixtureRequest) -> CrossbarNode:
    """One running router per parameter, shared by the session (do not stop it)."""
    name = str(request.param)
    node: CrossbarNode = request.getfixturevalue(name.replace("-", "_"))
    return node


@pytest.fixture(params=ROUTERS)
def fresh_router(request: pytest.FixtureRequest) -> Iterator[CrossbarNode]:
    """A running router of its own, for tests that stop, kill or restart it."""
    name = str(request.param)
    if name == "crossbar":
        yield request.getfixturevalue("fresh_crossbar")
    else:
        yield from _our_node(name.removeprefix("ours-"))

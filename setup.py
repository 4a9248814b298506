"""Build: the pure-Python packages, plus the hot path compiled with mypyc.

The hot path (messages, serializers, the session, the connection, the adapters'
shared core) is plain, typed Python, and that source is what ships and what the
tests cover. A wheel build also compiles those modules with mypyc into extension
modules that Python imports in their place (validating a message takes half the
time; a whole call about two thirds). The compiled form is optional by design:

* ``WAMP_CORE_PURE=1`` builds a pure wheel;
* an editable install (``pip install -e .``) never compiles, so a development tree
  runs the Python it shows (and coverage can see it);
* a machine without a C compiler gets the pure package, with a warning.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = [
    "wamp_core/messages/__init__.py",
    "wamp_core/messages/_base.py",
    "wamp_core/messages/_check.py",
    "wamp_core/messages/_session.py",
    "wamp_core/messages/_pubsub.py",
    "wamp_core/messages/_rpc.py",
    "wamp_core/serializers.py",
    "wamp_core/session/_base.py",
    "wamp_core/session/_requests.py",
    "wamp_core/session/_incoming.py",
    "wamp_core/session/_client.py",
    "wamp_core/connection.py",
    "wamp_core/application/core.py",
    "wamp_core/application/shaping.py",
    "wamp_core/transports/base.py",
    "wamp_core/transports/rawsocket.py",
    "wamp_core/transports/rawsocket_server.py",
    "wamp_core/transports/websocket.py",
    "wamp_core/transports/websocket_server.py",
    "wamp_core/transports/_wsframe.py",
    "wamp_core/router/_ids.py",
    "wamp_core/router/session.py",
    "wamp_core/router/authorization.py",
    "wamp_core/router/authorizer.py",
    "wamp_core/router/broker.py",
    "wamp_core/router/dealer.py",
    "wamp_core/router/realm.py",
    "wamp_core/router/connection.py",
    "wamp_core/router/router.py",
]


class OptionalBuildExt(build_ext):
    """Build the compiled modules when possible; otherwise leave the pure package.

    All or nothing: the modules share one mypyc runtime library, so a module built
    without it would fail to import. On any failure, what was built is removed."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a missing compiler shows up as several error types
            for path in self.get_outputs():
                if os.path.exists(path):
                    os.remove(path)
            self.extensions = []
            print(f"wamp-sansio: building the pure-Python package ({exc})", file=sys.stderr)


def compiled_extensions() -> list[Any]:
    if os.environ.get("WAMP_CORE_PURE", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify  # noqa: PLC0415 (only a wheel build needs it)
    except ImportError as exc:
        print(f"wamp-sansio: mypyc not available ({exc}); pure-Python package", file=sys.stderr)
        return []
    try:
        return mypycify(  # type: ignore[no-any-return]
            # The build environment has no optional dependencies (cryptography, ...):
            # not our strict config, which would fail on their missing stubs.
            ["--config-file=", "--ignore-missing-imports", *COMPILED_MODULES],
            opt_level="3",
            group_name="wamp_core",
        )
    except (Exception, SystemExit) as exc:  # mypyc reports its errors and exits
        print(f"wamp-sansio: mypyc failed ({exc!r}); pure-Python package", file=sys.stderr)
        return []


# mypyc type-checks the package before it writes C, which takes a while: run it only
# for the commands that build (not for metadata, sdists or editable installs).
_BUILDING = bool({"bdist_wheel", "build", "build_ext", "install"} & set(sys.argv))

setup(
    ext_modules=compiled_extensions() if _BUILDING else [],
    cmdclass={"build_ext": OptionalBuildExt},
)

"""Tools for testing and fuzzing WAMP peers and applications.

They need what the library itself does not: ``hypothesis`` for the strategies and
``wsproto`` for the scripted router's independent WebSocket implementation. Install
them with the ``testing`` extra: ``pip install "wamp-sansio[testing]"``.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
    import wsproto  # noqa: F401
except ImportError as error:
    raise ImportError(
        f"wamp_core.testing needs {error.name}, which the library itself does not: "
        'install the testing extra, pip install "wamp-sansio[testing]"'
    ) from error

"""A logger that takes both logging's ``%`` arguments and txaio's ``{name}`` keywords,
so Autobahn code (``self.log.info("joined {details}", details=details)``) runs as is."""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["Logger"]

_LOGGING_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})


class Logger:
    """Wraps a ``logging.Logger``; a message with keyword fields is ``str.format``-ted."""

    def __init__(self, name: str):
        self._logger = logging.getLogger(name)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def _log(self, level: int, msg: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._logger.isEnabledFor(level):
            return
        fields = {k: v for k, v in kwargs.items() if k not in _LOGGING_KEYWORDS}
        options = {k: v for k, v in kwargs.items() if k in _LOGGING_KEYWORDS}
        if fields and isinstance(msg, str):
            try:
                msg = msg.format(**fields)
            except (KeyError, IndexError, ValueError, AttributeError):
                msg = f"{msg} {fields}"
        options.setdefault("stacklevel", 3)
        self._logger.log(level, msg, *args, **options)

    def trace(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.DEBUG - 5, msg, args, kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.DEBUG, msg, args, kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.INFO, msg, args, kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.WARNING, msg, args, kwargs)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.ERROR, msg, args, kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._log(logging.CRITICAL, msg, args, kwargs)

    def failure(self, msg: Any = "{log_failure}", *args: Any, **kwargs: Any) -> None:
        """txaio's: log the exception being handled."""
        kwargs.setdefault("log_failure", sys.exc_info()[1])
        kwargs.setdefault("exc_info", True)
        self._log(logging.ERROR, msg, args, kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self._log(logging.ERROR, msg, args, kwargs)

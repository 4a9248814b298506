"""What a session driven in its stream's callbacks (``Driver.start_in_callbacks``) needs
from the event loop, behind one small interface: the stream itself.

A ``CallbackStream`` hands what arrives to a receiver as it arrives, takes writes
without an await while its buffer has room, and schedules the driver's own callbacks
(``call_soon``, ``call_at``). ``enter``/``leave`` wrap code that runs outside any task
so that anyio finds its backend. Two implementations: ``AsyncioStream`` (an asyncio
transport's protocol callbacks) and ``TrioStream`` (one trio system task per run
multiplexing every such socket, see ``_trio_mux``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

from anyio.abc import ByteStream

__all__ = ["CallbackStream", "Timer", "enter_asyncio", "leave_asyncio"]

_sniffio_local: Any
try:
    from sniffio import thread_local as _sniffio_local
except ImportError:  # newer anyio versions do not depend on sniffio
    _sniffio_local = None


class Timer(Protocol):
    """A scheduled ``call_at``: asyncio's TimerHandle has this surface."""

    def when(self) -> float: ...

    def cancel(self) -> None: ...


class CallbackStream(ByteStream):
    """A byte stream that can drive a session from callbacks (see the module docstring)."""

    __slots__ = ()

    @abstractmethod
    def deliver_to(self, receiver: Callable[[bytes], None] | None) -> None:
        """Hand what arrives to ``receiver`` as it arrives; ``b""`` once, at the end."""

    @abstractmethod
    def pause_delivery(self) -> None:
        """Stop reading until ``resume_delivery()`` (backpressure)."""

    @abstractmethod
    def resume_delivery(self) -> None: ...

    @abstractmethod
    def writable(self) -> bool:
        """Whether ``write_soon`` takes bytes now."""

    @abstractmethod
    def write_soon(self, item: bytes) -> bool:
        """Write without waiting; False (nothing written) when full or closed."""

    @abstractmethod
    def close(self) -> None:
        """Close without an await: what is written still goes out (for a bounded time)."""

    @abstractmethod
    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Call ``callback(*args)`` soon, outside the caller's stack."""

    @abstractmethod
    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback()`` at ``when`` (the backend's clock) unless canceled."""

    @abstractmethod
    def enter(self) -> Any:
        """Before running anyio code outside any task; give the result to ``leave``."""

    @abstractmethod
    def leave(self, token: Any) -> None: ...


def enter_asyncio() -> str | None:
    """Outside any task (an asyncio callback): anyio finds asyncio through sniffio's
    override; the previous value goes to ``leave_asyncio``."""
    if _sniffio_local is None:
        return None  # without sniffio, anyio assumes asyncio whenever a loop runs
    previous: str | None = _sniffio_local.name
    _sniffio_local.name = "asyncio"
    return previous


def leave_asyncio(previous: str | None) -> None:
    if _sniffio_local is not None:
        _sniffio_local.name = previous

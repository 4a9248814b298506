"""What every message class shares: its code, its name, equality and repr."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Self


class Message:
    """One WAMP message. Subclasses set ``CODE``/``NAME`` and their fields (``__slots__``,
    and again as ``FIELDS``, which a mypyc-compiled class still has).

    ``from_list`` checks a decoded list strictly and builds the message without
    running the constructor's defaults again; ``to_list`` gives the wire list.
    Two messages are equal when they have the same type and the same wire form.

    Elsewhere a code is named (``Call.CODE``); a class's own ``to_list`` (and the
    shortcuts in ``parse``) write it as the literal beside ``CODE``: compiled, a class
    attribute is a lookup in the type's dict (about 10 ns a message), a literal is free.
    """

    __slots__ = ()
    CODE: ClassVar[int]
    NAME: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_list(cls, wmsg: list[Any], strict_uris: bool = False) -> Self:
        raise NotImplementedError

    def to_list(self) -> list[Any]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Message)
        return self.to_list() == other.to_list()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({fields})"


def with_payload(
    head: list[Any],
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
    payload: bytes | str | None,
) -> list[Any]:
    """Append the payload part: an encrypted payload, or args/kwargs without empty tails."""
    if payload is not None:
        head.append(payload)
    elif kwargs:
        head.append(args or [])
        head.append(kwargs)
    elif args:
        head.append(args)
    return head

"""SASLprep (RFC 4013), the string normalisation SCRAM applies to names and passwords.

Built on the stdlib ``stringprep`` tables. Unassigned code points are allowed
("query" strings, RFC 4013 section 2.5), as RFC 5802 asks of SCRAM clients.
"""

from __future__ import annotations

import stringprep
import unicodedata
from collections.abc import Callable

__all__ = ["saslprep"]

# RFC 4013 section 2.3: every table a prepared string must not touch.
_PROHIBITED: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("non-ASCII space", stringprep.in_table_c12),
    ("control character", stringprep.in_table_c21_c22),
    ("private use character", stringprep.in_table_c3),
    ("non-character code point", stringprep.in_table_c4),
    ("surrogate code point", stringprep.in_table_c5),
    ("character inappropriate for plain text", stringprep.in_table_c6),
    ("character inappropriate for canonical representation", stringprep.in_table_c7),
    ("display property or deprecated character", stringprep.in_table_c8),
    ("tagging character", stringprep.in_table_c9),
)


def saslprep(text: str) -> str:
    """Prepare ``text`` with SASLprep; ValueError when it holds a prohibited character."""
    if not isinstance(text, str):
        raise TypeError(f"saslprep needs a string, got {type(text).__name__}")
    if text.isascii() and text.isprintable():
        return text  # the common case: printable ASCII maps to itself
    # 2.1 mapping: non-ASCII spaces become SPACE, "commonly mapped to nothing" vanish.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    prepared = unicodedata.normalize("NFKC", mapped)  # 2.2
    for ch in prepared:
        for label, in_table in _PROHIBITED:
            if in_table(ch):
                raise ValueError(f"SASLprep: prohibited {label} U+{ord(ch):04X}")
    _check_bidi(prepared)
    return prepared


def _check_bidi(text: str) -> None:
    """RFC 3454 section 6: right-to-left text must be all RTL at both ends, with no LTR."""
    if not any(stringprep.in_table_d1(ch) for ch in text):
        return
    if any(stringprep.in_table_d2(ch) for ch in text):
        raise ValueError("SASLprep: mixes right-to-left and left-to-right characters")
    if not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1])):
        raise ValueError("SASLprep: right-to-left text must start and end with an RTL character")

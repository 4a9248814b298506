"""Which wamp_core a benchmark measures: the mypyc-compiled wheel or the pure Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_PROBE = "import wamp_core.messages._rpc as m; print(m.__file__)"


def wamp_core_build() -> str:
    """Asked of a fresh interpreter started here, as the benchmark's peers are (the
    caller may have the checkout on sys.path, which would shadow an installed wheel)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=HERE, capture_output=True, text=True, check=True
    ).stdout.strip()
    kind = "pure Python" if out.endswith(".py") else "mypyc-compiled"
    return f"wamp_core: {kind} ({out})"

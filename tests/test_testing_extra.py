"""wamp_core.testing needs the ``testing`` extra, and says so when it is missing."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize("missing", ["hypothesis", "wsproto"])
def test_importing_the_kit_without_the_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for name in [m for m in sys.modules if m.startswith("wamp_core.testing")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)  # makes ``import missing`` fail
    with pytest.raises(ImportError, match=r'needs .*pip install "wamp-sansio\[testing\]"') as info:
        importlib.import_module("wamp_core.testing")
    assert info.value.name == missing or missing in str(info.value)


def test_the_kit_imports_with_the_extra() -> None:
    module = importlib.import_module("wamp_core.testing.strategies")
    assert module.messages  # the strategies are there

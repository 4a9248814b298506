"""A clone of the repository carries everything its unit tests need.

A user's clone has nothing beside it (CI machines have more, which once hid test
data read from outside the checkout). This clones the committed tree into an empty
folder and runs the unit tests there, with this interpreter and its packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("WAMP_TEST_INSTALLED") == "compiled",
        reason="the source tree's own run proves it; the compiled run would repeat it",
    ),
    pytest.mark.skipif(
        shutil.which("git") is None or not (ROOT / ".git").exists(),
        reason="needs git and a git checkout",
    ),
]


def test_the_unit_tests_pass_in_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    clone = tmp_path / "x" / "y"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in clone.parent.iterdir()) == ["y"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE"))}
    env["HYPOTHESIS_PROFILE"] = "dev"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
            "--ignore=tests/integration",
            "--deselect",
            "tests/test_fresh_clone.py::test_the_unit_tests_pass_in_a_clone_with_nothing_beside_it",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    tail = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout.splitlines()[-1], tail
    assert "error" not in result.stdout.splitlines()[-1], tail

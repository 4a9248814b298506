"""The built documentation site, rendered by a real browser (headless Chromium).

The site is built strictly (as ``./dev docs`` does, into a temporary folder) with the
MkDocs of ``.nox/docs`` (or one on PATH), served over HTTP on 127.0.0.1, and the
lifecycle page is loaded by Chromium: its DOM must have the navigation, a code block
and the generated diagram, and a screenshot is written (its path is printed). Skipped
with the reason when there is no Chromium or no MkDocs; the manual step is in
docs/index.md ("Working on these pages").
"""

from __future__ import annotations

import ast
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
MKDOCS = ROOT / ".nox" / "docs" / "bin" / "mkdocs"
BROWSER_TIMEOUT = 90.0


def browser() -> str | None:
    return next(filter(None, map(shutil.which, BROWSERS)), None)


def mkdocs() -> str | None:
    return str(MKDOCS) if MKDOCS.exists() else shutil.which("mkdocs")


pytestmark = [
    pytest.mark.skipif(
        os.environ.get("WAMP_TEST_INSTALLED") == "compiled",
        reason="the site is built from the sources; the compiled run would repeat it",
    ),
    pytest.mark.skipif(mkdocs() is None, reason="no MkDocs: ./dev docs installs it into .nox/docs"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [str(mkdocs()), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site over HTTP on a free port of 127.0.0.1, stopped with the module."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def run_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    found = browser()
    if found is None:
        pytest.skip(f"no Chromium ({', '.join(BROWSERS)}) on PATH: apt-get install chromium")
    command = [
        found,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_the_lifecycle_page_renders_navigation_code_and_diagram(
    served: str, tmp_path: Path
) -> None:
    dom = run_browser(tmp_path, "--dump-dom", f"{served}/lifecycle.html").stdout
    assert 'class="md-nav' in dom and "Getting started" in dom and "API reference" in dom
    assert "<pre" in dom and "ApplicationRunner" in dom  # the highlighted program
    assert 'class="lifecycle-diagram"' in dom and ">AUTHENTICATING</text>" in dom
    assert "on_join / onJoin" in dom
    screenshot = tmp_path / "lifecycle.png"  # pytest keeps the last runs' folders
    run_browser(
        tmp_path,
        "--hide-scrollbars",
        "--window-size=1400,2000",
        f"--screenshot={screenshot}",
        f"{served}/lifecycle.html",
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {screenshot}")


def test_the_reference_documents_every_exported_name(site: Path) -> None:
    """Each reference page has an entry for every name of its package's ``__all__``."""
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        package = page.stem
        html = (site / "reference" / f"{package}.html").read_text()
        for name in exported(package):
            # Its own entry, or the entry of what it re-exports (shown on the page).
            entry = re.compile(rf'id="[\w.]+\.{name}"')
            assert entry.search(html), f"{package}.{name} is not on reference/{package}.md"


def exported(package: str) -> list[str]:
    """The ``__all__`` of a package (read from its source: nothing is imported), less
    the names of its submodules (their own pages or sections document them)."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            names = ast.literal_eval(node.value)
            folder = init.parent
            return [
                n for n in names if not (folder / f"{n}.py").exists() and not (folder / n).is_dir()
            ]
    return []

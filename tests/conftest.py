"""Shared fixtures: small sites written inline, and ways to build them for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kabargen.build import BuildOptions, BuildResult, build

# Every build the tests run (in this process and in the `kabargen` processes they start)
# checks each release page kept by its inputs key against its full fingerprint: an input
# missing from Renderer.release_inputs fails the test that changes it (docs/performance.md).
os.environ["KABARGEN_VERIFY_REUSE"] = "1"

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"

DEFAULT_CONFIG = """\
title: Siaran Pers Uji
base_url: https://pers.example.go.id/
"""


def release(title="Rilis Uji", date="2025-05-15 10:00", body="Isi rilis.", **fields) -> str:
    """Front matter and body of a release, for inline test sites."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    fields.setdefault("byline", "[{name: Rina Penulis, role: Tenaga Ahli Peliputan, credit: [penulis, fotografer]}]")
    for key, value in fields.items():
        lines.append(f"{key}: {value}")
    lines += ["---", body]
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_site(tmp_path):
    """Write a site from {relative path: text or bytes}; kabargen.yaml defaults to a small config."""

    def make(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        root = root or tmp_path / "site"
        root.mkdir(parents=True, exist_ok=True)
        files = dict(files)
        files.setdefault("kabargen.yaml", DEFAULT_CONFIG)
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content) if content.startswith("\n") else content, encoding="utf-8")
        return root

    return make


def jpeg(width: int = 64, height: int = 48, color: tuple[int, int, int] = (90, 120, 160)) -> bytes:
    """A real (small) JPEG: photos that releases show are decoded and resized by the build."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return out.getvalue()


def copy_sample(root: Path, language: str = "", extra_config: str = "") -> Path:
    """Copy the repository's sample site (config and content) into ROOT; return ROOT."""
    config = (REPO / "kabargen.yaml").read_text(encoding="utf-8")
    if language:
        config = config.replace("language: id", f"language: {language}")
    root.mkdir(parents=True, exist_ok=True)
    (root / "kabargen.yaml").write_text(config + extra_config, encoding="utf-8")
    shutil.copytree(REPO / "content", root / "content")
    return root


def build_site(root: Path, **options) -> BuildResult:
    """Build in-process (to root/public unless told otherwise) and return the result."""
    options.setdefault("output", root / "public")
    options.setdefault("jobs", 1)
    return build(BuildOptions(source=root, **options))


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `kabargen` command in a new process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kabargen", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300,
    )


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under root: relative path -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def grep_tree(root: Path, needle: str) -> list[str]:
    """Files under root whose bytes contain needle (as UTF-8), like grep -rl."""
    data = needle.encode("utf-8")
    return [rel for rel, content in read_tree(root).items() if data in content]

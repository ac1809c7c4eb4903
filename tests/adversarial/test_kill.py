"""A build killed at any moment leaves a whole site in the output folder, the old one or the
new one byte for byte, and the next build cleans up after it."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import read_tree

NOW = "2025-12-31 00:00"
RELEASES = 240


def write_site(root, version: str) -> None:
    """A site of a few hundred releases; VERSION changes every page (and drops and adds some)."""
    content = root / "content/rilis"
    if content.exists():
        shutil.rmtree(content)
    content.mkdir(parents=True)
    (root / "kabargen.yaml").write_text("title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nper_page: 5\n")
    (root / "content/media").mkdir(exist_ok=True)
    (root / "content/media/foto.jpg").write_bytes(b"\xff\xd8" + version.encode() * 1000)
    start = 0 if version == "lama" else 20  # the new version drops 20 releases and adds 20
    for i in range(start, start + RELEASES):
        (content / f"rilis-{i:04d}.md").write_text(
            f"---\ntitle: Rilis {i} versi {version}\ndate: 2025-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:00\n"
            f"byline: [{{name: Penulis {i % 17}}}]\ntags: [topik{i % 23}, {version}]\n---\n"
            + f"Paragraf {i} versi {version}. " * 40 + "\n"
        )


def build(root, out, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "kabargen", "build", "--source", str(root), "--output", str(out), "--now", NOW, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kwargs,
    )


def staging_folders(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".kabargen-staging-"))


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """The site (left at its new version), the old output and the new output, built for real."""
    base = tmp_path_factory.mktemp("kill")
    root = base / "situs"
    write_site(root, "lama")
    old_out = base / "lama"
    assert build(root, old_out).wait(timeout=300) == 0
    write_site(root, "baru")
    new_out = base / "baru"
    started = time.perf_counter()
    process = build(root, new_out)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    seconds = time.perf_counter() - started
    old, new = read_tree(old_out), read_tree(new_out)
    assert old != new and len(new) > 500
    return root, old_out, old, new, seconds


def kill_at(root, out, old_out, how: signal.Signals, moment):
    """Reset OUT to the old site, start a build, signal it at MOMENT, return what the folder holds."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(old_out, out)
    process = build(root, out)
    if moment == "staging":
        deadline = time.monotonic() + 120
        while not staging_folders(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(random.uniform(0, 0.4))
    else:
        time.sleep(moment)
    try:
        os.killpg(process.pid, how)
    except ProcessLookupError:
        pass  # it finished first: the folder must then hold the new site
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"build did not stop after {how.name}")
    return process.returncode


def test_killed_builds_leave_the_old_or_the_new_site(trees, tmp_path):
    root, old_out, old, new, seconds = trees
    out = tmp_path / "public"
    rng = random.Random(int(os.environ.get("KABARGEN_KILL_SEED", "7")))
    random.seed(rng.random())
    moments = [(signal.SIGKILL, f * seconds * rng.uniform(0.9, 1.1)) for f in (0.15, 0.45, 0.75, 0.95)]
    moments += [(signal.SIGKILL, "staging"), (signal.SIGKILL, "staging"), (signal.SIGINT, 0.5 * seconds), (signal.SIGINT, "staging")]
    seen = []
    for how, moment in moments:
        code = kill_at(root, out, old_out, how, moment)
        assert out.is_dir(), (how, moment)
        tree = read_tree(out)
        assert tree == old or tree == new, (how, moment, code, sorted(set(tree) ^ set(old))[:5], sorted(set(tree) ^ set(new))[:5])
        seen.append("old" if tree == old else "new")
    # After a killed build the next one works, replaces the site and leaves no staging folder.
    process = build(root, out)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    assert read_tree(out) == new
    assert staging_folders(out) == []
    assert "old" in seen, seen  # at least one kill landed before the exchange

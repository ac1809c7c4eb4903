"""Pages and static files to disk, atomically; unchanged files keep their mtimes.

The new site is built in a staging folder beside the output. A file whose bytes
did not change is hard-linked from the old output (so it keeps its mtime and sync
tools skip it), then the two folders are exchanged in one step. At every moment
the output folder holds a whole site, the old one or the new one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import filecmp
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .model import Page, StaticFile

STAGING_PREFIX = ".kabargen-staging-"
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class WriteReport:
    """What a write changed: counts for the summary line."""

    written: int
    unchanged: int
    removed: int

    @property
    def files(self) -> int:
        return self.written + self.unchanged


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP if hasattr(errno, "ENOTSUP") else errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(a))


def clear_stale_staging(output: Path) -> None:
    """Remove staging folders a killed build left beside the output."""
    parent = output.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(STAGING_PREFIX + output.name + "-") and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def safe_join(root: Path, rel: str) -> Path:
    """root/rel, refusing any path that would leave root."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or not parts:
        raise ValueError(f"unsafe output path {rel!r}")
    return root.joinpath(*parts)


def _same(old: Path, data: bytes) -> bool:
    try:
        if old.stat().st_size != len(data):
            return False
        return old.read_bytes() == data
    except OSError:
        return False


def write_site(
    output: Path, pages: Iterable[Page], static: Iterable[StaticFile], before_swap: Callable[[Path], None] | None = None
) -> WriteReport:
    """Write the new site into OUTPUT, replacing the old one atomically.

    BEFORE_SWAP runs on the finished staging folder and may add files to it (the
    search index); they are part of the same swap. An exception there leaves the
    old output untouched.
    """
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    clear_stale_staging(output)
    staging = output.parent / f"{STAGING_PREFIX}{output.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    written = unchanged = 0
    new_paths: set[str] = set()
    try:
        for page in pages:
            rel = page.output_path
            new_paths.add(rel)
            target = safe_join(staging, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            old = safe_join(output, rel)
            if _same(old, page.data):
                os.link(old, target)
                unchanged += 1
            else:
                target.write_bytes(page.data)
                written += 1
        for item in static:
            new_paths.add(item.path)
            target = safe_join(staging, item.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            old = safe_join(output, item.path)
            try:
                same = old.is_file() and filecmp.cmp(old, item.src, shallow=False)
            except OSError:
                same = False
            if same:
                os.link(old, target)
                unchanged += 1
            else:
                shutil.copyfile(item.src, target)
                written += 1
        if before_swap is not None:
            before_swap(staging)
            for rel in sorted(set(_list_files(staging)) - new_paths):
                new_paths.add(rel)
                target = safe_join(staging, rel)
                old = safe_join(output, rel)
                try:
                    same = old.is_file() and filecmp.cmp(old, target, shallow=False)
                except OSError:
                    same = False
                if same:
                    # Keep the old file (and its mtime), as for pages.
                    target.unlink()
                    os.link(old, target)
                    unchanged += 1
                else:
                    written += 1
        removed = sum(1 for rel in _list_files(output) if rel not in new_paths)
        _fsync_tree(staging)
        _swap(staging, output)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return WriteReport(written=written, unchanged=unchanged, removed=removed)


def _list_files(root: Path) -> Iterable[str]:
    if not root.is_dir():
        return
    for dirpath, _, files in os.walk(root):
        for name in files:
            yield (Path(dirpath) / name).relative_to(root).as_posix()


def _fsync_tree(root: Path) -> None:
    """Flush the staging folder so a crash after the swap cannot leave empty files."""
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(staging: Path, output: Path) -> None:
    """Put staging in place of output; the old output ends up at the staging path."""
    if not output.exists():
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        return
    # Without an atomic exchange: two renames, with the old site kept until the new one is in.
    backup = output.parent / f"{STAGING_PREFIX}{output.name}-old-{uuid.uuid4().hex[:8]}"
    os.rename(output, backup)
    os.rename(staging, output)
    os.rename(backup, staging)

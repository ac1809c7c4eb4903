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
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .cache import OutputRecord
from .model import Page, StaticFile
from .workers import forking_quietly, quiet_worker

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


def spare_path(output: Path, cache_folder: Path) -> Path | None:
    """Where the previous output waits to be made into the next one (see Staging), or None.

    In the cache folder, so nothing but the output and the cache changes in the site folder;
    only when it is on the output's file system (a hard link or rename cannot cross).
    """
    output = output.absolute()
    try:
        cache_folder.mkdir(parents=True, exist_ok=True)
        output.parent.mkdir(parents=True, exist_ok=True)
        if os.stat(cache_folder).st_dev != os.stat(output.parent).st_dev:
            return None
    except OSError:
        return None
    name = hashlib.blake2b(str(output).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    return cache_folder / "spare" / name


def clear_stale_staging(output: Path) -> None:
    """Remove staging folders a killed build left beside the output."""
    parent = output.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(STAGING_PREFIX + output.name + "-") and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def safe_rel(rel: str) -> str:
    """REL as a clean posix path, refusing any path that would leave the folder."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or not parts:
        raise ValueError(f"unsafe output path {rel!r}")
    return "/".join(parts)


def safe_join(root: Path, rel: str) -> Path:
    """root/rel, refusing any path that would leave root."""
    return root.joinpath(*safe_rel(rel).split("/"))


def _same(old: str, data: bytes) -> bool:
    try:
        if os.stat(old).st_size != len(data):
            return False
        with open(old, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def _tree(root: str) -> tuple[dict[str, int], set[str]]:
    """Files (path -> inode, from the directory entries) and folders under ROOT."""
    files: dict[str, int] = {}
    dirs: set[str] = set()
    stack = [("", root)]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                sub = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(sub)
                    stack.append((sub, entry.path))
                else:
                    files[sub] = entry.inode()
    return files, dirs


class OutputLock:
    """Holds off other builds into the same output folder until this one is done.

    Two builds at once (a `kabargen serve` and a `kabargen build`, two CI jobs) would clear
    each other's staging folder and share the spare; the second now waits for the first.
    """

    def __init__(self, output: Path):
        # The lock is on the folder holding the output: no lock file is left behind.
        self.path = output.absolute().parent
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: go on unlocked
            if self._fd is not None:
                os.close(self._fd)
            self._fd = None
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


class Survey:
    """What is on disk beside and in the output: the spare's files and folders, the output's files.

    Listing ~20,000 folders takes about half a second, so where the system can fork, a
    separate process lists them while the build reads content and assembles the site.
    """

    def __init__(self, output: Path, spare: Path | None = None):
        self.output = output.absolute()
        self.spare = spare
        self._result: tuple | None = None
        self._process = None
        self._conn = None
        if not (self.output.exists() or (spare is not None and spare.exists())):
            self._result = ({}, set(), set())
            return
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self._conn, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_survey_child, args=(child_end, self.output, spare), daemon=True)
            with forking_quietly():
                self._process.start()
            child_end.close()

    def close(self) -> None:
        """Stop the listing process if nobody asked for its result."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._process = None

    def result(self) -> tuple[dict[str, int], set[str], set[str]]:
        """(spare files -> inode, spare folders, output files)."""
        if self._result is None and self._process is not None:
            try:
                self._result = self._conn.recv()
            except EOFError:
                self._result = None
            self._process.join()
            self._process = None
        if self._result is None:
            self._result = _survey(self.output, self.spare)
        return self._result


def _survey(output: Path, spare: Path | None) -> tuple[dict[str, int], set[str], set[str]]:
    spare_files: dict[str, int] = {}
    spare_dirs: set[str] = set()
    if spare is not None and spare.is_dir() and not spare.is_symlink():
        spare_files, spare_dirs = _tree(str(spare))
    output_files = set(_tree(str(output))[0]) if output.is_dir() else set()
    return spare_files, spare_dirs, output_files


def _survey_child(conn, output: Path, spare: Path | None) -> None:  # pragma: no cover - runs in a fork
    quiet_worker()  # Ctrl-C reaches the whole process group: the parent stops this process
    try:
        conn.send(_survey(output, spare))
    except BaseException:  # noqa: BLE001 - the parent lists the folders itself
        pass
    finally:
        conn.close()
        os._exit(0)


def page_sha(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Staging:
    """The next output folder, made beside the output and exchanged with it at the end.

    Unchanged files are hard links to the output's (they keep their mtimes). The folder
    starts as the spare: the output before the last build, which that build left beside
    the output instead of deleting it. Most of its files are already links to the current
    output's, so bringing it up to date touches only what changed in the last two builds,
    not every file. Its state is read from the disk (names and inodes), never assumed, so
    a spare that a killed build left half-updated is still right to start from. Files in
    it that may be links to the live output are replaced, never written through.

    `records` (from the cache) describe the output's files: a file whose record says it
    has the bytes (or inputs) of the new one, and that a stat shows untouched, is linked
    without being read.
    """

    def __init__(self, output: Path, records: Mapping[str, OutputRecord] | None = None, survey: Survey | None = None):
        self.output = output.absolute()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        survey = survey or Survey(self.output)
        self.spare = survey.spare
        spare_files, spare_dirs, self.old_files = survey.result()
        clear_stale_staging(self.output)
        self.path = self.output.parent / f"{STAGING_PREFIX}{self.output.name}-{uuid.uuid4().hex[:8]}"
        self.present: dict[str, int] = {}
        self.dirs: set[str] = {""}
        spare = self.spare
        if spare is not None and spare.is_dir() and not spare.is_symlink():
            os.rename(spare, self.path)
            self.present = dict(spare_files)
            self.dirs |= spare_dirs
        else:
            self.path.mkdir()
        self.records = dict(records or {})
        self._out = str(self.output)
        self._stage = str(self.path)
        self.new_records: dict[str, OutputRecord] = {}
        self.written = 0
        self.unchanged = 0

    # -- one file -------------------------------------------------------------------

    def _target(self, rel: str) -> str:
        """The staging path for REL, its folder made and any old file there removed."""
        parent = rel.rpartition("/")[0]
        if parent not in self.dirs:
            self._make_dirs(parent)
        target = os.path.join(self._stage, rel)
        if rel in self.present:
            # It may be a link to the live output's file: replace it, never write into it.
            os.unlink(target)
            del self.present[rel]
        elif rel in self.dirs:
            shutil.rmtree(target)
            self.dirs = {d for d in self.dirs if d != rel and not d.startswith(rel + "/")}
        return target

    def _make_dirs(self, folder: str) -> None:
        missing = []
        while folder not in self.dirs:
            missing.append(folder)
            folder = folder.rpartition("/")[0]
        for sub in reversed(missing):
            if sub in self.present:  # a file of the spare where a folder must go
                try:
                    os.unlink(os.path.join(self._stage, sub))
                except FileNotFoundError:  # another worker removed it
                    pass
                del self.present[sub]
            try:
                os.mkdir(os.path.join(self._stage, sub))
            except FileExistsError:  # another worker made it
                pass
            self.dirs.add(sub)

    def _intact(self, rel: str, record: OutputRecord) -> bool:
        try:
            return record.matches(os.stat(os.path.join(self._out, rel)))
        except OSError:
            return False

    def _keep(self, rel: str, record: OutputRecord, key: str) -> None:
        """Put the output's own file at REL into the staging folder."""
        if self.present.get(rel) != record.ino:
            target = self._target(rel)
            source = os.path.join(self._out, rel)
            try:
                os.link(source, target)
            except OSError:  # a file system without hard links
                shutil.copy2(source, target)
        self.new_records[rel] = OutputRecord(key, record.sha, record.size, record.ino, record.mtime_ns)
        self.unchanged += 1

    def _keep_old(self, rel: str, key: str, sha: str) -> bool:
        """Keep the output's file at REL when the cache knows nothing of it but its bytes match."""
        old = os.path.join(self._out, rel)
        try:
            st = os.stat(old)
        except OSError:
            return False
        self._keep(rel, OutputRecord(key, sha, st.st_size, st.st_ino, st.st_mtime_ns), key)
        return True

    def put_page(self, page: Page) -> None:
        """Stage one page: kept from the output when unchanged, else written."""
        rel = safe_rel(page.output_path)
        record = self.records.get(rel)
        if page.data is None:  # the renderer found the output's file up to date
            self._keep(rel, record, page.key)
            return
        sha = page_sha(page.data)
        if record is not None and self._intact(rel, record):
            if record.sha == sha:
                self._keep(rel, record, page.key)
                return
        elif rel in self.old_files and _same(os.path.join(self._out, rel), page.data) and self._keep_old(rel, page.key, sha):
            return
        target = self._target(rel)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            view = memoryview(page.data)
            while view:
                view = view[os.write(fd, view):]
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self.new_records[rel] = OutputRecord(page.key, sha, st.st_size, st.st_ino, st.st_mtime_ns)
        self.written += 1

    def put_file(self, item: StaticFile) -> None:
        """Stage a copied file (content media, static/, theme assets)."""
        rel = safe_rel(item.path)
        src = os.stat(item.src)
        # Keyed by the source's stat: reading every photo again on each build would cost more.
        key = f"file:{src.st_size}:{src.st_mtime_ns}:{src.st_ctime_ns}:{src.st_ino}"
        record = self.records.get(rel)
        if record is not None and record.key == key and self._intact(rel, record):
            self._keep(rel, record, key)
            return
        old = os.path.join(self._out, rel)
        try:
            same = rel in self.old_files and filecmp.cmp(old, item.src, shallow=False)
        except OSError:
            same = False
        if same and self._keep_old(rel, key, ""):
            return
        target = self._target(rel)
        shutil.copyfile(item.src, target)
        st = os.stat(target)
        self.new_records[rel] = OutputRecord(key, "", st.st_size, st.st_ino, st.st_mtime_ns)
        self.written += 1

    # -- several processes ------------------------------------------------------------

    def outcome(self) -> tuple[dict[str, OutputRecord], int, int]:
        """What this process staged, for merge() in the main process."""
        return self.new_records, self.written, self.unchanged

    def merge(self, outcome: tuple[dict[str, OutputRecord], int, int]) -> None:
        records, written, unchanged = outcome
        for rel in records:
            self.present.pop(rel, None)
        self.new_records.update(records)
        self.written += written
        self.unchanged += unchanged

    # -- the end ------------------------------------------------------------------------

    def _after_hook(self, before_swap: Callable[[Path], None], needed: set[str]) -> None:
        """Run BEFORE_SWAP and take in the files it added (found under new top-level names)."""
        tops = {rel.split("/", 1)[0] for rel in self.new_records}
        before = {entry.name for entry in os.scandir(self._stage)}
        before_swap(self.path)
        for entry in os.scandir(self._stage):
            if entry.name in tops and entry.name in before:
                continue
            added = _tree(entry.path)[0] if entry.is_dir(follow_symlinks=False) else {"": entry.inode()}
            for sub in added:
                rel = f"{entry.name}/{sub}" if sub else entry.name
                target = os.path.join(self._stage, rel)
                old = os.path.join(self._out, rel)
                try:
                    same = rel in self.old_files and filecmp.cmp(old, target, shallow=False)
                except OSError:
                    same = False
                if same:
                    os.unlink(target)
                    os.link(old, target)
                    self.unchanged += 1
                else:
                    self.written += 1
                st = os.stat(target)
                self.new_records[rel] = OutputRecord("", "", st.st_size, st.st_ino, st.st_mtime_ns)

    def abandon(self) -> None:
        """Give up (the build failed): the output stays; the folder is kept as the spare."""
        if self.path.exists():
            self._keep_as_spare()

    def _keep_as_spare(self) -> None:
        if self.spare is not None:
            try:
                self.spare.parent.mkdir(parents=True, exist_ok=True)
                if self.spare.exists():
                    shutil.rmtree(self.spare)
                os.rename(self.path, self.spare)
                return
            except OSError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)

    def finish(self, before_swap: Callable[[Path], None] | None = None) -> WriteReport:
        """Remove what the new site does not have, then put it in place of the output.

        BEFORE_SWAP runs on the finished staging folder and may add files to it (the search
        index); they are part of the same swap, and those equal to the output's keep its
        files (and their mtimes). An exception there leaves the old output untouched.
        """
        paths = self.new_records
        try:
            for rel in [r for r in self.present if r not in paths]:
                os.unlink(os.path.join(self._stage, rel))
            needed = {""}
            for rel in paths:
                folder = rel.rpartition("/")[0]
                while folder not in needed:
                    needed.add(folder)
                    folder = folder.rpartition("/")[0]
            for folder in sorted(self.dirs - needed, key=len, reverse=True):
                shutil.rmtree(os.path.join(self._stage, folder), ignore_errors=True)
            if before_swap is not None:
                self._after_hook(before_swap, needed)
            removed = sum(1 for rel in self.old_files if rel not in paths)
            _fsync_tree(self.path)
            had_output = self.output.exists()
            _swap(self.path, self.output)
        except BaseException:
            self.abandon()
            raise
        if had_output and self.path.exists():
            # The old output, now beside the new one: next build's starting point.
            self._keep_as_spare()
        return WriteReport(written=self.written, unchanged=self.unchanged, removed=removed)


def write_site(
    output: Path, pages: Iterable[Page], static: Iterable[StaticFile], before_swap: Callable[[Path], None] | None = None,
    records: Mapping[str, OutputRecord] | None = None,
) -> WriteReport:
    """Write the new site into OUTPUT, replacing the old one atomically (see Staging)."""
    staging = Staging(output, records)
    try:
        for page in pages:
            staging.put_page(page)
        for item in static:
            staging.put_file(item)
    except BaseException:
        staging.abandon()
        raise
    return staging.finish(before_swap)


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

"""The static search index: Pagefind run on the finished site before it is swapped in.

Pagefind reads the built HTML, so it can only index what the output holds: hidden
releases never reach it. Only elements marked `data-pagefind-body` (release and
page articles) are indexed. The index is rebuilt only when the bytes of those
pages change; otherwise the previous index is copied from the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .model import Page

INDEX_DIR = "pagefind"  # the index lives under /pagefind/ of the site
SEARCH_PAGE = "cari/"
ENV_BINARY = "KABARGEN_PAGEFIND"  # another pagefind binary (or a broken one, to test the fallback)
CACHE_DIR = Path(".kabargen-cache") / "search"
BODY_MARK = b"data-pagefind-body"
CACHE_FORMAT = "kabargen-search-1"  # bump when what is kept of an index changes
# Pagefind's ready-made interfaces: the theme has its own search script, so these are not published.
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")


class SearchUnavailable(Exception):
    """The Pagefind binary is missing or cannot run on this platform."""


@dataclass(frozen=True)
class Indexer:
    """A runnable Pagefind binary and where its cached indexes live."""

    binary: str
    version: str
    language: str
    cache: Path

    def key(self, pages: Iterable[Page]) -> str:
        """A hash of everything the index depends on: the pages' paths and bytes.

        The same as key_from_hashes() of the pages' hashes, so that a preview (which holds
        every page's bytes) and a build (which keeps only hashes of unchanged pages) share
        cached indexes.
        """
        return self.key_from_hashes(
            (page.output_path, hashlib.blake2b(page.data, digest_size=16).hexdigest()) for page in pages if page.data is not None
        )

    def key_from_hashes(self, files: Iterable[tuple[str, str]]) -> str:
        """Like key(), from (output path, hash of its bytes) of the staged files.

        The hashes are BLAKE2b-128 of each page's bytes (write.page_sha). A build that keeps
        unchanged pages does not hold their bytes, only their hashes, so every HTML page counts
        here, not only those with the indexed mark: the index is rebuilt a little more often
        than strictly needed, never less.
        """
        digest = hashlib.sha256()
        digest.update(f"{CACHE_FORMAT}\0{self.version}\0{self.language}\0hashes\0".encode())
        for rel, sha in sorted(files):
            if rel.endswith(".html"):
                digest.update(rel.encode() + b"\0" + sha.encode() + b"\0")
        return digest.hexdigest()

    def index(self, staging: Path, key: str) -> bool:
        """Write STAGING/pagefind/; True when it was reused from the cache."""
        target = staging / INDEX_DIR
        cached = self.cache / key
        if (cached / "pagefind-entry.json").is_file():
            shutil.copytree(cached, target)
            return True
        result = subprocess.run(
            [self.binary, "--site", str(staging), "--output-subdir", INDEX_DIR, "--force-language", self.language, "--silent"],
            capture_output=True, text=True, timeout=600,
        )
        if result.returncode != 0 or not (target / "pagefind-entry.json").is_file():
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise SearchUnavailable(f"pagefind failed (exit {result.returncode}){': ' + detail[-1] if detail else ''}")
        for name in UNUSED:
            (target / name).unlink(missing_ok=True)
        self._store(target, key)
        return False

    def _store(self, index: Path, key: str) -> None:
        """Keep this index as the only cached one (older ones can never match again cheaply)."""
        try:
            if self.cache.is_dir():
                for old in self.cache.iterdir():
                    shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
            self.cache.mkdir(parents=True, exist_ok=True)
            tmp = self.cache / f".{key}.{os.getpid()}.tmp"
            shutil.copytree(index, tmp)
            os.replace(tmp, self.cache / key)
        except OSError:
            pass  # a cache that cannot be written only costs the next build some time


def find_binary() -> str:
    """The pagefind binary: $KABARGEN_PAGEFIND, else the one the pagefind_bin package ships."""
    override = os.environ.get(ENV_BINARY)
    if override:
        return override
    try:
        import pagefind_bin
    except ImportError as exc:
        raise SearchUnavailable("the pagefind_bin package is not installed (pip install 'pagefind[bin]')") from exc
    try:
        return str(pagefind_bin.get_executable())
    except (FileNotFoundError, OSError) as exc:
        raise SearchUnavailable(f"no pagefind binary for this platform: {exc}") from exc


def make_indexer(root: Path, language: str) -> Indexer:
    """A checked Indexer: the binary must answer --version, else SearchUnavailable."""
    binary = find_binary()
    try:
        result = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise SearchUnavailable(f"cannot run {binary}: {exc.strerror or exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise SearchUnavailable(f"{binary} --version did not answer") from exc
    if result.returncode != 0 or "pagefind" not in result.stdout.lower():
        raise SearchUnavailable(f"{binary} --version failed (exit {result.returncode})")
    # Pagefind takes ISO 639-1 codes; "id-ID" indexes as "id".
    lang = language.split("-")[0].lower() or "id"
    return Indexer(binary, result.stdout.strip(), lang, root / CACHE_DIR)

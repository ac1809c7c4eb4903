"""The build cache (`.kabargen-cache/`): results of earlier builds, reused only when every input matches.

What is kept, and what it is keyed by:

- per Markdown file, the parsed front matter and the converted body, keyed by the file's
  SHA-256 and its path under content/ (relative links depend on it), in files whose header
  names kabargen's version, a hash of kabargen's own code and the converter's settings;
- the state of the output folder as the last build left it: for each file, the fingerprint
  of the inputs of its page (see `Fingerprints`), the hash of its bytes and its inode,
  size and mtime, so an unchanged page is neither rendered nor read again;
- list entries ("cards") by the fingerprint of the release they show.

Every file starts with a header (format, kabargen version, code hash, scope) and a CRC-32
of its payload (against damage; the unpickler below is the guard against crafted files); a file that is truncated, corrupt, from another version or for
other settings is ignored, never trusted. Payloads are pickles of plain data (dicts, lists,
tuples, strings, numbers) read with an unpickler that refuses every class and function, so
a crafted cache file can describe wrong data at worst, never run code. Files are written
atomically (a temporary file, then a rename); `kabargen check` opens the cache read-only.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import marshal
import os
import pickle
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import __version__
from .model import Page

CACHE_DIR = ".kabargen-cache"
FORMAT = 2
MAGIC = b"kabargen-cache\n"
SOURCE_SHARDS = 64
# Backup and sync tools skip folders holding this file (https://bford.info/cachedir/).
CACHEDIR_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# kabargen's build cache; safe to delete.\n"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of kabargen's version and its own Python files: new code never reuses old results."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode() + b"\0")
    for path in sorted(here.rglob("*.py")):
        digest.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stable_digest(*parts: Any) -> str:
    """A short hash of plain data (str, bytes, numbers, None, tuples and lists of them)."""
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class _PlainUnpickler(pickle.Unpickler):
    """Loads plain data only: any class or function in the stream is an error."""

    def find_class(self, module: str, name: str):  # noqa: D102 - pickle's API
        raise pickle.UnpicklingError(f"cache files hold plain data only, not {module}.{name}")


def pack(kind: str, scope: str, data: Any) -> bytes:
    """Serialize DATA with a header naming what it is and for which settings, and a checksum."""
    payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    header = json.dumps(
        {"format": FORMAT, "kind": kind, "version": __version__, "code": code_digest(), "scope": scope},
        sort_keys=True,
    ).encode()
    checksum = zlib.crc32(payload).to_bytes(4, "big")
    return MAGIC + len(header).to_bytes(4, "big") + header + checksum + payload


def unpack(blob: bytes, kind: str, scope: str) -> Any | None:
    """The data in BLOB, or None when it is damaged or was written for anything else."""
    try:
        if not blob.startswith(MAGIC):
            return None
        at = len(MAGIC)
        size = int.from_bytes(blob[at : at + 4], "big")
        header = json.loads(blob[at + 4 : at + 4 + size])
        expected = {"format": FORMAT, "kind": kind, "version": __version__, "code": code_digest(), "scope": scope}
        if header != expected:
            return None
        at += 4 + size
        checksum, payload = blob[at : at + 4], memoryview(blob)[at + 4 :]
        if len(checksum) != 4 or zlib.crc32(payload).to_bytes(4, "big") != checksum:
            return None
        return _PlainUnpickler(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - any damage means "no cache", never a failed build
        return None


@dataclass(frozen=True)
class OutputRecord:
    """A file of the output folder as the last build left it."""

    key: str  # fingerprint of the page's inputs ("" when unknown)
    sha: str  # hash of its bytes
    size: int
    ino: int
    mtime_ns: int

    def matches(self, st: os.stat_result) -> bool:
        """Whether a stat of the file shows it as this build left it."""
        return st.st_ino == self.ino and st.st_size == self.size and st.st_mtime_ns == self.mtime_ns

    def as_tuple(self) -> tuple:
        return (self.key, self.sha, self.size, self.ino, self.mtime_ns)


class Entries:
    """Entries of one cache file: those an earlier build left, and those this build used or made."""

    def __init__(self, loaded: dict):
        self.loaded = loaded
        self.used: dict[str, Any] = {}
        self.changed = False

    def get(self, key: str) -> Any | None:
        value = self.loaded.get(key)
        if value is not None:
            self.used[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        self.used[key] = value
        self.changed = True

    def saved(self) -> None:
        self.loaded, self.changed = dict(self.used), False

    @property
    def stale(self) -> bool:
        """Whether the file holds entries no file of this build used (deleted or edited files)."""
        return len(self.used) != len(self.loaded)


class PackedEntries(Entries):
    """Entries kept as one small pickle each, unpacked when asked for.

    Ten thousand entries of nested tuples take far more memory as objects than as bytes;
    each entry is read with the same unpickler as the files (plain data only).
    """

    def get(self, key: str) -> Any | None:
        blob = self.loaded.get(key)
        if not isinstance(blob, bytes):
            return None
        try:
            value = _PlainUnpickler(io.BytesIO(blob)).load()
        except Exception:  # noqa: BLE001 - a damaged entry is no entry
            return None
        self.used[key] = blob
        return value

    def put(self, key: str, value: Any) -> None:
        self.used[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.changed = True


class BuildCache:
    """The cache folder of one site. With writable=False (`kabargen check`) nothing is written."""

    def __init__(self, root: Path, enabled: bool = True, writable: bool = True):
        self.folder = root / CACHE_DIR
        self.enabled = enabled
        self.writable = writable and enabled
        self._shards: dict[str, dict[str, tuple]] = {}
        self._dirty_shards: set[str] = set()
        self._used: set[str] = set()
        self._source_scope = ""
        self._cards: dict[str, str] | None = None
        self._cards_used: dict[str, str] = {}
        self._cards_scope = ""
        self._checked: tuple[str, Entries] | None = None

    # -- files ---------------------------------------------------------------------

    def _read(self, name: str, kind: str, scope: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            blob = (self.folder / name).read_bytes()
        except OSError:
            return None
        return unpack(blob, kind, scope)

    def _write(self, name: str, kind: str, scope: str, data: Any) -> None:
        if not self.writable:
            return
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_bytes(CACHEDIR_TAG)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(pack(kind, scope, data))
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    # -- parsed and converted Markdown files ------------------------------------------

    def use_source_scope(self, scope: str) -> None:
        """Settings the converted bodies depend on (base path, embed hosts, language...)."""
        self._source_scope = scope

    @staticmethod
    def _shard_of(digest: str) -> str:
        return f"{int(digest[:4], 16) % SOURCE_SHARDS:02x}"

    def _shard(self, name: str) -> dict[str, tuple]:
        shard = self._shards.get(name)
        if shard is None:
            data = self._read(f"sources/{name}.bin", "sources", self._source_scope)
            shard = data if isinstance(data, dict) else {}
            self._shards[name] = shard
            if not isinstance(data, dict) and (self.folder / f"sources/{name}.bin").exists():
                self._dirty_shards.add(name)  # damaged or foreign: replace it
        return shard

    def source(self, digest: str, rel: str) -> tuple | None:
        """What an earlier build made of this file's bytes at this path, if anything."""
        key = f"{digest}:{rel}"
        entry = self._shard(self._shard_of(digest)).get(key)
        if entry is not None:
            self._used.add(key)
        return entry if isinstance(entry, tuple) else None

    def put_source(self, digest: str, rel: str, entry: tuple) -> None:
        key = f"{digest}:{rel}"
        name = self._shard_of(digest)
        self._shard(name)[key] = entry
        self._used.add(key)
        self._dirty_shards.add(name)

    def forget_sources(self) -> None:
        """Drop the loaded entries (after save(): they are on disk), to free memory."""
        self._shards = {name: {} for name in self._shards}
        self._dirty_shards.clear()

    # -- list entries ------------------------------------------------------------------

    def card(self, key: str) -> str | None:
        if self._cards is None:
            data = self._read("cards.bin", "cards", self._cards_scope)
            self._cards = data if isinstance(data, dict) else {}
        html = self._cards.get(key)
        if isinstance(html, str):
            self._cards_used[key] = html
            return html
        return None

    def put_card(self, key: str, html: str) -> None:
        self._cards_used[key] = html

    def keep_cards(self, live: Iterable[str]) -> None:
        """Keep the cards of these keys (the site's releases) when the cards file is rewritten.

        List pages kept by their inputs key look up no card; without this, a build that
        rewrites the file would keep only the few cards it rendered.
        """
        if self._cards is None and not self._cards_used:
            return  # no card looked up or made: the file stays as it is
        if self._cards is None:
            data = self._read("cards.bin", "cards", self._cards_scope)
            self._cards = data if isinstance(data, dict) else {}
        for key in live:
            if key not in self._cards_used and isinstance(self._cards.get(key), str):
                self._cards_used[key] = self._cards[key]

    # -- the output folder -------------------------------------------------------------

    def output_records(self, output: Path) -> dict[str, OutputRecord]:
        """What the last build wrote to OUTPUT, by path under it; {} when unknown."""
        data = self._read("output.bin", "output", str(output.absolute()))
        if not isinstance(data, dict):
            return {}
        records = {}
        for rel, item in data.items():
            if isinstance(rel, str) and isinstance(item, tuple) and len(item) == 5:
                records[rel] = OutputRecord(*item)
        return records

    def save(self, output: Path | None = None, records: Mapping[str, OutputRecord] | None = None) -> None:
        """Write what changed. Entries no file of this build used are dropped from rewritten shards."""
        if not self.writable:
            return
        for name in sorted(self._dirty_shards):
            shard = self._shards[name]
            kept = {k: v for k, v in shard.items() if k in self._used}
            self._write(f"sources/{name}.bin", "sources", self._source_scope, kept)
        self._dirty_shards.clear()
        if self._shards and (self.folder / "sources").is_dir():
            # A shard no file of this site maps to holds only entries of deleted files.
            for path in (self.folder / "sources").glob("*.bin"):
                if path.stem not in self._shards:
                    path.unlink()
        if self._cards is not None and set(self._cards_used) != set(self._cards):
            self._write("cards.bin", "cards", self._cards_scope, dict(sorted(self._cards_used.items())))
        if self._checked is not None and (self._checked[1].changed or self._checked[1].stale):
            entries = self._checked[1]
            self._write("checked.bin", "checked", self._checked[0], dict(sorted(entries.used.items())))
            entries.saved()
        if output is not None and records is not None:
            data = {rel: rec.as_tuple() for rel, rec in sorted(records.items())}
            self._write("output.bin", "output", str(output.absolute()), data)

    def use_cards_scope(self, scope: str) -> None:
        self._cards_scope = scope

    # -- checked front matter ----------------------------------------------------------

    def forget_checked(self) -> None:
        """Drop the checked front matter (after save(): it is on disk), to free memory."""
        self._checked = None

    def checked(self, scope: str) -> "Entries | None":
        """Front matter checked by earlier builds (see assemble.CheckedFields), for SCOPE; None without a cache.

        SCOPE names what the checks depend on besides a file's bytes and path (the time
        zone, the files under content/); entries of another scope are ignored as a whole.
        """
        if not self.enabled:
            return None
        if self._checked is None or self._checked[0] != scope:
            data = self._read("checked.bin", "checked", scope)
            self._checked = (scope, PackedEntries(data if isinstance(data, dict) else {}))
        return self._checked[1]


# -- fingerprints of page inputs ------------------------------------------------------


class Unkeyable(Exception):
    """A template context holds something whose effect on the page cannot be fingerprinted."""


_LEAVES = frozenset({str, int, float, bool, type(None), bytes})


class Fingerprints:
    """Hashes of everything a page's template sees, to tell whether its bytes can change.

    Values are turned into plain data (strings, numbers, tuples) and hashed through
    `marshal` (format 0: no references or interning, so equal data gives equal bytes
    whatever objects it was made of). A dataclass stands for its class and field values, a
    datetime for its ISO text and zone, Markup for its text marked as such; objects of
    `shared_types` (releases, tags...) are hashed once per build and stand in other
    fingerprints by their hash. `base` covers what every page depends on (kabargen's code,
    theme, config, flags and the template globals). A template helper (a callable in the
    context) must be declared: `pure` helpers depend only on config and theme; `reads` maps
    a helper's name to a hash of the site data it reads. Any other callable, or an object
    whose text form shows only its address, makes the page unkeyable: it is always rendered.
    """

    def __init__(self, shared_types: Iterable[type] = (), pure: Iterable[str] = (), reads: Mapping[str, str] | None = None):
        self.shared_types = frozenset(shared_types)
        self.pure = frozenset(pure)
        self.reads = dict(reads or {})
        self._memo: dict[int, tuple[Any, str]] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        self.base = ""

    def plain(self, value: Any, top: bool = False) -> Any:
        """VALUE as plain data that marshal can write."""
        kind = type(value)
        if kind in _LEAVES:
            return value
        if kind is tuple or kind is list or kind is dict:
            if kind is dict:
                return ("dict", tuple([
                    (k if type(k) in _LEAVES else self.plain(k), v if type(v) in _LEAVES else self.plain(v))
                    for k, v in value.items()
                ]))
            return (kind.__name__, tuple([v if type(v) in _LEAVES else self.plain(v) for v in value]))
        if not top and kind in self.shared_types:
            return ("ref", self.digest(value))
        if kind is datetime:
            return ("datetime", value.isoformat(), str(value.tzinfo))
        if isinstance(value, str):  # Markup and other marked-up text
            return (kind.__qualname__, str(value))
        if hasattr(kind, "__dataclass_fields__"):
            names = self._fields.get(kind)
            if names is None:
                # Fields marked fingerprint=False only say where a thing came from, for messages
                # (a path relative to the current folder): they never show on a page.
                names = self._fields[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.metadata.get("fingerprint", True))
            values = [getattr(value, name) for name in names]
            return (kind.__module__, kind.__qualname__, tuple([v if type(v) in _LEAVES else self.plain(v) for v in values]))
        if kind is set or kind is frozenset:
            try:
                return (kind.__name__, tuple(sorted(self.plain(item) for item in value)))
            except TypeError:
                raise Unkeyable("a set of mixed values") from None
        if callable(value) and not isinstance(value, type):
            return ("helper",) + self.helper(value)
        if isinstance(value, Mapping):
            return ("mapping", kind.__qualname__, tuple((self.plain(k), self.plain(v)) for k, v in value.items()))
        text = repr(value)
        if " at 0x" in text:
            raise Unkeyable(f"{kind.__qualname__} has no fingerprint")
        return ("repr", kind.__module__, kind.__qualname__, text)

    def _hash(self, value: Any) -> str:
        try:
            data = marshal.dumps(value, 0)
        except ValueError as exc:  # pragma: no cover - plain() leaves nothing marshal refuses
            raise Unkeyable(str(exc)) from None
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    def digest(self, obj: Any) -> str:
        """The hash of one object (kept for the rest of the build: objects are immutable)."""
        hit = self._memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._hash(self.plain(obj, top=True))
        self._memo[id(obj)] = (obj, value)
        return value

    def helper(self, fn: Callable) -> tuple[str, str]:
        name = getattr(fn, "__name__", "")
        if name in self.reads:
            return name, self.reads[name]
        if name in self.pure:
            return name, ""
        raise Unkeyable(f"template helper {name or fn!r} is not declared")

    def of(self, *parts: Any) -> str | None:
        """The fingerprint of a page made from PARTS, or None when it cannot be had."""
        try:
            return self._hash((self.base, self.plain(parts)))
        except Unkeyable:
            return None


def site_attributes(env) -> frozenset[str] | None:
    """Attributes of the `site` global that the environment's templates read; None: maybe all.

    Found in the templates' syntax trees: `site.years` or `site["years"]`. Any other use of
    the name (passing `site` along, assigning it) gives None.
    """
    from jinja2 import nodes

    found: set[str] = set()
    for name in env.list_templates():
        try:
            tree = env.parse(env.loader.get_source(env, name)[0])
        except Exception:  # noqa: BLE001 - the render reports a broken template
            return None
        uses = [n for n in tree.find_all(nodes.Name) if n.name == "site"]
        reads = [n.attr for n in tree.find_all(nodes.Getattr) if isinstance(n.node, nodes.Name) and n.node.name == "site"]
        reads += [
            n.arg.value for n in tree.find_all(nodes.Getitem)
            if isinstance(n.node, nodes.Name) and n.node.name == "site" and isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str)
        ]
        if len(uses) != len(reads):
            return None
        found.update(reads)
    return frozenset(found)


class PageReuse:
    """Tells, page by page, whether the output folder already holds a page's bytes.

    A page is kept when its fingerprint (everything its template sees) equals the one the
    cache recorded for the file at its path, and that file is still the one the last build
    wrote (same inode, size and modification time).
    """

    def __init__(self, cache: BuildCache, output: Path | None, records: Mapping[str, OutputRecord], base: tuple):
        from .model import Person, Release, Tag, Year

        self.cache = cache
        self.output = str(output.absolute()) if output is not None else None
        self.records = records
        self.base = base
        self.fingerprints = Fingerprints(shared_types=(Release, Tag, Person, Year))
        self.enabled = True
        self.kept_count = 0
        self._site_attrs: tuple[Any, frozenset[str] | None] | None = None
        # Check every page kept by its inputs key against its full fingerprint (a developer
        # check the test suite turns on: an input missing from Renderer.release_inputs fails loudly).
        self.verify = os.environ.get("KABARGEN_VERIFY_REUSE") == "1"

    def start(self, renderer) -> None:
        """Hash what every page depends on: the base, the template globals and filters."""
        import jinja2.defaults
        import jinja2.filters

        fp = self.fingerprints
        fp.pure = frozenset(renderer.PURE_HELPERS) | frozenset(jinja2.defaults.DEFAULT_NAMESPACE)
        try:
            fp.reads = {name: fp.of(data) or "" for name, data in renderer.helper_reads().items()}
        except Unkeyable:
            self.enabled = False
            return
        env = renderer.env
        # A filter that reads the site could change a page without changing its inputs.
        if set(env.filters) - set(jinja2.filters.FILTERS) - fp.pure:
            self.enabled = False
            return
        parts: list[Any] = []
        for name, value in sorted(env.globals.items()):
            if name == "site":
                attrs = self._site_attributes(env)
                if attrs is None:
                    parts.append(("site", value))
                else:
                    parts.append(("site", tuple((a, getattr(value, a, None)) for a in sorted(attrs))))
            elif callable(value) and not isinstance(value, type):
                if name not in fp.pure and name not in fp.reads:
                    self.enabled = False  # a helper that may read anything: render every page
                    return
                parts.append(("helper", name, fp.reads.get(name, "")))
            else:
                parts.append((name, value))
        base = fp.of(self.base, tuple(parts))
        if base is None:
            self.enabled = False
        else:
            fp.base = base

    def _site_attributes(self, env) -> frozenset[str] | None:
        # Parsing every template takes a while: once per build, before render processes fork.
        if self._site_attrs is None or self._site_attrs[0] is not env:
            self._site_attrs = (env, site_attributes(env))
        return self._site_attrs[1]

    def prepare(self, env, shared: Iterable[Any]) -> None:
        """Work every render process would repeat, done once before they fork.

        Each process hashes nearly every release (the cards of its list pages) and reads the
        templates; done here, the forked processes inherit the results instead.
        """
        if not self.enabled:
            return
        self._site_attributes(env)
        digest = self.fingerprints.digest
        try:
            for obj in shared:
                digest(obj)
        except Unkeyable:
            pass  # the pages that show it say so when they are keyed

    def digests(self, objects: Iterable[Any]) -> tuple[str, ...] | None:
        """The hashes of shared objects (releases, tags...), as they stand in fingerprints; None: unkeyable."""
        if not self.enabled:
            return None
        digest = self.fingerprints.digest
        try:
            return tuple([digest(obj) for obj in objects])
        except Unkeyable:
            return None

    def key(self, *parts: Any) -> str | None:
        """The fingerprint of a page made from PARTS (None: it cannot have one)."""
        if not self.enabled:
            return None
        return self.fingerprints.of(*parts)

    def kept(self, url: str, key: str | None) -> bool:
        """Whether the output already holds the page at URL with these inputs."""
        if key is None or self.output is None or not self.enabled:
            return False
        record = self._record(url)
        # A key may start with the page's inputs key ("inputs;context"): the context decides here.
        if record is None or record.key.rpartition(";")[2] != key.rpartition(";")[2]:
            return False
        return self._intact(url, record)

    def kept_early(self, url: str, inputs: str | None) -> str | None:
        """The recorded key of the page at URL when the output holds it and INPUTS are those it was made from.

        INPUTS is a page's inputs key (Renderer.release_inputs): the hash of the objects its
        context is computed from, so that an unchanged page is known without computing its
        context. With `verify` on, the caller computes the context anyway and checks that
        its fingerprint is the one recorded (the test suite runs so).
        """
        if inputs is None or self.output is None or not self.enabled:
            return None
        record = self._record(url)
        if record is None or not record.key.startswith(inputs + ";"):
            return None
        return record.key if self._intact(url, record, count=not self.verify) else None

    def _record(self, url: str) -> OutputRecord | None:
        return self.records.get(Page(url, None).output_path)

    def _intact(self, url: str, record: OutputRecord, count: bool = True) -> bool:
        try:
            st = os.stat(os.path.join(self.output, Page(url, None).output_path))
        except OSError:
            return False
        if record.matches(st):
            self.kept_count += count
            return True
        return False

    def card(self, key: str) -> str | None:
        return self.cache.card(key)

    def card_keys(self, releases: Iterable[Any]) -> set[str]:
        """The keys of these releases' cards (as Renderer.card makes them)."""
        return {key for release in releases if (key := self.key("_card.html", release))}

    def put_card(self, key: str, html: str) -> None:
        self.cache.put_card(key, html)

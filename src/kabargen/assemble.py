"""Sources -> Site: validation, slugs, URLs and collisions, taxonomies and links.

Everything about the site is decided here, before the first template runs; the
renderer only reads the result.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from .config import Config
from .errors import Diagnostic, error, warning
from .markup import url_scheme_ok
from .model import (
    DRAFT,
    BuildMemory,
    EMBARGOED,
    PUBLISHED,
    Alias,
    Attachment,
    Contact,
    Correction,
    Credit,
    Image,
    Link,
    Markup,
    Person,
    Release,
    Site,
    Source,
    StaticFile,
    Tag,
    Withdrawal,
    Year,
)
from .slugs import MAX_SLUG_BYTES, slug_too_long, slugify

RELEASE_KEYS = {
    "title", "date", "location", "number", "summary", "byline", "editor", "tags", "related", "image",
    "attachments", "contact", "updated", "slug", "draft", "embargo", "aliases", "withdrawn", "layout",
}
LAYOUTS = {"release", "page"}
SUMMARY_LIMIT = 300
RELATED_COUNT = 3
# How many earlier releases of each shared tag are considered when topping up "Baca Juga".
RELATED_WINDOW = 30

MIN_YEAR, MAX_YEAR = 1000, 9998
# Characters no published file or folder name may carry: controls, and the backslash
# that Windows and some hosts and browsers take for a folder separator.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


def _unsafe_url(url: str) -> str:
    """Why a generated site path cannot be published, or ""."""
    segments = url.rstrip("/").split("/")
    if url.startswith("/") or any(s in {".", ".."} for s in segments):
        return "it has a '.' or '..' part"
    bad = _UNSAFE_NAME.search(url) or re.search(r"[?#%]", url)
    if bad:
        return f"it contains {bad.group()!r}"
    return ""
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$"
)


def parse_date(value: Any, tz) -> datetime:
    """Parse a front matter date into an aware datetime; raise ValueError with a reason."""
    if not isinstance(value, str):
        raise ValueError("a date must be written like 2025-05-15 10:00")
    m = _DATE_RE.match(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a date: write it like 2025-05-15 10:00 or 2025-05-15T10:00:00+08:00")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        # Converting between zones near year 1 or 9999 overflows; no release is dated there.
        raise ValueError(f"{value!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    offset = m.group(7)
    if offset is None:
        return naive.replace(tzinfo=tz)
    if offset == "Z":
        return naive.replace(tzinfo=timezone.utc)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    from datetime import timedelta

    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if delta >= timedelta(hours=24):
        raise ValueError(f"{value!r} has an impossible UTC offset")
    return naive.replace(tzinfo=timezone(sign * delta))


def parse_bool(value: Any) -> bool | None:
    """YAML 1.1 style booleans, since every scalar arrives as text."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "on"}:
            return True
        if lowered in {"false", "no", "off"}:
            return False
    return None


class CheckedFields:
    """Front matter checked by earlier builds, kept in the build cache as plain data.

    What `Assembler._read` makes of a file depends on its bytes and path, the site's time
    zone and the names of the files under content/ (for image and attachment paths); a
    build in a new process finds it under the file's hash and path, in a cache file whose
    scope names the rest, instead of checking 10,000 files again. Only the types _read
    makes are written (text, numbers, lists, tuples, dicts, dates and the few model
    classes below); anything else, or any entry that does not read back, is checked again.
    """

    CLASSES = {cls.__name__: cls for cls in (Link, Contact, Correction, Withdrawal)}

    def __init__(self, entries, tz):
        self.entries = entries  # cache.Entries
        self.tz = tz

    @staticmethod
    def scope(tz, files: Mapping[str, Any]) -> str:
        import hashlib

        digest = hashlib.blake2b(str(tz).encode(), digest_size=16)
        for rel in sorted(files):
            digest.update(b"\0" + rel.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, source: Source) -> tuple[dict | None, list[Diagnostic]] | None:
        entry = self.entries.get(f"{source.digest}:{source.rel}")
        if entry is None:
            return None
        try:
            fields, problems = entry
            return (self._decode(fields) if fields is not None else None,
                    [Diagnostic(source.path, line, severity, message) for line, severity, message in problems])
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # a damaged entry: check the file again
            return None

    def put(self, source: Source, fields: dict | None, problems: list[Diagnostic]) -> None:
        try:
            if any(d.path != source.path for d in problems):
                return
            entry = (self._encode(fields) if fields is not None else None, tuple((d.line, d.severity, d.message) for d in problems))
        except TypeError:
            return
        self.entries.put(f"{source.digest}:{source.rel}", entry)

    def _encode(self, value: Any) -> Any:
        kind = type(value)
        if kind in (str, int, bool, float) or value is None:
            return value
        if kind is list:
            return ("list", tuple(self._encode(v) for v in value))
        if kind is tuple:
            return ("tuple", tuple(self._encode(v) for v in value))
        if kind is dict:
            if any(type(k) is not str for k in value):
                raise TypeError("a mapping with keys that are not text")
            return ("dict", tuple((k, self._encode(v)) for k, v in value.items()))
        if kind is datetime:
            if value.tzinfo is self.tz:
                zone = None
            elif type(value.tzinfo) is timezone and value.tzinfo.tzname(None) == timezone(value.utcoffset()).tzname(None):
                zone = value.utcoffset().days * 86400 + value.utcoffset().seconds
            else:
                raise TypeError("a date in another kind of zone")
            return ("datetime", value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, value.fold, zone)
        if self.CLASSES.get(kind.__name__) is kind:
            return ("object", kind.__name__, tuple(self._encode(getattr(value, f)) for f in kind.__dataclass_fields__))
        raise TypeError(f"{kind.__qualname__} is not kept in the cache")

    def _decode(self, value: Any) -> Any:
        if type(value) is not tuple:
            return value
        tag = value[0]
        if tag == "list":
            return [self._decode(v) for v in value[1]]
        if tag == "tuple":
            return tuple(self._decode(v) for v in value[1])
        if tag == "dict":
            return {k: self._decode(v) for k, v in value[1]}
        if tag == "datetime":
            *parts, fold, zone = value[1:]
            from datetime import timedelta

            tz = self.tz if zone is None else timezone(timedelta(seconds=zone))
            return datetime(*parts, tzinfo=tz, fold=fold)
        if tag == "object":
            return self.CLASSES[value[1]](*(self._decode(v) for v in value[2]))
        raise ValueError(f"unknown entry {tag!r}")


@dataclass
class _Draft:
    """A release being checked: mutable while assembling, frozen into a Release at the end."""

    source: Source
    markup: Markup
    fields: dict = field(default_factory=dict)
    ok: bool = True


class _Checker:
    """Collects diagnostics while reading one source's front matter."""

    def __init__(self, source: Source, diagnostics: list[Diagnostic]):
        self.source = source
        self.diagnostics = diagnostics
        self.failed = False

    def error(self, key: str, message: str) -> None:
        self.failed = True
        self.diagnostics.append(error(self.source.path, self.source.line(key), message))

    def warn(self, key: str, message: str) -> None:
        self.diagnostics.append(warning(self.source.path, self.source.line(key), message))

    def text(self, key: str, value: Any, required: bool = False, what: str = "") -> str:
        name = key.rsplit(".", 1)[-1] if not key.rsplit(".", 1)[-1].isdigit() else key.split(".")[0]
        if value is None:
            if required:
                self.error(key, f"'{name}' is required{what}")
            return ""
        if not isinstance(value, str):
            self.error(key, f"'{name}' must be text, not a {'list' if isinstance(value, list) else 'mapping'}")
            return ""
        value = value.strip()
        if required and not value:
            self.error(key, f"'{name}' must not be empty{what}")
        return value

    def date(self, key: str, value: Any, tz, required: bool = False) -> datetime | None:
        if value is None:
            if required:
                self.error(key, f"'{key}' is required: when the release is dated, e.g. {key}: 2025-05-15 10:00")
            return None
        try:
            return parse_date(value, tz)
        except ValueError as exc:
            self.error(key, f"'{key}': {exc}")
            return None

    def url(self, key: str, value: str) -> str:
        if not url_scheme_ok(value):
            self.error(key, f"'{key}': URL {value[:60]!r} uses a scheme that is not allowed (only http, https, mailto, tel or a relative link)")
            return ""
        return value

    def listing(self, key: str, value: Any) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, f"'{key}' must be a list, e.g. {key}: [a, b] or one '- item' per line")
            return []
        return value


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Assembler:
    """Builds a Site from sources; call `run()` once."""

    def __init__(
        self,
        config: Config,
        sources: list[Source],
        markups: Mapping[str, Markup],
        files: Mapping[str, tuple[str, int]],
        now: datetime,
        drafts: bool = False,
        site_static: Iterable[tuple[str, str]] = (),
        failed: Iterable[str] = (),
        memory: BuildMemory | None = None,
        checked: Any = None,
    ):
        self.config = config
        self.tz = config.tz
        self.sources = sorted(sources, key=lambda s: s.rel)
        self.markups = markups
        self.files = files  # content-relative path -> (absolute path, size)
        self.now = now
        self.drafts = drafts
        self.site_static = list(site_static)
        # Files that could not be read: links to them are not reported as missing too.
        self.unreadable: set[str] = set()
        for rel in failed:
            self.unreadable.add(slugify(posixpath.splitext(posixpath.basename(rel))[0]).casefold())
            self.unreadable.add(posixpath.splitext(rel)[0])
        self.diagnostics: list[Diagnostic] = []
        # Front matter checked by the last build, for Source objects it shares with this one.
        self.memory = memory
        self._remembered: dict = {}
        # Front matter checked by earlier builds in other processes (cache.Entries), or None.
        self.checked = CheckedFields(checked, self.tz) if checked is not None and memory is None else None
        if memory is not None:
            context = (config.tz, dict(files))
            if memory.context == context:
                self._remembered = memory.fields
            memory.fields, memory.context = {}, context

    # -- reading front matter -------------------------------------------------

    def _read_remembered(self, source: Source) -> dict | None:
        """What _read gives for SOURCE, taken from the last build when it checked this very Source."""
        if self.memory is None:
            if self.checked is None:
                return self._read(source)
            hit = self.checked.get(source)
            if hit is not None:
                self.diagnostics.extend(hit[1])
                return hit[0]
            start = len(self.diagnostics)
            fields = self._read(source)
            self.checked.put(source, fields, self.diagnostics[start:])
            return fields
        hit = self._remembered.get(id(source))
        if hit is None or hit[0] is not source:
            start = len(self.diagnostics)
            fields = self._read(source)
            hit = (source, dict(fields) if fields is not None else None, tuple(self.diagnostics[start:]))
        else:
            self.diagnostics.extend(hit[2])
        self.memory.fields[id(source)] = hit
        # A copy: run() adds keys (status, url) that depend on more than the file.
        return dict(hit[1]) if hit[1] is not None else None

    def _people(self, check: _Checker, key: str, value: Any, default_credit: tuple[str, ...]) -> list[dict]:
        items = value if isinstance(value, list) else [value]
        people = []
        for index, item in enumerate(items):
            item_key = f"{key}.{index}" if isinstance(value, list) else key
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict):
                check.error(item_key, f"each '{key}' entry needs a name: - name: ..., role: ...")
                continue
            for extra in sorted(set(item) - {"name", "role", "credit"}):
                check.warn(f"{item_key}.{extra}", f"unknown key {extra!r} in '{key}'{_suggest(extra, ['name', 'role', 'credit'])}")
            name = check.text(f"{item_key}.name", item.get("name"), required=True, what=f" for each '{key}' entry")
            role = check.text(f"{item_key}.role", item.get("role"))
            credit = item.get("credit")
            if credit is None:
                credits = default_credit
            else:
                raw = credit if isinstance(credit, list) else [credit]
                credits = []
                for c_index, c in enumerate(raw):
                    if not isinstance(c, str) or not c.strip():
                        check.error(f"{item_key}.credit", "'credit' must be a list of words like [penulis, fotografer]")
                        continue
                    credits.append(c.strip().lower())
                credits = tuple(dict.fromkeys(credits))
            if name and not slugify(name):
                check.error(f"{item_key}.name", f"name {name!r} has no letters or digits")
                continue
            if name and slug_too_long(slugify(name)):
                check.error(f"{item_key}.name", f"name {name[:40]!r}... is too long to be part of a URL (at most {MAX_SLUG_BYTES} bytes)")
                continue
            if name:
                people.append({"name": " ".join(name.split()), "role": role, "credits": tuple(credits)})
        return people

    def _file_ref(self, check: _Checker, key: str, src: Any) -> str:
        path = check.text(key, src, required=True)
        if not path:
            return ""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path) or path.startswith("//"):
            check.error(key, f"'{key}' must be a file under content/, like media/foto.jpg, not a URL")
            return ""
        rel = posixpath.normpath(unquote(path).lstrip("/"))
        if rel.startswith("..") or rel == ".":
            check.error(key, f"'{key}' {path!r} points outside content/")
            return ""
        if rel not in self.files:
            close = difflib.get_close_matches(rel, sorted(self.files), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            check.error(key, f"file {path!r} not found under content/{hint}")
            return ""
        return rel

    def _read(self, source: Source) -> dict | None:
        meta = source.meta
        check = _Checker(source, self.diagnostics)
        f: dict[str, Any] = {}
        for key in meta:
            if key not in RELEASE_KEYS:
                check.warn(key, f"unknown key {key!r}{_suggest(key, RELEASE_KEYS)}")
        layout = check.text("layout", meta.get("layout")) or "release"
        if layout not in LAYOUTS:
            check.error("layout", f"unknown layout {layout!r}: use release or page")
            layout = "release"
        f["layout"] = layout
        is_release = layout == "release"
        f["title"] = check.text("title", meta.get("title"), required=True, what=": the release's headline")
        f["date"] = check.date("date", meta.get("date"), self.tz, required=is_release)
        f["embargo"] = check.date("embargo", meta.get("embargo"), self.tz)
        f["location"] = check.text("location", meta.get("location"))
        f["number"] = check.text("number", meta.get("number"))
        f["summary"] = check.text("summary", meta.get("summary"))
        if len(f["summary"]) > SUMMARY_LIMIT:
            check.warn("summary", f"summary is {len(f['summary'])} characters; search engines show about {SUMMARY_LIMIT}")
        draft = meta.get("draft")
        f["draft"] = False
        if draft is not None:
            flag = parse_bool(draft)
            if flag is None:
                check.error("draft", "'draft' must be true or false")
            else:
                f["draft"] = flag
        raw_slug = check.text("slug", meta.get("slug"))
        stem = posixpath.splitext(posixpath.basename(source.rel))[0]
        if stem == "index" and not raw_slug:
            stem = posixpath.basename(posixpath.dirname(source.rel)) or stem
        f["slug"] = slugify(raw_slug or stem)
        if not f["slug"]:
            check.error("slug" if raw_slug else "title", f"cannot make a URL slug from {(raw_slug or stem)!r}: set 'slug' with letters or digits")
        elif slug_too_long(f["slug"]):
            check.error("slug" if raw_slug else "title", f"slug {f['slug'][:40]!r}... is too long for a URL (at most {MAX_SLUG_BYTES} bytes): set a shorter 'slug'")

        if meta.get("byline") is None:
            f["byline"] = []
            if is_release:
                check.error("byline", "'byline' is required: at least one person, e.g. byline: [{name: ..., role: ..., credit: [penulis]}]")
        elif not isinstance(meta["byline"], (list, dict, str)):
            check.error("byline", "'byline' must be a list of people")
            f["byline"] = []
        else:
            f["byline"] = self._people(check, "byline", meta["byline"], ("penulis",))
            if is_release and not f["byline"] and not check.failed:
                check.error("byline", "'byline' needs at least one person")
        f["editors"] = self._people(check, "editor", meta["editor"], ("editor",)) if meta.get("editor") is not None else []

        tags = []
        for index, tag in enumerate(check.listing("tags", meta.get("tags"))):
            key = f"tags.{index}"
            if not isinstance(tag, str) or not tag.strip().lstrip("#").strip():
                check.error(key, "each tag must be a word, like pemprovkaltim or \"#diskominfo\"")
                continue
            name = tag.strip().lstrip("#").strip()
            slug = slugify(name)
            if not slug:
                check.error(key, f"tag {tag!r} has no letters or digits")
                continue
            if slug_too_long(slug):
                check.error(key, f"tag {name[:40]!r}... is too long for a URL (at most {MAX_SLUG_BYTES} bytes)")
                continue
            tags.append((slug, name))
        f["tags"] = list(dict((s, (s, n)) for s, n in tags).values())

        related = []
        for index, item in enumerate(check.listing("related", meta.get("related"))):
            key = f"related.{index}"
            if isinstance(item, str) and item.strip():
                related.append(("ref", item.strip(), source.line(key)))
            elif isinstance(item, dict):
                title = check.text(f"{key}.title", item.get("title"), required=True, what=" for an outside link")
                url = check.text(f"{key}.url", item.get("url"), required=True, what=" for an outside link")
                if url:
                    url = check.url(f"{key}.url", url)
                if title and url:
                    related.append(("link", Link(title=title, url=url, external=True), source.line(key)))
            else:
                check.error(key, "each 'related' entry is a release slug or {title: ..., url: ...}")
        f["related"] = related

        image = meta.get("image")
        f["image"] = None
        if image is not None:
            if isinstance(image, str):
                image = {"src": image}
            if not isinstance(image, dict):
                check.error("image", "'image' must be {src: media/foto.jpg, alt: ..., caption: ...}")
            else:
                for extra in sorted(set(image) - {"src", "alt", "caption", "credit"}):
                    check.warn(f"image.{extra}", f"unknown key {extra!r} in 'image'{_suggest(extra, ['src', 'alt', 'caption', 'credit'])}")
                rel = self._file_ref(check, "image.src" if "src" in image else "image", image.get("src"))
                alt = check.text("image.alt", image.get("alt"))
                if not alt:
                    check.warn("image", "image without alt text: add 'alt' describing the photo for screen readers")
                if rel:
                    f["image"] = {"src": rel, "alt": alt, "caption": check.text("image.caption", image.get("caption")), "credit": check.text("image.credit", image.get("credit"))}

        attachments = []
        for index, item in enumerate(check.listing("attachments", meta.get("attachments"))):
            key = f"attachments.{index}"
            if isinstance(item, str):
                item = {"src": item}
            if not isinstance(item, dict):
                check.error(key, "each attachment is {title: ..., src: media/file.pdf}")
                continue
            rel = self._file_ref(check, f"{key}.src" if "src" in item else key, item.get("src"))
            title = check.text(f"{key}.title", item.get("title")) or (posixpath.basename(rel) if rel else "")
            if rel:
                attachments.append((title, rel))
        f["attachments"] = attachments

        contact = meta.get("contact")
        f["contact"] = None
        if contact is not None:
            if not isinstance(contact, dict):
                check.error("contact", "'contact' must be {name: ..., phone: ..., email: ...}")
            else:
                f["contact"] = Contact(
                    name=check.text("contact.name", contact.get("name")),
                    phone=check.text("contact.phone", contact.get("phone")),
                    email=check.text("contact.email", contact.get("email")),
                )
                if f["contact"].email and not re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+", f["contact"].email):
                    check.error("contact.email", f"{f['contact'].email!r} is not an e-mail address")

        updates = []
        for index, item in enumerate(check.listing("updated", meta.get("updated"))):
            key = f"updated.{index}"
            if not isinstance(item, dict):
                check.error(key, "each correction is {date: 2025-05-16 08:00, note: what was corrected}")
                continue
            when = check.date(f"{key}.date", item.get("date"), self.tz, required=True)
            note = check.text(f"{key}.note", item.get("note"), required=True, what=": say what was corrected")
            if when and note:
                updates.append(Correction(when, note))
        f["updated"] = sorted(updates, key=lambda c: (c.date, c.note))
        if f["date"] and any(c.date < f["date"] for c in updates):
            check.error("updated", "a correction is dated before the release itself")

        aliases = []
        for index, item in enumerate(check.listing("aliases", meta.get("aliases"))):
            key = f"aliases.{index}"
            path = check.text(key, item)
            if not path:
                continue
            clean = self._alias_path(path)
            if clean is None:
                check.error(key, f"alias {path!r} must be a path on this site like /berita/2025/05/judul/, without '..'")
            else:
                aliases.append((clean, source.line(key)))
        f["aliases"] = aliases

        withdrawn = meta.get("withdrawn")
        f["withdrawn"] = None
        if withdrawn is not None:
            if not isinstance(withdrawn, dict):
                check.error("withdrawn", "'withdrawn' must be {date: ..., reason: ...}")
            else:
                when = check.date("withdrawn.date", withdrawn.get("date"), self.tz, required=True)
                reason = check.text("withdrawn.reason", withdrawn.get("reason"), required=True, what=": readers must be told why")
                if when and reason:
                    f["withdrawn"] = Withdrawal(when, reason)
        return None if check.failed else f

    @staticmethod
    def _alias_path(path: str) -> str | None:
        parts = urlsplit(path)
        if parts.scheme or parts.netloc or not path.startswith("/") or parts.query or parts.fragment:
            return None
        decoded = unquote(parts.path)
        segments = decoded.split("/")
        if any(s in {".", ".."} or _UNSAFE_NAME.search(s) or slug_too_long(s) for s in segments) or len(decoded.encode()) > 1000:
            return None
        clean = decoded.lstrip("/")
        if not clean:
            return None
        return clean

    # -- the whole site -------------------------------------------------------

    def _url(self, kind: str, **values: Any) -> str:
        return self.config.permalinks[kind].format(**values).lstrip("/")

    def run(self) -> Site | None:
        """Check everything; return the Site, or None when any error was found."""
        drafts: list[_Draft] = []
        for source in self.sources:
            markup = self.markups[source.rel]
            for line, severity, message in markup.problems:
                self.diagnostics.append(Diagnostic(source.path, line, severity, message))
            fields = self._read_remembered(source)
            if fields is None:
                # Still check the rest, but links to this file are not reported as missing.
                slug = source.meta.get("slug") if isinstance(source.meta.get("slug"), str) else ""
                self.unreadable.add(slugify(slug or posixpath.splitext(posixpath.basename(source.rel))[0]).casefold())
                self.unreadable.add(posixpath.splitext(source.rel)[0])
                continue
            drafts.append(_Draft(source, markup, fields))

        # Slugs and URLs, compared case-insensitively: hosts and disks often fold case.
        by_slug: dict[str, _Draft] = {}
        by_rel: dict[str, _Draft] = {}
        for d in drafts:
            f = d.fields
            key = f["slug"].casefold()
            if key in by_slug:
                other = by_slug[key]
                self.diagnostics.append(error(d.source.path, d.source.line("slug" if "slug" in d.source.meta else "title"), f"slug {f['slug']!r} is already used by {other.source.path}: give one of them another 'slug'"))
                continue
            by_slug[key] = d
            rel_key = posixpath.splitext(d.source.rel)[0]
            by_rel[rel_key] = d
            by_rel[d.source.rel] = d
            f["publish_at"] = max(x for x in (f["date"], f["embargo"]) if x) if (f["date"] or f["embargo"]) else None
            if f["draft"]:
                f["status"] = DRAFT
            elif f["publish_at"] and f["publish_at"] > self.now:
                f["status"] = EMBARGOED
            else:
                f["status"] = PUBLISHED
            f["visible"] = f["status"] == PUBLISHED or self.drafts
            section = d.source.rel.split("/")[0] if "/" in d.source.rel else ""
            if f["layout"] == "release":
                local = f["date"].astimezone(self.tz)
                f["url"] = self._url("release", year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}", slug=f["slug"], section=section)
            else:
                f["url"] = self._url("page", slug=f["slug"], section=section)
            problem = _unsafe_url(f["url"])
            if problem:
                # Only a folder name can bring these in ({section}); slugs never carry them.
                self.diagnostics.append(error(d.source.path, 1, f"URL /{f['url']} cannot be published: {problem}; rename the folder"))

        numbers: dict[str, _Draft] = {}
        for d in by_slug.values():
            number = d.fields["number"]
            if not number:
                continue
            if number.casefold() in numbers:
                other = numbers[number.casefold()]
                self.diagnostics.append(error(d.source.path, d.source.line("number"), f"release number {number!r} is already used by {other.source.path}"))
            else:
                numbers[number.casefold()] = d

        visible = [d for d in by_slug.values() if d.fields["visible"]]
        self._check_links(by_slug, by_rel)

        listed = sorted(
            (d for d in visible if d.fields["layout"] == "release" and d.fields["withdrawn"] is None),
            key=lambda d: (-d.fields["date"].timestamp(), d.fields["slug"]),
        )
        order = tuple(d.fields["slug"] for d in listed)

        tags, tag_index = self._tags(listed)
        people, person_index = self._people_pages(listed)
        years = self._years(listed)

        urls: dict[str, str] = {}
        reserved = self._reserved_urls(tags, people, years, len(order))
        for d in sorted(visible, key=lambda d: d.source.rel):
            url = d.fields["url"].casefold()
            if url in urls:
                self.diagnostics.append(error(d.source.path, d.source.line("slug" if "slug" in d.source.meta else "title"), f"URL /{d.fields['url']} is also the URL of {urls[url]}"))
            elif url in reserved:
                self.diagnostics.append(error(d.source.path, d.source.line("slug" if "slug" in d.source.meta else "title"), f"URL /{d.fields['url']} is used by kabargen for {reserved[url]}: choose another slug"))
            else:
                urls[url] = d.source.path
        aliases = self._aliases(visible, urls, reserved)

        static = self._static(visible, by_slug)
        if any(x.is_error for x in self.diagnostics):
            return None

        related = self._related(listed, visible, by_slug, by_rel, tag_index)
        position = {slug: i for i, slug in enumerate(order)}
        releases: dict[str, Release] = {}
        for d in visible:
            f = d.fields
            slug = f["slug"]
            prev_slug = next_slug = ""
            if slug in position:
                i = position[slug]
                next_slug = order[i - 1] if i > 0 else ""
                prev_slug = order[i + 1] if i + 1 < len(order) else ""
            releases[slug] = self._freeze(d, related.get(slug, ()), prev_slug, next_slug, by_slug, by_rel)

        held = sorted(
            (d for d in by_slug.values() if d.fields["status"] == EMBARGOED),
            key=lambda d: (d.fields["publish_at"], d.fields["slug"]),
        )
        return Site(
            releases=dict(sorted(releases.items())),
            order=order,
            tags=tags,
            people=people,
            years=years,
            static=static,
            aliases=aliases,
            now=self.now,
            drafts=self.drafts,
            held_back=tuple(d.fields["slug"] for d in by_slug.values() if d.fields["status"] != PUBLISHED),
            next_embargo=held[0].fields["publish_at"] if held else None,
            extra={"embargoes": tuple((d.fields["slug"], d.fields["title"], d.fields["publish_at"], d.source.path, d.fields["url"]) for d in held)},
        )

    def _find(self, ref: str, by_slug: Mapping[str, _Draft], by_rel: Mapping[str, _Draft]) -> _Draft | None:
        return find_ref(ref, by_slug, by_rel)

    def _check_links(self, by_slug, by_rel) -> None:
        """Every [[slug]] and related slug must exist and be published no later than its linker."""
        for d in by_slug.values():
            refs = [(ref, line) for kind, ref, line in d.fields["related"] if kind == "ref"]
            refs += list(d.markup.xrefs)
            for ref, line in refs:
                target = self._find(ref, by_slug, by_rel)
                shown = ref[1:] if ref.startswith("@") else ref
                if target is None:
                    if slugify(shown).casefold() in self.unreadable or posixpath.splitext(shown.strip("/"))[0] in self.unreadable:
                        continue
                    close = difflib.get_close_matches(slugify(shown), sorted(x.fields["slug"] for x in by_slug.values()), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.diagnostics.append(error(d.source.path, line, f"link to {shown!r}: no release has that slug{hint}"))
                    continue
                if target is d:
                    continue
                problem = self._link_problem(d, target)
                if problem:
                    report = warning if self.drafts else error
                    self.diagnostics.append(report(d.source.path, line, problem))

    @staticmethod
    def _link_problem(source: _Draft, target: _Draft) -> str:
        s, t = source.fields, target.fields
        if s["status"] == DRAFT:
            return ""  # a draft may link anywhere; it is checked again when it is published
        if t["status"] == DRAFT:
            return f"links to {t['slug']!r}, which is a draft: publish it first or remove the link"
        if t["publish_at"] and s["publish_at"] and t["publish_at"] > s["publish_at"]:
            if t["status"] == EMBARGOED:
                when = t["publish_at"].isoformat(timespec="minutes")
                return f"links to {t['slug']!r}, which is embargoed until {when}: the link would be broken before then"
            return f"links to {t['slug']!r}, which is published after this release: the scheduled build would have a broken link"
        return ""

    def _tags(self, listed: list[_Draft]):
        spellings: dict[str, Counter] = defaultdict(Counter)
        members: dict[str, list[str]] = defaultdict(list)
        for d in listed:
            for slug, name in d.fields["tags"]:
                spellings[slug][name] += 1
                members[slug].append(d.fields["slug"])
        tags = []
        for slug in sorted(members):
            name = sorted(spellings[slug].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            tags.append(Tag(slug=slug, name=name, url=self._url("tag", slug=slug), releases=tuple(members[slug])))
        return tuple(tags), members

    def _people_pages(self, listed: list[_Draft]):
        names: dict[str, Counter] = defaultdict(Counter)
        roles: dict[str, list[str]] = defaultdict(list)
        credits: dict[str, set] = defaultdict(set)
        members: dict[str, list[str]] = defaultdict(list)
        for d in listed:
            for person in d.fields["byline"] + d.fields["editors"]:
                slug = slugify(person["name"])
                names[slug][person["name"]] += 1
                if person["role"] and person["role"] not in roles[slug]:
                    roles[slug].append(person["role"])
                credits[slug].update(person["credits"])
                if not members[slug] or members[slug][-1] != d.fields["slug"]:
                    members[slug].append(d.fields["slug"])
        people = []
        for slug in sorted(members):
            name = sorted(names[slug].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            people.append(Person(slug=slug, name=name, url=self._url("person", slug=slug), roles=tuple(roles[slug]), credits=tuple(sorted(credits[slug])), releases=tuple(members[slug])))
        return tuple(people), members

    def _years(self, listed: list[_Draft]) -> tuple[Year, ...]:
        by_year: dict[int, list[str]] = defaultdict(list)
        for d in listed:
            by_year[d.fields["date"].astimezone(self.tz).year].append(d.fields["slug"])
        return tuple(Year(year=y, url=self._url("archive", year=f"{y:04d}"), releases=tuple(by_year[y])) for y in sorted(by_year, reverse=True))

    def _reserved_urls(self, tags, people, years, count: int) -> dict[str, str]:
        reserved = {"": "the home page", "tag/": "the tag index", "penulis/": "the people index", "cari/": "the search page"}
        reserved.update({"feed.xml": "the Atom feed", "sitemap.xml": "the sitemap", "robots.txt": "robots.txt", "404.html": "the not-found page"})
        for tag in tags:
            reserved[tag.url.casefold()] = f"tag {tag.name!r}"
            reserved[(tag.url + "feed.xml").casefold()] = f"the feed of tag {tag.name!r}"
        for person in people:
            reserved[person.url.casefold()] = f"the page of {person.name}"
        for year in years:
            reserved[year.url.casefold()] = f"the {year.year} archive"
        pages = max(1, -(-count // self.config.per_page))
        for n in range(2, pages + 1):
            reserved[f"page/{n}/"] = f"home page {n}"
        return reserved

    def _aliases(self, visible: list[_Draft], urls: dict[str, str], reserved: dict[str, str]) -> tuple[Alias, ...]:
        seen: dict[str, str] = {}
        result = []
        for d in sorted(visible, key=lambda d: d.source.rel):
            for path, line in d.fields["aliases"]:
                key = path.casefold()
                key_dir = key if key.endswith("/") or "." in key.rsplit("/", 1)[-1] else key + "/"
                if key_dir in urls:
                    self.diagnostics.append(error(d.source.path, line, f"alias /{path} is the URL of {urls[key_dir]}"))
                elif key_dir in reserved:
                    self.diagnostics.append(error(d.source.path, line, f"alias /{path} is used by kabargen for {reserved[key_dir]}"))
                elif key_dir in seen:
                    self.diagnostics.append(error(d.source.path, line, f"alias /{path} is also an alias in {seen[key_dir]}"))
                else:
                    seen[key_dir] = d.source.path
                    out = path if path.endswith("/") or "." in path.rsplit("/", 1)[-1] else path + "/"
                    result.append(Alias(path=out, target=d.fields["slug"]))
        return tuple(sorted(result, key=lambda a: a.path))

    def _static(self, visible: list[_Draft], by_slug) -> tuple[StaticFile, ...]:
        """Content files to copy: all but those only hidden releases refer to."""
        used_by_visible: set[str] = set()
        used_by_hidden: set[str] = set()
        for d in by_slug.values():
            refs = set()
            f = d.fields
            if f["image"]:
                refs.add(f["image"]["src"])
            refs.update(rel for _, rel in f["attachments"])
            for rel, line in d.markup.files:
                if rel not in self.files:
                    close = difflib.get_close_matches(rel, sorted(self.files), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.diagnostics.append(error(d.source.path, line, f"linked file {rel!r} not found under content/{hint}"))
                refs.add(rel)
            (used_by_visible if f["visible"] else used_by_hidden).update(refs)
        logo = (self.config.organization or {}).get("logo")
        if isinstance(logo, str):
            used_by_visible.add(posixpath.normpath(logo.lstrip("/")))
        secret = used_by_hidden - used_by_visible
        files = []
        for rel, (path, _size) in sorted(self.files.items()):
            if rel in secret:
                continue
            if _UNSAFE_NAME.search(rel):
                self.diagnostics.append(error("content/" + rel, 0, f"file name {rel!r} contains a control character or backslash: rename it"))
                continue
            files.append(StaticFile(src=path, path=rel))
        taken = {f.path.casefold(): "content/" + f.path for f in files}
        for src, rel in self.site_static:
            if _UNSAFE_NAME.search(rel):
                self.diagnostics.append(error("static/" + rel, 0, f"file name {rel!r} contains a control character or backslash: rename it"))
                continue
            if rel.casefold() in taken:
                self.diagnostics.append(error("static/" + rel, 0, f"static/{rel} clashes with {taken[rel.casefold()]}: both would be published at /{rel}"))
                continue
            files.append(StaticFile(src=src, path=rel))
        return tuple(sorted(files, key=lambda f: f.path))

    def _related(self, listed, visible, by_slug, by_rel, tag_index) -> dict[str, tuple[Link, ...]]:
        """Resolve 'related' and top each release up to three with those sharing most tags."""
        position = {d.fields["slug"]: i for i, d in enumerate(listed)}
        by_position = position.__getitem__
        tag_order: dict[str, list[str]] = {tag: sorted(slugs, key=by_position) for tag, slugs in tag_index.items()}
        tag_pos = {tag: {s: i for i, s in enumerate(slugs)} for tag, slugs in tag_order.items()}
        result: dict[str, tuple[Link, ...]] = {}
        for d in visible:
            f = d.fields
            links: list[Link] = []
            chosen: set[str] = {f["slug"]}
            for kind, ref, _line in f["related"]:
                if kind == "link":
                    links.append(ref)
                    continue
                target = self._find(ref, by_slug, by_rel)
                if target is None or not target.fields["visible"] or target.fields["slug"] in chosen:
                    continue
                chosen.add(target.fields["slug"])
                links.append(Link(title=target.fields["title"], url=target.fields["url"], slug=target.fields["slug"]))
            if f["layout"] == "release" and len(links) < RELATED_COUNT and f["slug"] in position:
                candidates: list[str] = []
                for tag, _name in f["tags"]:
                    slugs = tag_order.get(tag, [])
                    i = tag_pos[tag][f["slug"]]
                    # Only older releases: a page's box does not change when news is published.
                    candidates += slugs[i + 1 : i + 1 + RELATED_WINDOW]
                # Most shared tags first, then the newest: counted in position order, so
                # most_common (stable for equal counts) breaks ties by position.
                candidates.sort(key=by_position)
                scores = Counter(candidates)
                for taken in chosen:
                    scores.pop(taken, None)
                for other, _score in scores.most_common(RELATED_COUNT - len(links)):
                    t = by_slug[other.casefold()].fields
                    links.append(Link(title=t["title"], url=t["url"], slug=t["slug"]))
            result[f["slug"]] = tuple(links)
        return result

    def _credit(self, person: dict) -> Credit:
        return Credit(person=slugify(person["name"]), name=person["name"], role=person["role"], credits=person["credits"])

    def _freeze(self, d: _Draft, related: tuple[Link, ...], prev_slug: str, next_slug: str, by_slug, by_rel) -> Release:
        f = d.fields

        def title(m: re.Match) -> str:
            target = self._find(m.group(1), by_slug, by_rel)
            return target.fields["title"] if target else m.group(1)

        summary = _summary(f["summary"], d.markup.first_paragraph, title)
        image = None
        if f["image"]:
            credit = f["image"]["credit"] or ", ".join(p["name"] for p in f["byline"] if "fotografer" in p["credits"])
            image = Image(src=f["image"]["src"], url=f["image"]["src"], alt=f["image"]["alt"], caption=f["image"]["caption"], credit=credit)
        attachments = tuple(
            Attachment(title=title, src=rel, url=rel, size=self.files[rel][1], kind=posixpath.splitext(rel)[1].lstrip(".").upper())
            for title, rel in f["attachments"]
        )
        return Release(
            slug=f["slug"],
            title=f["title"],
            url=f["url"],
            path=d.source.path,
            rel=d.source.rel,
            layout=f["layout"],
            date=f["date"],
            publish_at=f["publish_at"],
            status=f["status"],
            visible=f["visible"],
            location=f["location"],
            number=f["number"],
            summary=summary,
            body_html=d.markup.html,
            byline=tuple(self._credit(p) for p in f["byline"]),
            editors=tuple(self._credit(p) for p in f["editors"]),
            tags=tuple(slug for slug, _ in f["tags"]),
            related=related,
            image=image,
            attachments=attachments,
            contact=f["contact"],
            updated=tuple(f["updated"]),
            embargo=f["embargo"],
            aliases=tuple(path for path, _ in f["aliases"]),
            withdrawn=f["withdrawn"],
            prev=prev_slug,
            next=next_slug,
            words=d.markup.words,
        )


def find_ref(ref: str, by_slug: Mapping[str, Any], by_rel: Mapping[str, Any]) -> Any:
    """What a [[ref]] names: '@path', a content path, or a slug (by_slug keys are case-folded)."""
    if ref.startswith("@"):
        return by_rel.get(ref[1:]) or by_rel.get(posixpath.splitext(ref[1:])[0])
    ref = ref.strip().strip("/")
    if ref.endswith((".md", ".markdown")) or "/" in ref:
        hit = by_rel.get(ref) or by_rel.get(posixpath.splitext(ref)[0])
        if hit:
            return hit
    return by_slug.get(slugify(ref).casefold()) if slugify(ref) else None


def _summary(written: str, first_paragraph: str, title: Callable[[re.Match], str]) -> str:
    """The summary written in the front matter, else the body's first paragraph, shortened.

    [[links]] in that paragraph stand as \x00ref\x00 until TITLE names their target.
    """
    return written or _shorten(re.sub("\x00([^\x00]*)\x00", title, first_paragraph), SUMMARY_LIMIT)


def with_body(release: Release, markup: Markup, written_summary: str, site: Site) -> Release | None:
    """RELEASE as assembling gives it with the body of MARKUP, the rest of the site unchanged.

    For kabargen serve's quick path (a save that changed only a body): the caller has
    checked that the body links to the same releases and files as before. None when a
    [[link]] in the first paragraph names a release the site does not show, whose title only
    assembling the whole site knows.
    """
    missing = []
    index: dict[str, dict] = {}

    def title(m: re.Match) -> str:
        if not index:  # only for a paragraph with a [[link]]
            index["slug"] = {r.slug.casefold(): r for r in site.releases.values()}
            index["rel"] = {key: r for r in site.releases.values() for key in (r.rel, posixpath.splitext(r.rel)[0])}
        target = find_ref(m.group(1), index["slug"], index["rel"])
        if target is None:
            missing.append(m.group(1))
            return ""
        return target.title

    summary = _summary(written_summary, markup.first_paragraph, title)
    if missing:
        return None
    return replace(release, summary=summary, body_html=markup.html, words=markup.words)


def _shorten(text: str, limit: int) -> str:
    """Cut text at a word boundary, adding an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:")
    return cut + "…"


def assemble(config, sources, markups, files, now, drafts=False, site_static=(), failed=(), memory: BuildMemory | None = None,
             checked: Any = None) -> tuple[Site | None, list[Diagnostic]]:
    """Check sources and build the Site; return (site or None on errors, diagnostics).

    CHECKED (cache.Entries, for CheckedFields.scope of the time zone and FILES) holds front
    matter checked by earlier builds; a preview's MEMORY does the same between its builds.
    """
    assembler = Assembler(config, sources, markups, files, now, drafts, site_static, failed, memory, checked)
    site = assembler.run()
    return site, assembler.diagnostics

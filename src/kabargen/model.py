"""The site as plain, frozen data: what the build knows after reading and checking content.

Nothing here does I/O; every stage after `assemble` only reads these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

PUBLISHED = "published"
DRAFT = "draft"
EMBARGOED = "embargoed"


@dataclass(frozen=True)
class Source:
    """One Markdown file as read from disk: front matter, body and where each key stands."""

    path: str  # as shown to the user in diagnostics (relative to the current folder)
    rel: str  # posix path relative to content/, e.g. "rilis/2025/05/a.md"
    meta: Mapping[str, Any]  # front matter; every scalar is a str (or None)
    lines: Mapping[str, int]  # "title", "byline.0.name", ... -> line in the file
    body: str
    body_line: int  # line in the file where the body starts
    digest: str  # sha256 of the file's bytes

    def line(self, key: str) -> int:
        """Line of a (dotted) front matter key, falling back to its parents, then line 1."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return 1


@dataclass(frozen=True)
class Markup:
    """A body converted to sanitized HTML, with the cross-links and files it refers to."""

    html: str
    xrefs: tuple[tuple[str, int], ...]  # ([[slug]] target, line in file)
    files: tuple[tuple[str, int], ...]  # (content-relative path of a linked file, line)
    problems: tuple[tuple[int, str, str], ...]  # (line, severity, message)
    first_paragraph: str  # plain text, for the default summary
    words: int


@dataclass(frozen=True)
class Credit:
    """A person's part in one release: who, with which job title, doing what."""

    person: str  # person slug
    name: str
    role: str
    credits: tuple[str, ...]  # e.g. ("penulis", "fotografer") or ("editor",)


@dataclass(frozen=True)
class Link:
    """A read-also entry: another release of this site or an outside page."""

    title: str
    url: str
    slug: str = ""  # set for releases of this site
    external: bool = False


@dataclass(frozen=True)
class Image:
    src: str  # content-relative path
    url: str  # site path of the file to show (after the photos step: its largest resized copy)
    alt: str
    caption: str
    credit: str


@dataclass(frozen=True)
class Variant:
    """One resized copy of a photo as published."""

    path: str  # output path, e.g. "media/_v/rakor-1a2b3c4d-480.webp"
    url: str  # the link to it from any page (base path + path)
    width: int
    height: int
    type: str  # MIME type: image/webp, image/jpeg, image/png


@dataclass(frozen=True)
class Picture:
    """A photo a release shows, with its resized copies and its social card."""

    src: str  # content-relative path of the original
    width: int  # of the largest copy, orientation applied
    height: int
    webp: tuple[Variant, ...]  # narrowest first
    fallback: tuple[Variant, ...]  # JPEG (PNG when the photo has transparency), narrowest first
    card: Variant | None = None  # 1200x630 crop for og:image

    @property
    def largest(self) -> Variant:
        return self.fallback[-1]

    @property
    def smallest(self) -> Variant:
        return self.fallback[0]


@dataclass(frozen=True)
class Attachment:
    title: str
    src: str
    url: str
    size: int
    kind: str  # upper-case extension, e.g. "PDF"


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class Correction:
    date: datetime
    note: str


@dataclass(frozen=True)
class Withdrawal:
    date: datetime
    reason: str


@dataclass(frozen=True)
class Release:
    """A checked release or plain page, with every reference resolved."""

    slug: str
    title: str
    url: str  # site path below the base path, e.g. "rilis/2025/05/a/" (no leading slash)
    path: str = field(metadata={"fingerprint": False})  # source path for diagnostics (never shown on a page)
    rel: str  # content-relative source path
    layout: str  # "release" or "page"
    date: datetime | None
    publish_at: datetime | None  # later of date and embargo
    status: str  # PUBLISHED, DRAFT or EMBARGOED (as of --now)
    visible: bool  # written to the output in this build
    location: str = ""
    number: str = ""
    summary: str = ""
    body_html: str = ""  # sanitized; [[slug]] links still as placeholders
    byline: tuple[Credit, ...] = ()
    editors: tuple[Credit, ...] = ()
    tags: tuple[str, ...] = ()  # tag slugs, in the order written
    related: tuple[Link, ...] = ()
    image: Image | None = None
    attachments: tuple[Attachment, ...] = ()
    contact: Contact | None = None
    updated: tuple[Correction, ...] = ()
    embargo: datetime | None = None
    aliases: tuple[str, ...] = ()  # site paths of old URLs
    withdrawn: Withdrawal | None = None
    prev: str = ""  # slug of the previous (older) release
    next: str = ""  # slug of the next (newer) release
    words: int = 0

    @property
    def modified(self) -> datetime | None:
        """The latest of the date, the last correction and the withdrawal."""
        moments = [self.date] + [c.date for c in self.updated[-1:]] + ([self.withdrawn.date] if self.withdrawn else [])
        moments = [m for m in moments if m is not None]
        return max(moments) if moments else None

    @property
    def listed(self) -> bool:
        """Whether the release appears in lists, tags, people, archives and the sitemap."""
        return self.visible and self.layout == "release" and self.withdrawn is None


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str  # display spelling, the most common one
    url: str
    releases: tuple[str, ...]  # listed release slugs, newest first


@dataclass(frozen=True)
class Person:
    slug: str
    name: str
    url: str
    roles: tuple[str, ...]  # job titles seen, most recent first
    credits: tuple[str, ...]  # what they did across releases (penulis, fotografer, editor)
    releases: tuple[str, ...]  # listed release slugs, newest first


@dataclass(frozen=True)
class Year:
    year: int
    url: str
    releases: tuple[str, ...]


@dataclass(frozen=True)
class StaticFile:
    """A file copied as it is: content media, the site's static/ folder, theme assets."""

    src: str  # absolute path on disk
    path: str  # output path relative to the output root, posix


@dataclass(frozen=True)
class Alias:
    path: str  # site path of the old URL
    target: str  # slug of the release it redirects to


@dataclass(frozen=True)
class Site:
    """Everything the renderer needs, checked and resolved."""

    releases: Mapping[str, Release]  # by slug, visible ones only
    order: tuple[str, ...]  # listed releases, newest first
    tags: tuple[Tag, ...]
    people: tuple[Person, ...]
    years: tuple[Year, ...]
    static: tuple[StaticFile, ...]
    aliases: tuple[Alias, ...]
    now: datetime
    drafts: bool
    held_back: tuple[str, ...] = ()  # slugs of releases not published yet (for the summary)
    next_embargo: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    pictures: Mapping[str, Picture] = field(default_factory=dict)  # by content-relative source path
    logo_card: Variant | None = None  # the organization logo on a 1200x630 canvas


@dataclass(frozen=True)
class Page:
    """One output file: its site path and bytes."""

    url: str  # site path relative to the base path, e.g. "rilis/2025/05/a/" or "feed.xml"
    # None for a page the build did not render again: its inputs are those of the file the
    # output folder already holds (the cache says so), so writing keeps that file.
    data: bytes | None
    key: str = ""  # fingerprint of the page's inputs, kept in the cache ("" when unknown)

    @property
    def output_path(self) -> str:
        """Path of the file under the output folder."""
        return self.url + "index.html" if self.url.endswith("/") or not self.url else self.url


@dataclass(eq=False)
class BuildMemory:
    """What a long-running preview keeps from one build to the next, to redo only what changed.

    The one mutable class here, on purpose: `kabargen serve` hands the same object to every
    build, and each build replaces its contents with what it read and checked. A build may
    use an entry only when it is for the very same input (same file bytes, settings and
    Source object), so results never differ from a build without it.
    """

    # (path under content/, sha256, converter settings, shown path) -> (Source, Markup)
    sources: dict = field(default_factory=dict)
    # id(Source) -> (Source, checked front matter fields, their diagnostics); valid for `context`
    fields: dict = field(default_factory=dict)
    context: Any = None  # (time zone, other files under content/) the fields were checked against
    templates: Any = None  # theme.CompiledTemplates: templates compiled by earlier builds
    converter: Any = None  # (converter settings, markup.Converter) for files converted in this process

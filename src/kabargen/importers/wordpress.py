"""Import a WordPress export (WXR) or an RSS/Atom feed into kabargen releases and pages.

Both give HTML bodies; `html_to_markdown` turns them into clean Markdown with markdownify
after undoing what WordPress adds to stored content ([caption] shortcodes, block-editor
comments, paragraphs written as blank lines). Every item becomes one ImportReportEntry, as in
the plain-text importer, so the command reports them the same way.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape, unescape
from pathlib import Path
from typing import Any

import yaml

from ..config import Config
from ..errors import UsageError
from ..slugs import slugify
from .text import ImportReportEntry, Note, _display, existing_titles, release_slug

WP_PREFIX = "http://wordpress.org/export/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DRAFT_STATUSES = {"draft", "pending", "private", "auto-draft"}
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}  # what the build accepts in links
FETCH_TIMEOUT = 20  # seconds per attachment: a dead host must not hang the import
UNCATEGORIZED = {"uncategorized", "tak-berkategori", "tidak-berkategori"}
# Shortcodes WordPress core registers; their markup means nothing outside WordPress.
SHORTCODES = ("gallery", "audio", "video", "playlist", "embed", "wp_caption", "caption")

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.DOTALL)
_CAPTION = re.compile(r"\[(?:wp_)?caption(?P<attrs>[^\]]*)\](?P<inner>.*?)\[/(?:wp_)?caption\]", re.DOTALL | re.IGNORECASE)
_CAPTION_IMG = re.compile(r"^\s*(?P<img>(?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(?P<text>.*)$", re.DOTALL | re.IGNORECASE)
_EMBED = re.compile(r"\[embed[^\]]*\](?P<url>.*?)\[/embed\]", re.DOTALL | re.IGNORECASE)
_SHORTCODE = re.compile(r"\[/?(?P<name>" + "|".join(SHORTCODES) + r")\b[^\]]*\]", re.IGNORECASE)
_BLOCK_START = re.compile(r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|table|figure|pre|hr|img|iframe|form|section|dl)\b", re.IGNORECASE)
_HAS_P = re.compile(r"<p[\s>]", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


# --- HTML -> Markdown ---------------------------------------------------------------------------


def _autop(html: str) -> str:
    """WordPress stores classic-editor posts with blank lines for paragraphs (wpautop adds <p> on display)."""
    if _HAS_P.search(html):
        return html
    blocks = [b.strip() for b in re.split(r"\n\s*\n", html.replace("\r\n", "\n")) if b.strip()]
    return "\n".join(b if _BLOCK_START.match(b) else "<p>" + b.replace("\n", "<br>\n") + "</p>" for b in blocks)


def _caption(match: re.Match, warnings: list[str]) -> str:
    inner = match.group("inner")
    attrs = dict(_ATTR.findall(match.group("attrs")))
    found = _CAPTION_IMG.match(inner)
    if not found:
        warnings.append("a [caption] without an image: kept its text")
        return f"<p>{inner}</p>"
    img, text = found.group("img"), (found.group("text").strip() or attrs.get("caption", ""))
    plain = re.sub(r"<[^>]+>", "", unescape(text)).strip()
    if plain and re.search(r'\balt=""|\balt=\'\'', img):
        img = re.sub(r'\balt=(""|\'\')', 'alt="' + escape(plain) + '"', img, count=1)
    elif plain and "alt=" not in img:
        img = img.replace("<img", '<img alt="' + escape(plain) + '"', 1)
    return f"<p>{img}</p>" + (f"<p><em>{text}</em></p>" if plain else "")


def html_to_markdown(html: str) -> tuple[str, list[str]]:
    """Clean Markdown from WordPress or feed HTML, and warnings for what was dropped."""
    from markdownify import MarkdownConverter

    warnings: list[str] = []

    class Converter(MarkdownConverter):
        # Scripts and styles are never content; their text must not leak into the body.
        def convert_script(self, *args, **kwargs):
            return ""

        convert_style = convert_script
        convert_noscript = convert_script

        def convert_a(self, el, text, parent_tags):
            scheme = urllib.parse.urlsplit((el.get("href") or "").strip()).scheme.lower()
            if scheme and scheme not in SAFE_SCHEMES:
                warnings.append(f"a {scheme}: link removed (its text '{text.strip()}' kept)")
                return text
            return super().convert_a(el, text, parent_tags)

        def convert_iframe(self, el, text, parent_tags):
            src = el.get("src") or ""
            warnings.append(f"embedded frame {src} removed: add it back as a link, or as raw HTML from a host in embed_hosts")
            return f"\n\n<{src}>\n\n" if urllib.parse.urlsplit(src).scheme in {"http", "https"} else ""

        def _cell(self, el, text, parent_tags, kind):
            # A | inside a cell would split it in a Markdown table.
            return getattr(super(), kind)(el, text.replace("|", "\\|"), parent_tags)

        def convert_td(self, el, text, parent_tags):
            return self._cell(el, text, parent_tags, "convert_td")

        def convert_th(self, el, text, parent_tags):
            return self._cell(el, text, parent_tags, "convert_th")

    html = _BLOCK_COMMENT.sub("", html or "")
    html = _EMBED.sub(lambda m: f'<p><a href="{escape(m.group("url").strip())}">{escape(m.group("url").strip())}</a></p>', html)
    html = _CAPTION.sub(lambda m: _caption(m, warnings), html)
    for name in sorted({m.group("name").lower() for m in _SHORTCODE.finditer(html)}):
        warnings.append(f"WordPress shortcode [{name}] removed: add its content by hand if it mattered")
    html = _SHORTCODE.sub("", html)
    html = _autop(html)
    text = Converter(heading_style="ATX", bullets="-", escape_misc=False).convert(html)
    # Trailing blanks go, except the two spaces that make a <br> a Markdown hard line break.
    text = "\n".join(line.rstrip() + ("  " if line.endswith("  ") and line.strip() else "") for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text + "\n" if text else "", warnings


# --- writing -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def represent_list(self, data):
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def _markdown_file(meta: dict, body: str) -> str:
    front = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{body}"


@dataclass
class _Planner:
    """Slugs unique in the site (compared without case) and files that never overwrite."""

    taken: set[str]

    def place(self, folder: Path, base: str) -> tuple[str, Path]:
        slug, n = base, 1
        while slug.casefold() in self.taken or (folder / f"{slug}.md").exists():
            n += 1
            slug = f"{base}-{n}"
        self.taken.add(slug.casefold())
        return slug, folder / f"{slug}.md"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8", newline="\n") as out:  # "x": never replace a file
        out.write(text)


def _release_url(config: Config, kind: str, slug: str, when: datetime, section: str) -> str:
    pattern = config.permalinks.get(kind, "/{slug}/")
    return pattern.format(year=f"{when.year:04d}", month=f"{when.month:02d}", day=f"{when.day:02d}", slug=slug, section=section)


def _old_path(url: str) -> str | None:
    """The path of an old URL when it can be an alias page (no query: static hosts ignore it)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.query or not parts.path or parts.path == "/":
        return None
    return urllib.parse.unquote(parts.path)


def _default_byline(config: Config) -> list[dict] | None:
    byline = (config.defaults or {}).get("byline")
    if isinstance(byline, dict):
        byline = [byline]
    if isinstance(byline, list) and byline and all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in byline):
        return [dict(p) for p in byline]
    return None


def _into_check(into: Path, config: Config) -> None:
    try:
        into.resolve().relative_to(config.content_dir.resolve())
    except ValueError:
        raise UsageError(f"--into {_display(into)} is not inside the content folder {_display(config.content_dir)}") from None


# --- WordPress --------------------------------------------------------------------------------


@dataclass
class WordPressResult:
    """Entries for posts and pages, and the attachments found (and fetched)."""

    entries: list[ImportReportEntry] = field(default_factory=list)
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (url, where it was saved or why not)

    def media_lines(self) -> list[str]:
        return [f"attachment {url}: {state}" for url, state in self.attachments]


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _child(el, name: str, ns: str | None = None) -> str:
    """Text of the first child called NAME (ns: 'wp' for any WXR version, or a namespace URI)."""
    for sub in el:
        sub_ns, sub_name = _local(sub.tag)
        if sub_name != name:
            continue
        if ns == "wp" and not sub_ns.startswith(WP_PREFIX):
            continue
        if ns not in (None, "wp") and sub_ns != ns:
            continue
        if ns is None and sub_ns:
            continue
        return (sub.text or "").strip() if name != "encoded" else (sub.text or "")
    return ""


def _children(el, name: str, ns: str | None = None):
    for sub in el:
        sub_ns, sub_name = _local(sub.tag)
        if sub_name == name and ((ns == "wp" and sub_ns.startswith(WP_PREFIX)) or (ns is None and not sub_ns)):
            yield sub


def parse_wxr(path: Path):
    """The <channel> element of a WXR file, parsed without entities or DTDs (exports are untrusted input)."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    try:
        root = SafeET.parse(str(path), forbid_dtd=True).getroot()
    except DefusedXmlException as exc:
        raise UsageError(f"{_display(path)}: refused: the file declares a DTD or entities ({exc.__class__.__name__}), which a WordPress export never needs") from None
    except ParseError as exc:
        raise UsageError(f"{_display(path)}:{exc.position[0]}: not a readable XML file ({exc})") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None or _child(channel, "wxr_version", "wp") == "":
        raise UsageError(f"{_display(path)}: not a WordPress export (WXR): export it with Tools > Export in WordPress")
    return channel


def _wp_date(item, tz) -> datetime | None:
    gmt = _child(item, "post_date_gmt", "wp")
    if gmt and not gmt.startswith("0000"):
        try:
            return datetime.fromisoformat(gmt).replace(tzinfo=timezone.utc).astimezone(tz)
        except ValueError:
            pass
    local = _child(item, "post_date", "wp")
    if local and not local.startswith("0000"):
        try:
            return datetime.fromisoformat(local).replace(tzinfo=tz)
        except ValueError:
            return None
    return None


def import_wordpress(export: Path, into: Path, config: Config, fetch_media: bool = False) -> WordPressResult:
    """Write the posts of a WXR file as releases under INTO/YYYY/MM/ and its pages under content/halaman/."""
    _into_check(into, config)
    tz = config.tz
    raw = export.read_text(encoding="utf-8", errors="replace")
    channel = parse_wxr(export)
    authors = {}
    for author in _children(channel, "author", "wp"):
        login = _child(author, "author_login", "wp")
        authors[login] = _child(author, "author_display_name", "wp") or login
    index = existing_titles(config.content_dir, tz)
    planner = _Planner(set(index.slugs) | {s.casefold() for s in index.values()})
    fallback = _default_byline(config)
    result = WordPressResult()
    items = list(channel.iter("item"))
    attachments = [(item, _child(item, "attachment_url", "wp")) for item in items if _child(item, "post_type", "wp") == "attachment"]
    fetched: dict[str, str] = {}
    for item, url in attachments:
        if not url:
            continue
        if fetch_media:
            state, local = _fetch(url, config.content_dir / "media" / "wp")
            if local:
                fetched[url] = "/" + local.relative_to(config.content_dir).as_posix()
            result.attachments.append((url, state))
        else:
            result.attachments.append((url, "not downloaded (use --fetch-media, or copy it into content/media/ by hand)"))

    for item in items:
        kind = _child(item, "post_type", "wp")
        if kind not in {"post", "page"}:
            continue
        post_id = _child(item, "post_id", "wp")
        spot = raw.find(f"<wp:post_id>{post_id}</wp:post_id>") if post_id else -1
        line = raw.count("\n", 0, spot) + 1 if spot >= 0 else 0
        title = " ".join(unescape(_child(item, "title")).split())
        label = f"{kind} {post_id}"
        notes: list[Note] = []
        warnings: list[Note] = []
        errors: list[Note] = []
        status = _child(item, "status", "wp")
        if status == "trash":
            result.entries.append(ImportReportEntry(export, None, errors=((line, f"{label} '{title}' is in the WordPress trash: not imported"),)))
            continue
        when = _wp_date(item, tz)
        if not title:
            errors.append((line, f"{label}: no title"))
        if when is None:
            errors.append((line, f"{label}: no date (post_date and post_date_gmt are empty)"))
        creator = _child(item, "creator", DC_NS)
        name = authors.get(creator, creator)
        byline = [{"name": name, "credit": ["penulis"]}] if name else None
        if kind == "post" and byline is None:
            if fallback:
                byline = fallback
                notes.append((line, f"{label}: no author: byline from the site's defaults"))
            else:
                errors.append((line, f"{label}: no author (dc:creator) and no defaults.byline in kabargen.yaml"))
        if errors:
            result.entries.append(ImportReportEntry(export, None, errors=tuple(errors)))
            continue
        name_field = urllib.parse.unquote(_child(item, "post_name", "wp"))
        base = slugify(name_field) if name_field else ""
        if not base:
            base = release_slug(title)
            notes.append((line, f"{label}: no post_name: slug from the title"))
        body, dropped = html_to_markdown(_child(item, "encoded", CONTENT_NS))
        warnings += [(line, f"{label}: {w}") for w in dropped]
        for url, local in fetched.items():
            body = body.replace(url, local)
        meta: dict[str, Any] = {"title": title}
        if kind == "page":
            folder = config.content_dir / "halaman"
            section = "halaman"
        else:
            folder = into / f"{when.year:04d}" / f"{when.month:02d}"
            section = into.resolve().relative_to(config.content_dir.resolve()).parts[0] if into.resolve() != config.content_dir.resolve() else ""
        slug, target = planner.place(folder, base)
        if slug != base:
            notes.append((line, f"{label}: slug '{base}' is taken: written as '{slug}'"))
        meta["date"] = when.strftime("%Y-%m-%d %H:%M")
        if kind == "page":
            meta["layout"] = "page"
        else:
            meta["byline"] = byline
            tags: list[str] = []
            for cat in _children(item, "category"):
                domain = cat.get("domain")
                nice = (cat.get("nicename") or "").casefold()
                text = " ".join((cat.text or "").split())
                if domain not in {"post_tag", "category"} or not text:
                    continue
                if domain == "category" and nice in UNCATEGORIZED:
                    continue
                if text.casefold() not in {t.casefold() for t in tags}:
                    tags.append(text)
            if tags:
                meta["tags"] = tags
            meta["related"] = []
        if status in DRAFT_STATUSES:
            meta["draft"] = True
            notes.append((line, f"{label}: status '{status}': imported as a draft"))
        new_url = _release_url(config, "page" if kind == "page" else "release", slug, when, section)
        aliases: list[str] = []
        queries: list[tuple[int, str]] = []
        for old in (_child(item, "link"), _child(item, "guid")):
            if not old:
                continue
            path = _old_path(old)
            if path is None:
                if "?" in old and (line, old) not in queries:
                    queries.append((line, old))
                continue
            if path.rstrip("/") != new_url.rstrip("/") and path not in aliases:
                aliases.append(path)
        if aliases:
            meta["aliases"] = aliases
        _write(target, _markdown_file(meta, body))
        date_from = "post_date_gmt" if _child(item, "post_date_gmt", "wp")[:4] not in {"", "0000"} else "post_date"
        notes.append((line, f"{label}: title '{title}', date {meta['date']} from {date_from}" + (f", byline {byline[0]['name']} from dc:creator" if kind == "post" and name else "")))
        if meta.get("tags"):
            notes.append((line, f"{label}: tags {', '.join(meta['tags'])} from its categories and tags"))
        if aliases:
            notes.append((line, f"{label}: old URL(s) {', '.join(aliases)} kept as aliases"))
        for _, old in queries:
            # A static host ignores the query string, so no file can answer ?p=ID: say so, once per URL.
            notes.append((line, f"{label}: old URL {old} has a query string: no alias page can answer it on a static host (see docs/importing.md)"))
        result.entries.append(ImportReportEntry(export, target, slug, tuple(notes), tuple(warnings)))
    return result


def _fetch(url: str, folder: Path) -> tuple[str, Path | None]:
    """Download one attachment into FOLDER; http(s) only, with a timeout; never overwrites."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return f"not downloaded: only http and https URLs are fetched, not {parts.scheme or 'a relative URL'}", None
    name = Path(urllib.parse.unquote(parts.path)).name
    stem, dot, ext = name.rpartition(".")
    base = slugify(stem) or "berkas"
    suffix = ("." + re.sub(r"[^A-Za-z0-9]", "", ext).lower()) if dot else ""
    target, n = folder / (base + suffix), 1
    while target.exists():
        n += 1
        target = folder / f"{base}-{n}{suffix}"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - scheme checked above
            data = response.read()
    except OSError as exc:
        return f"not downloaded: {exc}", None
    folder.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as out:
        out.write(data)
    return f"saved as {_display(target)}", target


# --- RSS / Atom -----------------------------------------------------------------------------------


def import_feed(feed: str, into: Path, config: Config) -> list[ImportReportEntry]:
    """Write the entries of an RSS or Atom feed (a file or an http(s) URL) as releases under INTO."""
    import feedparser

    _into_check(into, config)
    tz = config.tz
    parts = urllib.parse.urlsplit(feed)
    if parts.scheme in {"http", "https"}:
        try:
            with urllib.request.urlopen(feed, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                data = response.read()
        except OSError as exc:
            raise UsageError(f"{feed}: cannot be fetched ({exc})") from None
        source = Path(parts.path.rsplit("/", 1)[-1] or "feed")
    elif parts.scheme and len(parts.scheme) > 1:
        raise UsageError(f"{feed}: only files and http(s) URLs can be imported")
    else:
        source = Path(feed)
        if not source.is_file():
            raise UsageError(f"{feed}: no such file")
        data = source.read_bytes()
    # Bytes, not a string: feedparser would treat a string as a URL or path to open by itself.
    parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=False)
    if parsed.bozo and not parsed.entries:
        raise UsageError(f"{feed}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
    index = existing_titles(config.content_dir, tz)
    planner = _Planner(set(index.slugs) | {s.casefold() for s in index.values()})
    fallback = _default_byline(config)
    entries: list[ImportReportEntry] = []
    section = into.resolve().relative_to(config.content_dir.resolve()).parts[0] if into.resolve() != config.content_dir.resolve() else ""
    for number, entry in enumerate(parsed.entries, 1):
        label = f"entry {number}"
        title = " ".join(unescape(entry.get("title", "")).split())
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        errors: list[Note] = []
        notes: list[Note] = []
        if not title:
            errors.append((0, f"{label}: no title"))
        if not stamp:
            errors.append((0, f"{label} '{title}': no date"))
        author = " ".join((entry.get("author") or "").split())
        byline = [{"name": author, "credit": ["penulis"]}] if author else fallback
        if byline is None:
            errors.append((0, f"{label} '{title}': no author and no defaults.byline in kabargen.yaml"))
        elif not author:
            notes.append((0, f"{label}: no author: byline from the site's defaults"))
        if errors:
            entries.append(ImportReportEntry(source, None, errors=tuple(errors)))
            continue
        when = datetime(*stamp[:6], tzinfo=timezone.utc).astimezone(tz)
        html = entry["content"][0].get("value", "") if entry.get("content") else entry.get("summary", "")
        body, dropped = html_to_markdown(html)
        warnings = [(0, f"{label}: {w}") for w in dropped]
        if not entry.get("content"):
            warnings.append((0, f"{label}: the feed carries only a summary: the full text may be missing"))
        link = entry.get("link") or ""
        if urllib.parse.urlsplit(link).scheme not in {"http", "https"}:
            link = ""  # feedparser falls back to the entry's id, which may be a urn: and no old URL
        base = slugify(urllib.parse.unquote(link.rstrip("/").rsplit("/", 1)[-1])) if link and not urllib.parse.urlsplit(link).query else ""
        base = base or release_slug(title)
        slug, target = planner.place(into / f"{when.year:04d}" / f"{when.month:02d}", base)
        meta: dict[str, Any] = {"title": title, "date": when.strftime("%Y-%m-%d %H:%M"), "byline": byline}
        tags: list[str] = []
        for tag in entry.get("tags") or []:
            term = " ".join((tag.get("term") or "").split())
            if term and term.casefold() not in {t.casefold() for t in tags} and slugify(term) not in UNCATEGORIZED:
                tags.append(term)
        if tags:
            meta["tags"] = tags
        meta["related"] = []
        old = _old_path(link) if link else None
        new_url = _release_url(config, "release", slug, when, section)
        if old and old.rstrip("/") != new_url.rstrip("/"):
            meta["aliases"] = [old]
        _write(target, _markdown_file(meta, body))
        notes.append((0, f"{label}: title '{title}', date {meta['date']}" + (f", byline {author}" if author else "") + (f", tags {', '.join(tags)}" if tags else "") + (f", old URL {old} kept as alias" if meta.get("aliases") else "")))
        entries.append(ImportReportEntry(source, target, slug, tuple(notes), tuple(warnings)))
    return entries

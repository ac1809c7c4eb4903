"""Markdown -> sanitized HTML, collecting [[slug]] cross-links and linked files.

The HTML keeps cross-links as placeholders (`<a data-xref="slug">text</a>`) so that a
body converts the same whatever the other releases are titled; the renderer fills
them in. That makes a body's HTML cacheable by the hash of its text alone.
"""

from __future__ import annotations

import html
import posixpath
import re
import xml.etree.ElementTree as etree
from collections import Counter
from urllib.parse import unquote, urlsplit

import markdown
import markdown.util
import nh3
from markdown import inlinepatterns
from markdown.inlinepatterns import InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.treeprocessors import Treeprocessor

from .errors import ERROR, WARNING
from .model import Markup

# Bounded lengths: an unclosed "[[" must not make the search run to the end of a huge line.
XREF_RE = r"\[\[([^\]\|\n]{1,300}?)(?:\|([^\]\n]{1,1000}?))?\]\]"
_XREF_SOURCE = re.compile(XREF_RE)
READ_ALSO = re.compile(r"^\s*(baca\s+juga|read\s+also|lihat\s+juga)\s*:?\s*$", re.IGNORECASE)
URL_SCHEMES = {"http", "https", "mailto", "tel"}
FOOTNOTE_BACK = {"id": "Kembali ke catatan kaki %d di teks", "en": "Jump back to footnote %d in the text"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "u", "ul", "aside", "h1",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "data-xref", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "scope", "style"},
    "ol": {"start", "reversed", "type"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "iframe": {"src", "title", "width", "height", "allow", "allowfullscreen", "loading", "referrerpolicy"},
}
# Tables from Markdown carry `style="text-align: ..."`; nothing else may.
_ALIGN_STYLE = re.compile(r"^text-align:\s*(left|right|center);?$")

_EMPTY_IFRAME = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.S)
_RAW_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>", re.S)
_RAW_ATTR = re.compile(r"([^\s=/\"'<>]+)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")


def allowed_iframe(src: str, embed_hosts: tuple[str, ...]) -> bool:
    """Whether an iframe source is on an https host the site allows.

    Strict on purpose: browsers read `https://evil.example\\@allowed.host/` as a page of
    evil.example while Python's URL parser sees allowed.host, so a source with a
    backslash, a space or control character, a user name or a port is refused.
    """
    src = src.strip()
    if re.search(r"[\x00-\x20\x7f\\]", src):
        return False
    parts = urlsplit(src)
    return parts.scheme.lower() == "https" and parts.netloc.lower() in embed_hosts


def url_scheme_ok(url: str) -> bool:
    """Whether a URL is relative or uses a scheme kabargen will ever emit."""
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url))
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match is None or match.group(1).lower() in URL_SCHEMES


# Python-Markdown rebuilds a paragraph's whole text after every inline match and scans
# from each "[" to the end of the paragraph for its "]": fine for paragraphs of normal
# length, quadratic for one of megabytes (a pasted report with no blank lines). Longer
# paragraphs are split; links are looked for within a bounded window.
PARAGRAPH_LIMIT = 20_000
LINK_SCAN_LIMIT = 2_000
_BRACKET = re.compile(r"[\[\]]")
_BLOCK_START = re.compile(
    r"^(?: {4}|\t| {0,3}(?:[>|]|[-*+](?:\s|$)|#{1,6}(?:\s|$)|\d{1,9}[.)](?:\s|$)|\[[^\]]*\]:|[`~]{3}|-{3}|\*{3}|_{3}"
    r"|</?(?:" + "|".join(sorted(markdown.util.BLOCK_LEVEL_ELEMENTS)) + r")(?:[\s/>]|$)|<!--))",
    re.IGNORECASE,
)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*\|")
_SENTENCE_END = re.compile(r"[.!?]\s")


class _BoundedLinks:
    """Link and image processors that look for the closing bracket and parenthesis nearby only."""

    def getText(self, data, index):  # noqa: N802 - Python-Markdown's API
        depth = 1
        for m in _BRACKET.finditer(data, index, min(len(data), index + LINK_SCAN_LIMIT)):
            depth += 1 if m.group() == "[" else -1
            if depth == 0:
                return data[index : m.start()], m.end(), True
            if depth > 32:  # "[[[[..." is not a link
                break
        return "", index, False

    def getLink(self, data, index):  # noqa: N802 - Python-Markdown's API
        window = data[index : index + LINK_SCAN_LIMIT]
        if window.startswith("(") and ")" not in window:
            return "", None, index, False  # cannot close: spare the character-by-character scan
        href, title, end, handled = super().getLink(window, 0)
        return href, title, index + end, handled


def _bounded(cls):
    return type("Bounded" + cls.__name__, (_BoundedLinks, cls), {})


_LINK_PROCESSORS = (
    ("reference", inlinepatterns.ReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, 170),
    ("link", inlinepatterns.LinkInlineProcessor, inlinepatterns.LINK_RE, 160),
    ("image_link", inlinepatterns.ImageInlineProcessor, inlinepatterns.IMAGE_LINK_RE, 150),
    ("image_reference", inlinepatterns.ImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, 140),
    ("short_reference", inlinepatterns.ShortReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, 130),
    ("short_image_ref", inlinepatterns.ShortImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, 125),
)


def split_long_paragraphs(lines: list[str], body_line: int) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Cut plain paragraphs longer than PARAGRAPH_LIMIT into several, with a warning each.

    Only plain text is cut (not lists, quotes, tables, code or HTML), between lines
    where it can, else after a sentence, else at a space.
    """
    out: list[str] = []
    problems: list[tuple[int, str, str]] = []
    block: list[str] = []
    start = 0
    fence = ""

    def flush() -> None:
        if sum(len(x) for x in block) <= PARAGRAPH_LIMIT or _BLOCK_START.match(block[0]) or any(_TABLE_RULE.match(x) for x in block):
            out.extend(block)
            return
        size = sum(len(x) for x in block)
        pieces = 1
        length = 0
        for text in block:
            for part in _cut(text):
                if length and length + len(part) > PARAGRAPH_LIMIT:
                    out.append("")
                    pieces += 1
                    length = 0
                out.append(part)
                length += len(part)
        problems.append((body_line + start, WARNING, f"a paragraph of {size:,} characters was split into {pieces}: Markdown is slow on very long paragraphs; put blank lines between paragraphs"))

    for index, text in enumerate(lines):
        stripped = text.lstrip()
        if fence:
            out.append(text)
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            if block:
                flush()
                block = []
            fence = stripped[:3]
            out.append(text)
            continue
        if not stripped:
            if block:
                flush()
                block = []
            out.append(text)
            continue
        if not block:
            start = index
        block.append(text)
    if block:
        flush()
    return out, problems


def _cut(text: str) -> list[str]:
    """One line as pieces of at most PARAGRAPH_LIMIT characters, cut after a sentence or at a space."""
    pieces = []
    while len(text) > PARAGRAPH_LIMIT:
        window = text[:PARAGRAPH_LIMIT]
        ends = [m.end() for m in _SENTENCE_END.finditer(window, PARAGRAPH_LIMIT // 2)]
        at = ends[-1] if ends else window.rfind(" ", PARAGRAPH_LIMIT // 2) + 1 or PARAGRAPH_LIMIT
        pieces.append(text[:at].rstrip())
        text = text[at:].lstrip()
    pieces.append(text)
    return pieces


class _LineFinder:
    """The body line where a link's URL is written: searched onwards from the previous link.

    Links are met in document order, so the search is linear in the body however
    many links it has (a search from the top for each would be quadratic).
    """

    def __init__(self, lines: list[str], body_line: int):
        self.text = "\n".join(lines)
        self.body_line = body_line
        self.pos = 0  # just after the previous match
        self.line = body_line  # line of self.pos
        self.last: tuple[str, int] = ("", body_line)

    def __call__(self, needle: str) -> int:
        if not needle:
            return self.body_line
        if needle == self.last[0]:  # asked again for the same element
            return self.last[1]
        at = self.text.find(needle, self.pos)
        if at < 0:
            at = self.text.find(needle)
            if at < 0:
                return self.body_line
            self.pos, self.line = 0, self.body_line
        line = self.line + self.text.count("\n", self.pos, at)
        self.pos = at + len(needle)
        self.line = line + needle.count("\n")
        self.last = (needle, line)
        return line


_CODE_SPAN = re.compile(r"(`+).*?\1")


def _source_lines_of(made: list[str], lines: list[str], body_line: int) -> list[tuple[str, int]]:
    """The [[slug]] links Markdown made, each with its line in the file.

    Only links Markdown actually made count: `[[slug]]` shown in code (a code span, a fenced or
    indented block) is text, not a link. Lines come from the source, code left out, in order.
    """
    wanted = Counter(made)
    found: list[tuple[str, int]] = []
    fence = ""
    for index, text in enumerate(lines):
        stripped = text.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        for m in _XREF_SOURCE.finditer(_CODE_SPAN.sub(lambda c: " " * len(c.group(0)), text)):
            slug = m.group(1).strip()
            if wanted[slug] > 0:
                wanted[slug] -= 1
                found.append((slug, body_line + index))
    # A link the line scan could not place (one split over lines, say) is reported at the body's start.
    found.extend((slug, body_line) for slug in sorted(wanted.elements()))
    return found


class _XrefPattern(InlineProcessor):
    def __init__(self, pattern: str, md, converter):
        super().__init__(pattern, md)
        self.converter = converter

    def handleMatch(self, m, data):  # noqa: N802 - Python-Markdown's API
        el = etree.Element("a")
        el.set("data-xref", m.group(1).strip())
        self.converter.state["made"].append(m.group(1).strip())
        if m.group(2):
            el.text = m.group(2).strip()
        return el, m.start(0), m.end(0)


class _Collect(Treeprocessor):
    """Rewrites local links, finds read-also paragraphs and the first paragraph."""

    def __init__(self, md, converter: "Converter"):
        super().__init__(md)
        self.converter = converter

    def run(self, root):
        state = self.converter.state
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "p" and self._is_read_also(child):
                    child.tag = "aside"
                    child.set("class", "read-also")
                    label = child.text.strip().rstrip(":").strip()
                    child.text = None
                    strong = etree.Element("strong")
                    strong.text = label + ":"
                    strong.tail = " "
                    child.insert(0, strong)
        for el in root.iter():
            if el.tag == "a" and el.get("href") is not None:
                self._local(el, "href")
            elif el.tag == "img" and el.get("src") is not None:
                line = state["find"](el.get("src"))
                self._local(el, "src")
                if not (el.get("alt") or "").strip():
                    state["problems"].append((line, WARNING, "image without alt text: describe it for screen readers, ![description](file.jpg)"))
        for el in root.iter("p"):
            text = _plain(el).strip()
            if text:
                state["first"] = text
                break

    @staticmethod
    def _is_read_also(p) -> bool:
        children = list(p)
        return (
            len(children) == 1
            and children[0].tag == "a"
            and children[0].get("data-xref") is not None
            and READ_ALSO.match(p.text or "") is not None
            and not (children[0].tail or "").strip()
        )

    def _local(self, el, attr: str) -> None:
        state = self.converter.state
        url = el.get(attr)
        line = state["find"](url)
        if not url_scheme_ok(url):
            state["problems"].append((line, WARNING, f"link {url[:60]!r} uses a scheme that is not allowed (only http, https, mailto, tel): removed"))
            del el.attrib[attr]
            return
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            return
        rel = state["rel"]
        path = unquote(parts.path)
        target = path.lstrip("/") if path.startswith("/") else posixpath.join(posixpath.dirname(rel), path)
        target = posixpath.normpath(target)
        if target == ".." or target.startswith("../") or target.startswith("/"):
            state["problems"].append((line, ERROR, f"link {url!r} points outside content/"))
            del el.attrib[attr]
            return
        suffix = posixpath.splitext(target)[1].lower()
        tail = ("#" + parts.fragment) if parts.fragment else ""
        if suffix in {".md", ".markdown"} and attr == "href":
            el.set("data-xref", "@" + target)
            el.set("data-xref-fragment", tail)
            del el.attrib[attr]
            state["xrefs"].append(("@" + target, line))
        elif suffix and not path.endswith("/"):
            state["files"].append((target, line))
            el.set(attr, self.converter.base_path + target + (("?" + parts.query) if parts.query else "") + tail)
        elif path.startswith("/"):
            el.set(attr, self.converter.base_path + path.lstrip("/") + (("?" + parts.query) if parts.query else "") + tail)


def _plain(el) -> str:
    """Text of an element; [[slug]] links without text become \x00slug\x00 for the title."""
    parts = [el.text or ""]
    for child in el:
        if child.get("data-xref") is not None and not (child.text or "").strip():
            parts.append("\x00" + child.get("data-xref") + "\x00")
        else:
            parts.append(_plain(child))
        parts.append(child.tail or "")
    return "".join(parts)


# For each inline pattern, text that every match of it contains. Python-Markdown runs each
# pattern's regex over every text node; most paragraphs contain none of these, and the
# regexes that start with a lookbehind are slow to fail, so checking first roughly
# halves the time of a typical body. A pattern not listed here is always run.
_TRIGGERS = {
    "backtick": ("`",),
    "kabargen-xref": ("[[",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "reference": ("[",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_reference": ("[",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
    "em_strong2": ("_",),
    "not_strong": ("*", "_"),
    "strong": ("*",),
    "emphasis": ("*",),
    "emphasis2": ("_",),
}


class _TriggerGuard:
    """A compiled pattern that skips the search when the text lacks the pattern's trigger."""

    __slots__ = ("regex", "triggers")

    def __init__(self, regex: re.Pattern, triggers: tuple[str, ...]):
        self.regex = regex
        self.triggers = triggers

    def finditer(self, data: str, pos: int = 0):
        for trigger in self.triggers:
            if trigger in data:
                return self.regex.finditer(data, pos)
        return iter(())

    def __getattr__(self, name: str):
        return getattr(self.regex, name)


def _guard_inline_patterns(md: markdown.Markdown) -> None:
    for item in md.inlinePatterns._priority:
        triggers = _TRIGGERS.get(item.name)
        pattern = md.inlinePatterns[item.name]
        if triggers and isinstance(pattern, InlineProcessor) and isinstance(pattern.compiled_re, re.Pattern):
            pattern.compiled_re = _TriggerGuard(pattern.compiled_re, triggers)


class _ScrubRawXrefs(Postprocessor):
    """Raw HTML may not carry kabargen's own link placeholders (data-xref): only [[slug]] makes them."""

    _ATTR = re.compile(r"(<[a-zA-Z][^<>]*?\s)(data-xref)", re.S)

    def run(self, text):
        blocks = self.md.htmlStash.rawHtmlBlocks
        for index, block in enumerate(blocks):
            if isinstance(block, str) and "data-xref" in block:
                before = None
                while before != block:
                    before, block = block, self._ATTR.sub(r"\1data-raw-xref", block)
                blocks[index] = block
        return text


class _Extension(markdown.Extension):
    def __init__(self, converter: "Converter"):
        super().__init__()
        self.converter = converter

    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's API
        md.inlinePatterns.register(_XrefPattern(XREF_RE, md, self.converter), "kabargen-xref", 185)
        for name, cls, pattern, priority in _LINK_PROCESSORS:
            md.inlinePatterns.register(_bounded(cls)(pattern, md), name, priority)
        md.treeprocessors.register(_Collect(md, self.converter), "kabargen-collect", 5)
        md.postprocessors.register(_ScrubRawXrefs(md), "kabargen-scrub-xrefs", 35)  # before raw_html (30)


class Converter:
    """Converts release bodies; one per process, reused across files."""

    def __init__(self, base_path: str = "/", embed_hosts: tuple[str, ...] = (), language: str = "id"):
        self.base_path = base_path
        self.embed_hosts = tuple(embed_hosts)
        self.state: dict = {}
        self.md = markdown.Markdown(
            extensions=["tables", "footnotes", "attr_list", "toc", "fenced_code", "sane_lists", _Extension(self)],
            extension_configs={
                "toc": {"permalink": False},
                "footnotes": {"UNIQUE_IDS": False, "BACKLINK_TITLE": FOOTNOTE_BACK.get(language.split("-")[0], FOOTNOTE_BACK["en"])},
            },
            output_format="html",
        )
        _guard_inline_patterns(self.md)
        tags = set(ALLOWED_TAGS)
        if self.embed_hosts:
            tags.add("iframe")
        self.tags = tags

    def _filter(self, element: str, attribute: str, value: str):
        if element == "iframe" and attribute == "src":
            return value if allowed_iframe(value, self.embed_hosts) else None
        if attribute == "style":
            return value if _ALIGN_STYLE.match(value.strip()) else None
        if attribute in {"href", "src"} and not url_scheme_ok(value):
            return None
        return value

    def convert(self, body: str, rel: str, body_line: int = 1) -> Markup:
        """Convert one body. `rel` is the file's path under content/, for relative links."""
        lines = body.split("\n")
        find = _LineFinder(lines, body_line)
        problems: list[tuple[int, str, str]] = []
        problems.extend(self._raw_html_problems(lines, body_line))
        split, split_problems = split_long_paragraphs(lines, body_line)
        if split_problems:
            problems.extend(split_problems)
            body = "\n".join(split)
        # made: the [[slug]] links Markdown makes (code leaves them as text), in order.
        self.state = {"rel": rel, "find": find, "problems": problems, "xrefs": [], "files": [], "first": "", "made": []}
        self.md.reset()
        try:
            raw_html = self.md.convert(body)
        finally:
            self.md.reset()
        xrefs = _source_lines_of(self.state["made"], lines, body_line)
        xrefs.extend(self.state["xrefs"])
        clean = nh3.clean(
            raw_html,
            tags=self.tags,
            attributes={**ALLOWED_ATTRIBUTES, "a": ALLOWED_ATTRIBUTES["a"] | {"data-xref-fragment"}},
            url_schemes=URL_SCHEMES,
            attribute_filter=self._filter,
            link_rel=None,
            strip_comments=True,
        )
        # An iframe whose source was refused would be an empty box: drop it.
        clean = _EMPTY_IFRAME.sub("", clean)
        first = re.sub(r"\s+", " ", self.state["first"]).strip()
        words = len(re.findall(r"\w+", re.sub(r"<[^>]+>", " ", clean)))
        return Markup(
            html=clean,
            xrefs=tuple(xrefs),
            files=tuple(self.state["files"]),
            problems=tuple(problems),
            first_paragraph=first,
            words=words,
        )

    def _raw_html_problems(self, lines: list[str], body_line: int) -> list[tuple[int, str, str]]:
        """Warn about raw HTML that the sanitizer will remove, with its line."""
        problems = []
        in_fence = False
        for index, text in enumerate(lines):
            if text.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            if in_fence or "<" not in text:
                continue
            for m in _RAW_TAG.finditer(text):
                name = m.group(1).lower()
                line = body_line + index
                if name not in self.tags and name not in {"iframe"}:
                    problems.append((line, WARNING, f"HTML element <{name}> is not allowed in a release and was removed"))
                    continue
                for attr in _RAW_ATTR.finditer(m.group(2)):
                    key = attr.group(1).lower()
                    value = html.unescape((attr.group(2) or "").strip("\"'"))
                    if key.startswith("on"):
                        problems.append((line, WARNING, f"event handler {key}= on <{name}> was removed"))
                    elif key in {"href", "src"} and not url_scheme_ok(value):
                        problems.append((line, WARNING, f"{key}={value[:40]!r} on <{name}> uses a scheme that is not allowed: removed"))
                    elif name == "iframe" and key == "src" and not allowed_iframe(value, self.embed_hosts):
                        host = urlsplit(value.strip()).hostname or value
                        if host.lower() in self.embed_hosts:
                            problems.append((line, WARNING, f"iframe source {value[:60]!r} was removed: only a plain https://{host}/... address is allowed (no backslash, spaces, user name or port)"))
                        else:
                            problems.append((line, WARNING, f"iframe from {host!r} was removed: add the host to embed_hosts in kabargen.yaml to allow it"))
        return problems

"""Helpers for the adversarial suite: hostile strings, YAML quoting and audits of a whole output tree."""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from conftest import read_tree

ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}
# One string that tries every way out of every context the theme writes content into.
PAYLOAD = (
    "\"'><script>alert(1)</script><img src=x onerror=alert(2)></SCRIPT >"
    "<!-- ]]> &amp; &lt; {{ 7*7 }} {% raw %} ‮RTL‭ 🎉 ǅ ß İ"
)


def yaml_quote(text: str) -> str:
    """TEXT as a YAML double-quoted scalar that reads back exactly (any character but surrogates)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F or (code > 0xA0 and code not in (0x2028, 0x2029, 0xFEFF) and not 0xD800 <= code < 0xE000 and code not in (0xFFFE, 0xFFFF)):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def front_matter(fields: dict, body: str = "Isi rilis.") -> str:
    """A release file from already-YAML field values (use yaml_quote for hostile text)."""
    lines = ["---"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    lines += ["---", body]
    return "\n".join(lines) + "\n"


def find_everywhere(root: Path, needle: str) -> list[str]:
    """Output files whose path or bytes contain NEEDLE (case-insensitive), like `grep -ril` plus `find`.

    Gzip files (the search index's fragments) are searched after decompressing them.
    """
    lowered = needle.lower()
    data = lowered.encode("utf-8")
    hits = []
    for rel, content in read_tree(root).items():
        if content[:2] == b"\x1f\x8b":
            content += gzip.decompress(content)
        if lowered in rel.lower() or data in content.lower():
            hits.append(rel)
    for path in root.rglob("*"):
        if path.is_dir() and lowered in path.relative_to(root).as_posix().lower():
            hits.append(path.relative_to(root).as_posix() + "/")
    return sorted(set(hits))


class PageAudit(HTMLParser):
    """Everything in a page a browser could run or load, and every problem with it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.jsonld: list[str] = []
        self._in_script = False
        self._script: list[str] = []
        self.iframes: list[str] = []
        self.urls: list[str] = []  # every URL-valued attribute
        self.scripts: list[str] = []  # same-site script files

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name in {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "cite"} and value is not None:
                self.urls.append(value)
                scheme = _scheme(value)
                if scheme and scheme not in ALLOWED_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            if name == "style" and not re.fullmatch(r"text-align:\s*(left|right|center);?", (value or "").strip()):
                self.problems.append(f"style={value!r} on <{tag}>")
            if name == "srcdoc":
                self.problems.append(f"srcdoc on <{tag}>")
        if tag in {"object", "embed", "applet", "base", "svg", "math", "style", "frame", "frameset"}:
            self.problems.append(f"<{tag}> element")
        if tag == "form" and not (dict(attrs).get("action") or "").startswith("/"):
            self.problems.append(f"<form> sending to {dict(attrs).get('action')!r}")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            target = re.sub(r"^\s*\d+\s*;\s*url\s*=\s*", "", dict(attrs).get("content") or "", flags=re.I).strip("'\" ")
            if _scheme(target) or not target.startswith("/"):
                self.problems.append(f"<meta http-equiv=refresh> to {target!r}")
        if tag == "iframe":
            self.iframes.append(dict(attrs).get("src") or "")
        if tag == "script":
            a = dict(attrs)
            if a.get("type") == "application/ld+json":
                self._in_script = True
                self._script = []
            elif (a.get("src") or "").startswith("/") and not _scheme(a["src"]) and not a["src"].startswith("//"):
                self.scripts.append(a["src"])  # a file of the (trusted) theme, from the site itself
            else:
                self.problems.append(f"<script {attrs}>")

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script:
            self._in_script = False
            self.jsonld.append("".join(self._script))

    def handle_data(self, data):
        if self._in_script:
            self._script.append(data)
        elif self.lasttag == "script" and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")


def _scheme(url: str) -> str:
    # What a browser would take for the scheme: it drops ASCII tab and newline anywhere
    # and leading controls and spaces.
    cleaned = re.sub(r"[\t\n\r]", "", url).lstrip("".join(chr(c) for c in range(0x21)))
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return m.group(1).lower() if m else ""


def audit_page(html: str) -> PageAudit:
    audit = PageAudit()
    audit.feed(html)
    audit.close()
    for block in audit.jsonld:
        json.loads(block)  # a JSON-LD block that does not parse means something broke out of it
        assert "<" not in block, block
    return audit


def audit_tree(root: Path) -> dict[str, list[str]]:
    """Problems per output file: active content in HTML, XML that does not parse. {} is clean."""
    problems: dict[str, list[str]] = {}
    for rel, content in read_tree(root).items():
        if rel.endswith(".html"):
            audit = audit_page(content.decode("utf-8"))
            if audit.problems:
                problems[rel] = audit.problems
        elif rel.endswith(".xml"):
            try:
                ET.fromstring(content)
            except ET.ParseError as exc:
                problems[rel] = [f"XML does not parse: {exc}"]
    return problems


def jsonld_of(html: str) -> dict:
    """The page's JSON-LD data, parsed."""
    audit = audit_page(html)
    assert len(audit.jsonld) == 1, audit.jsonld
    return json.loads(audit.jsonld[0])


def allowed_link(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme or parts.scheme in ALLOWED_SCHEMES


DIAGNOSTIC = re.compile(r"^(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+))?: (?P<severity>error|warning): (?P<message>.+)$")


def diagnostics(stderr: str) -> list[tuple[str, int, str, str]]:
    """(path, line, severity, message) of every `path:line: severity: message` line (line 0: none given)."""
    out = []
    for line in stderr.splitlines():
        m = DIAGNOSTIC.match(line)
        if m:
            out.append((m["path"], int(m["line"] or 0), m["severity"], m["message"]))
    return out


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file under FOLDER, to prove nothing outside the output changed."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(folder).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out

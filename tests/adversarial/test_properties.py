"""Property-based: for generated front matter and bodies, a build either succeeds with every
value escaped where it lands, or fails with `path:line:` diagnostics. Never a traceback."""

import os
import string
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from conftest import build_site, read_tree
from hostile import audit_page, audit_tree, front_matter, jsonld_of, yaml_quote

from kabargen.errors import ConfigError

ATOM = "{http://www.w3.org/2005/Atom}"
# Search is off: Pagefind reads only the built HTML, which the audit checks anyway, and costs time per example.
CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nembed_hosts: [www.youtube-nocookie.com]\nsearch: false\n"
# 50 examples keep the suite fast; KABARGEN_EXAMPLES=2000 searches harder before a release.
SETTINGS = settings(max_examples=int(os.environ.get("KABARGEN_EXAMPLES", "50")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that goes for the escaping: markup, quotes, entities, template syntax, control
# characters, RTL and other scripts, emoji; mixed with any Unicode character.
NASTY = ["<", ">", "&", '"', "'", "</script>", "</SCRIPT >", "<!--", "-->", "]]>", "<![CDATA[", "&amp;", "&#0;",
         "{{ x }}", "{% if %}", "\\", "\u2028", "\u202e", "\u200f", "\ufeff", "مرحبا", "東京", "Ἀθῆναι", "🎉", "👩‍💻",
         "İ", "ß", "javascript:", "\t", "\n", " ", "#", ": ", "- ", "*", "%"]
CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\ufffe", "\r"]
printable = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), min_size=1, max_size=8)
text = st.lists(st.one_of(st.sampled_from(NASTY), printable), max_size=12).map("".join) | \
    st.lists(st.one_of(st.sampled_from(NASTY + CONTROLS), st.text(max_size=3)), max_size=6).map("".join)
CONTROL = set(map(chr, [*range(0, 9), *range(11, 32), 0x7F, 0xFFFE, 0xFFFF]))  # \t and \n are allowed


def build(folder, files):
    """Build a site in FOLDER (fresh for each example); return (root, result)."""
    root = Path(folder) / "site"
    for rel, content in {"kabargen.yaml": CONFIG, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    try:
        result = build_site(root)
    except ConfigError as exc:  # content can never cause this
        raise AssertionError(exc.diagnostics) from None
    return root, result


def assert_errors_have_lines(result, name="a.md", last_line=10_000):
    event("reported errors")
    assert result.errors
    for d in result.errors:
        assert d.path.endswith("content/" + name), d.format()
        assert 1 <= d.line <= last_line, d.format()


@SETTINGS
@given(title=text, location=text, summary=text, name=text, tag=text)
def test_generated_front_matter_is_escaped_or_reported(title, location, summary, name, tag):
    fields = {"title": yaml_quote(title), "date": "2025-05-15 10:00", "location": yaml_quote(location),
              "summary": yaml_quote(summary), "byline": f"[{{name: {yaml_quote(name + ' N')}}}]", "tags": f"[{yaml_quote(tag + ' t')}]"}
    with tempfile.TemporaryDirectory() as folder:
        check_front_matter(*build(folder, {"content/a.md": front_matter(fields, "Isi rilis.")}), title, location, summary, name, tag)


def check_front_matter(root, result, title, location, summary, name, tag):
    bad = (CONTROL & set(title + location + summary + name + tag)) or not title.strip()
    if not result.ok:
        assert_errors_have_lines(result, last_line=9)
        return
    assert not bad
    out = root / "public"
    assert audit_tree(out) == {}
    page = (out / "rilis/2025/05/a/index.html").read_text()
    title = title.strip()
    assert f"<h1>{escape(title)}</h1>" in page
    data = jsonld_of(page)
    assert data["headline"] == title and data.get("dateline", "") == location.strip()
    assert data["author"][0]["name"] == " ".join((name + " N").split())
    assert (tag + " t").strip().lstrip("#").strip() in data["keywords"]
    raw = (out / "feed.xml").read_bytes()
    entry = ET.fromstring(raw).find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == title
    assert not feedparser.parse(raw).bozo


MARKDOWN = ["**", "*", "_", "`", "```", "[", "]", "(", ")", "![", "[[", "]]", "|", "\n", "\n\n", "> ", "- ", "1. ", "# ",
            "    ", "<", ">", "&", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>",
            "</a>", "<iframe src='https://evil.example/'></iframe>", "<iframe src='https://www.youtube-nocookie.com/embed/x'></iframe>",
            "[x](javascript:alert(1))", "[x](https://example.go.id/?a=1&b=2)", "![f](data:image/png;base64,AAAA)",
            "<div style='x:y'>", "</div>", "{: onclick='x' }", "<!--", "-->", "\\", "&#106;avascript:", "<svg onload=x>",
            "[^1]", "[^1]: catatan", "Baca juga: ", "\u202e", "東京", "🎉", "<p data-xref='x'>", "<style>", "<math>"]
body_text = st.lists(st.one_of(st.sampled_from(MARKDOWN), st.text(alphabet=string.ascii_letters + " .,", max_size=10)), max_size=40).map("".join)


@SETTINGS
@given(body=body_text)
def test_generated_bodies_never_emit_active_content(body):
    fields = {"title": "Rilis", "date": "2025-05-15 10:00", "byline": "[Rina]"}
    with tempfile.TemporaryDirectory() as folder:
        check_body(*build(folder, {"content/a.md": front_matter(fields, body)}), body)


def check_body(root, result, body):
    if not result.ok:
        # Only links can fail a body ([[...]] to a missing release, a missing local file).
        assert_errors_have_lines(result, last_line=6 + body.count("\n"))
        assert all("link" in d.message or "file" in d.message for d in result.errors), [d.format() for d in result.errors]
        return
    out = root / "public"
    assert audit_tree(out) == {}
    page = (out / "rilis/2025/05/a/index.html").read_text()
    assert set(audit_page(page).iframes) <= {"https://www.youtube-nocookie.com/embed/x"}
    assert not feedparser.parse((out / "feed.xml").read_bytes()).bozo


YAML_BITS = ["&a ", "*a", "!!python/object/apply:os.system [x]", "!!str ", "!x ", "{", "}", "[", "]", ", ", ": ", "- ", "? ",
             "|\n  ", ">\n  ", "'", '"', "#", "%YAML 1.1", "---", "...", "\t", "\n", "\n  ", "~", "null", "yes", "2025-13-45",
             "2025-05-15 10:00", "<<: ", "@", "`", "\\x00", "\\u", "\x85", "\ufeff", "title", "date", "byline", "tags", "slug", "../"]
yaml_text = st.lists(st.one_of(st.sampled_from(YAML_BITS), st.text(alphabet=string.ascii_lowercase, max_size=6)), max_size=30).map("".join)


@SETTINGS
@given(extra=yaml_text)
def test_generated_yaml_never_breaks_the_build(extra):
    text = "---\ntitle: Rilis\ndate: 2025-05-15 10:00\nbyline: [Rina]\n" + extra + "\n---\nIsi.\n"
    with tempfile.TemporaryDirectory() as folder:
        check_yaml(*build(folder, {"content/a.md": text}), text)


def check_yaml(root, result, text):
    if result.ok:
        assert audit_tree(root / "public") == {}
        assert all(not rel.startswith("..") for rel in read_tree(root / "public"))
    else:
        assert_errors_have_lines(result, last_line=text.count("\n") + 1)

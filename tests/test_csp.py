"""The Content-Security-Policy in docs/publishing.md matches what the theme needs: nothing is refused."""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from conftest import copy_sample, read_tree, run_cli
from httpcrawl import serve
from test_publish import documented_csp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASE = "https://pers.example.go.id/"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("csp")
    copy_sample(root)
    result = run_cli("build", "--source", str(root), "--now", "2026-01-01 00:00")
    assert result.returncode == 0, result.stderr
    return root / "public"


def directives(policy):
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class Audit(HTMLParser):
    """What a page asks the browser to run or load, in CSP terms."""

    def __init__(self):
        super().__init__()
        self.scripts, self.styles, self.style_attrs, self.images, self.frames, self.handlers, self.other = [], [], [], [], [], [], []
        self.script_srcs, self.forms = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in a:
            if name.startswith("on"):
                self.handlers.append((tag, name))
        if "style" in a:
            self.style_attrs.append((tag, a["style"]))
        if tag == "script":
            self.scripts.append(a.get("type", ""))
            if "src" in a:
                self.script_srcs.append(a["src"])
        elif tag == "form":
            self.forms.append((a.get("method"), a.get("action")))
        elif tag == "style":
            self.styles.append("<style>")
        elif tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.styles.append(a.get("href"))
        elif tag == "img":
            self.images.append(a.get("src"))
        elif tag == "iframe":
            self.frames.append(a.get("src"))
        elif tag in {"object", "embed", "base", "audio", "video", "frame"}:
            self.other.append(tag)


def same_origin(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc or url.startswith(BASE)


def test_csp_covers_every_page_of_the_sample_site(sample):
    policy = directives(documented_csp())
    assert policy["default-src"] == ["'none'"]
    # Scripts: the search page's own file, which runs Pagefind (WebAssembly) and fetches its index.
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"] and policy["connect-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    frame_hosts = {urlsplit(h).netloc for h in policy.get("frame-src", [])}
    seen_frames = seen_styles = seen_scripts = seen_forms = 0
    for rel, data in read_tree(sample).items():
        if not rel.endswith(".html"):
            continue
        audit = Audit()
        audit.feed(data.decode("utf-8"))
        # JSON-LD is a data block that no browser runs; the one script that runs is the search page's.
        if rel == "cari/index.html":
            assert audit.scripts == ["module"] and all(same_origin(src) and "/assets/search." in src for src in audit.script_srcs), audit.script_srcs
            seen_scripts += 1
        else:
            assert set(audit.scripts) <= {"application/ld+json"}, rel
        # Forms (the search box) send only to the site itself.
        assert all(method == "get" and same_origin(action) for method, action in audit.forms), (rel, audit.forms)
        seen_forms += len(audit.forms)
        assert audit.handlers == [] and audit.other == [], rel
        assert all(href and same_origin(href) for href in audit.styles), (rel, audit.styles)
        # style-src-attr 'unsafe-inline' is there for table alignment only.
        assert all(tag in {"td", "th"} and re.fullmatch(r"text-align: (left|right|center);?", s) for tag, s in audit.style_attrs), (rel, audit.style_attrs)
        seen_styles += len(audit.style_attrs)
        assert all(same_origin(src) for src in audit.images), (rel, audit.images)
        for src in audit.frames:
            assert urlsplit(src).scheme == "https" and urlsplit(src).netloc in frame_hosts, (rel, src)
            seen_frames += 1
    # The sample site has an embedded video and an aligned table: both allowances are exercised.
    assert seen_frames >= 1 and seen_styles >= 1 and seen_scripts == 1 and seen_forms >= 1
    css = "\n".join(d.decode() for r, d in read_tree(sample).items() if r.endswith(".css"))
    for url in re.findall(r"url\(([^)]*)\)", css):
        assert same_origin(url.strip("'\" ")), url  # fonts or images from elsewhere would need a directive


PAGES = [
    "",  # home: cards, pagination, year links
    "rilis/2025/05/rakorda-internet-desa-2025/",  # every field: photo, attachments, JSON-LD
    "rilis/2023/11/festival-budaya-sungai-rapak-2023/",  # an embedded video (frame-src)
    "rilis/2024/02/bantuan-logistik-korban-banjir-muara-jernih/",  # a table with aligned columns
    "rilis/2023/08/internet-desa-tahap-pertama-2023/",  # withdrawn notice
    "berita/2025/05/rakor-internet-desa/",  # an alias redirect page
    "tag/",
    "404.html",
    "cari/?q=banjir",  # the search page: its script, Pagefind's WebAssembly and index fetches
]


def chromium_console(url, profile):
    """Console messages Chromium logs while loading URL (CSP violations among them)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(not CHROMIUM and os.environ.get("CI") != "true", reason="needs Debian's chromium (apt-get install chromium)")
def test_no_csp_violation_in_a_real_browser(sample, tmp_path):
    assert CHROMIUM, "CI must have chromium installed"
    headers = {"Content-Security-Policy": documented_csp()}
    with serve(sample, "/", headers=headers) as local:
        for page in PAGES:
            dom, console = chromium_console(local + page, tmp_path / "profile")
            # A redirect page may be left mid-navigation when the DOM is dumped; its console still counts.
            assert "</html>" in dom or "</body>" in dom or page.startswith("berita/"), page
            violations = [line for line in console if "Content Security Policy" in line]
            assert violations == [], (page, violations)
        # And the check can fail: a page with an inline style element is reported.
        (sample / "csp-probe.html").write_text("<!DOCTYPE html><html><head><style>p{}</style></head><body><p style='color:red'>x</p></body></html>")
        try:
            _, console = chromium_console(local + "csp-probe.html", tmp_path / "profile")
        finally:
            (sample / "csp-probe.html").unlink()
        assert any("Content Security Policy" in line for line in console), console

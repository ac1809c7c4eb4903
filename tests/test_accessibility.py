"""Every page type of the sample site in real headless Chromium (axe-core, keyboard, print, no JS)
and in the Nu HTML Checker (vnu).

Without Chromium, Playwright, axe or Java these tests skip, saying why; with CI=true a missing
tool is a failure instead (see tests/browser.py).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browser import WCAG21_AA, WIDTHS, _axe_script, axe_violations, format_violations, launch_browser, serve_directory, vnu_errors
from conftest import build_site, copy_sample

NOW = "2026-01-01 00:00"
HEIGHT = {"desktop": 900, "mobile": 844}
YELLOW = "rgb(255, 221, 0)"  # the focus colour of the theme
# WCAG 2.1 A and AA, and axe's best practices on top (heading order, landmarks, regions).
RULES = WCAG21_AA + ["best-practice"]

# One page of each type: a path below the site root, or "build:path" for the --drafts preview
# and the English build.
PAGE_TYPES = {
    "release": "rilis/2025/05/rakorda-internet-desa-2025/",
    "release-table": "rilis/2024/02/bantuan-logistik-korban-banjir-muara-jernih/",
    "release-inline-image": "rilis/2024/07/posyandu-digital-sidomulyo/",
    "release-withdrawn": "rilis/2023/08/internet-desa-tahap-pertama-2023/",
    "home": "",
    "home-page-2": "page/2/",
    "tag": "tag/internetdesa/",
    "tag-page-2": "tag/pemkabcontoh/page/2/",
    "person": "penulis/lestari-handayani/",
    "archive": "arsip/2024/",
    "tag-index": "tag/",
    "people-index": "penulis/",
    "page": "tentang/",
    "404": "404.html",
    "redirect": "berita/2025/05/rakor-internet-desa/",
    "draft": "drafts:rilis/2025/09/relokasi-pasar-rakyat-lembah-permai/",
    "release-english": "english:rilis/2025/05/rakorda-internet-desa-2025/",
    "home-english": "english:",
}
RELEASE = PAGE_TYPES["release"]
EMBED_PAGE = "rilis/2023/11/festival-budaya-sungai-rapak-2023/"  # a video allowed by embed_hosts


def where(path: str) -> tuple[str, str]:
    """("site", path), or the build named before a colon: "drafts:rilis/..." -> ("drafts", "rilis/...")."""
    build, _, rest = path.rpartition(":")
    return (build or "site"), rest


def file_of(built: dict[str, Path], path: str) -> Path:
    build, url = where(path)
    return built[build] / (url + "index.html" if url == "" or url.endswith("/") else url)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sample site built as published, as a --drafts preview, and in English."""
    outs = {}
    for name, language, drafts in (("site", "id", False), ("drafts", "id", True), ("english", "en", False)):
        root = tmp_path_factory.mktemp(name)
        copy_sample(root, language)
        result = build_site(root, now=NOW, drafts=drafts)
        assert result.ok, result.diagnostics
        outs[name] = root / "public"
    return outs


@pytest.fixture(scope="module")
def servers(built):
    """Each build served over real HTTP on 127.0.0.1: name -> base URL."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(serve_directory(out)) for name, out in built.items()}


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as chromium:
        yield chromium


def open_page(browser, servers, path: str, width: str = "desktop", **context):
    """A fresh page at a width; requests to other hosts are answered with an error, never sent."""
    ctx = browser.new_context(viewport={"width": WIDTHS[width], "height": HEIGHT[width]}, **context)
    ctx.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
    site, path = where(path)
    if path == PAGE_TYPES["redirect"]:
        # What a reader sees on an alias page if the refresh does not fire; firing it mid-test
        # would check the target page instead.
        def without_refresh(route):
            html = route.fetch().text()
            route.fulfill(body=re.sub(r'<meta http-equiv="refresh"[^>]*>', "", html), content_type="text/html; charset=utf-8")

        ctx.route(servers[site] + path, without_refresh)
    page = ctx.new_page()
    response = page.goto(servers[site] + path)
    assert response is not None and response.status == 200, path
    return page


# -- axe-core ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_axe_finds_no_violations(browser, servers, kind, width):
    page = open_page(browser, servers, PAGE_TYPES[kind], width)
    try:
        found = axe_violations(page, RULES)
        assert found == [], format_violations(found)
    finally:
        page.context.close()


def test_axe_checked_contrast_and_alt_text(browser, servers):
    """The zeros above mean something: the contrast and alt-text rules did run on real nodes."""
    page = open_page(browser, servers, RELEASE)
    try:
        page.evaluate(_axe_script())
        rules = ["color-contrast", "image-alt", "landmark-one-main", "page-has-heading-one", "bypass"]
        result = page.evaluate("rules => axe.run(document, {runOnly: rules, resultTypes: ['passes']})", rules)
        passed = {rule["id"]: len(rule["nodes"]) for rule in result["passes"]}
        assert passed.get("color-contrast", 0) > 20 and passed.get("image-alt", 0) >= 2, passed
        assert {"landmark-one-main", "page-has-heading-one", "bypass"} <= set(passed)
    finally:
        page.context.close()


# -- keyboard, landmarks, headings, images -------------------------------------------------


@pytest.mark.parametrize("width", list(WIDTHS))
def test_skip_link_comes_first_shows_and_moves_focus_to_main(browser, servers, width):
    page = open_page(browser, servers, RELEASE, width)
    try:
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
        assert focused == ["skip-link", "#isi-utama"]
        box = page.locator(".skip-link").bounding_box()
        assert box and box["y"] >= 0 and box["x"] >= 0 and box["width"] > 50, box
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "isi-utama"
        page.keyboard.press("Tab")  # the next stop is inside the content, not the header
        assert page.evaluate("document.activeElement.closest('main') !== null")
    finally:
        page.context.close()


def test_every_keyboard_stop_has_a_visible_focus_style(browser, servers):
    page = open_page(browser, servers, RELEASE)
    try:
        seen = 0
        for _ in range(300):
            page.keyboard.press("Tab")
            info = page.evaluate(
                """() => { const el = document.activeElement; if (el === document.body) return null;
                   const s = getComputedStyle(el);
                   return {tag: el.tagName, text: el.textContent.trim().slice(0, 40), bg: s.backgroundColor,
                           outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && s.outlineColor !== 'rgba(0, 0, 0, 0)'}; }"""
            )
            if info is None:
                break
            seen += 1
            assert info["bg"] == YELLOW or info["outline"], info
        assert seen > 30
    finally:
        page.context.close()


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_landmarks_one_h1_and_alt_on_every_image(browser, servers, kind):
    page = open_page(browser, servers, PAGE_TYPES[kind])
    try:
        facts = page.evaluate(
            """() => ({
                h1: document.querySelectorAll('h1').length,
                main: document.querySelectorAll('main').length,
                header: document.querySelectorAll('body > header').length,
                footer: document.querySelectorAll('body > footer').length,
                unnamedNav: [...document.querySelectorAll('nav')].filter(n => !n.getAttribute('aria-label')).length,
                noAlt: [...document.querySelectorAll('img')].filter(i => !i.hasAttribute('alt')).map(i => i.src),
                emptyAlt: [...document.querySelectorAll('img[alt=""]')].filter(i => !i.matches('.thumb, .brand-logo')).map(i => i.src),
                lang: document.documentElement.lang,
            })"""
        )
        assert facts["h1"] == 1 and facts["main"] == 1, facts
        assert facts["lang"] == ("en" if kind.endswith("-english") else "id"), facts
        assert facts["noAlt"] == [] and facts["emptyAlt"] == [], facts
        if kind != "redirect":  # the tiny redirect page has only a main
            assert facts["header"] == 1 and facts["footer"] == 1 and facts["unnamedNav"] == 0, facts
    finally:
        page.context.close()


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_no_sideways_scrolling_on_a_phone(browser, servers, kind):
    page = open_page(browser, servers, PAGE_TYPES[kind], "mobile")
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["mobile"]
    finally:
        page.context.close()


# -- light ---------------------------------------------------------------------------------


def test_no_page_requests_anything_from_another_host(browser, servers, built):
    """Every HTML page of the site; the only outside request is the video an office allowed."""
    ctx = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": HEIGHT["desktop"]})
    outside: dict[str, set[str]] = {}
    current = {"path": ""}

    def record(route):
        outside.setdefault(current["path"], set()).add(urlsplit(route.request.url).hostname or route.request.url)
        route.abort()

    ctx.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), record)
    page = ctx.new_page()
    out = built["site"]
    paths = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert len(paths) > 50
    try:
        for rel in paths:
            current["path"] = rel
            page.goto(servers["site"] + rel, wait_until="load")
            # An old URL's page sends the browser on at once (meta refresh): let it arrive
            # before the next goto, which that navigation would otherwise interrupt.
            page.wait_for_function("document.readyState === 'complete' && !document.querySelector('meta[http-equiv=refresh]')")
    finally:
        ctx.close()
    assert outside == {EMBED_PAGE + "index.html": {"www.youtube-nocookie.com"}}


def test_release_is_readable_with_javascript_off(browser, servers):
    page = open_page(browser, servers, RELEASE, java_script_enabled=False)
    try:
        assert page.evaluate("typeof window.eval") == "function"  # the page loaded
        assert page.locator("h1").is_visible() and page.locator(".dateline").is_visible()
        assert page.locator(".body p").first.is_visible()
        assert len(page.inner_text("main")) > 2000
        for selector in [".site-nav", ".related", ".attachments", ".share", ".prev-next"]:
            assert page.locator(selector).is_visible(), selector
    finally:
        page.context.close()


def test_release_prints_cleanly_with_link_addresses(browser, servers):
    page = open_page(browser, servers, RELEASE)
    try:
        page.emulate_media(media="print")
        for selector in [".skip-link", ".site-nav", ".breadcrumbs", ".share", ".prev-next", ".footer-links"]:
            assert page.locator(selector).evaluate("el => getComputedStyle(el).display") == "none", selector
        assert page.locator(".print-only").is_visible()
        assert page.locator(".release-layout").evaluate("el => getComputedStyle(el).display") == "block"
        def after(selector: str) -> str:
            return page.locator(selector).first.evaluate("el => getComputedStyle(el, '::after').content")

        # Links of the site print with the whole address, outside links as written.
        assert after(".body .read-also a") == '" (https://pers.example.go.id/rilis/2023/08/internet-desa-tahap-pertama-ralat/)"'
        assert after(".related a[href^='https://']") == '" (https://diskominfo.example.go.id/dokumen/peta-jalan-transformasi-digital/)"'
        assert after(".attachments a") == '" (https://pers.example.go.id/media/paparan-internet-desa-2025.pdf)"'
        assert after(".contact a[href^='mailto:']") == "none"  # the address is the link text already
        pdf = page.pdf(format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 4, pages
    finally:
        page.context.close()


# -- vnu -----------------------------------------------------------------------------------


def test_vnu_finds_no_errors_on_any_page(built):
    files = [file_of(built, PAGE_TYPES["draft"]), built["site"], built["english"]]
    errors = vnu_errors(files)
    assert errors == [], "\n".join(f"{path}:{line}: {message}" for path, line, message in errors)

"""Static search: the Pagefind index of the sample site, searched in headless Chromium through the theme."""

import gzip
import os
import re
from pathlib import Path

import pytest

from browser import WIDTHS, axe_violations, format_violations, launch_browser
from conftest import build_site, copy_sample, read_tree, release, run_cli
from httpcrawl import serve
from test_publish import documented_csp

NOW = "2026-01-01 00:00"
MARKERS = ["RAHASIADRAF", "RAHASIAEMBARGO"]  # only in the sample site's draft and embargoed release


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("cari")
    copy_sample(root)
    result = run_cli("build", "--source", str(root), "--now", NOW)
    assert result.returncode == 0, result.stderr
    return root / "public"


@pytest.fixture(scope="module")
def site_url(sample):
    # Served with the CSP that docs/publishing.md documents: search must work under it.
    with serve(sample, "/", headers={"Content-Security-Policy": documented_csp()}) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    page = context.new_page()
    page.console_messages = []
    page.on("console", lambda m: page.console_messages.append(m.text))
    page.on("pageerror", lambda e: page.console_messages.append(f"page error: {e}"))
    yield page
    context.close()


def wait_done(page):
    """Wait until the search page has answered (a count, 'no results' or the prompt)."""
    # The status says "Mencari…" from the moment a search starts (synchronously) until it has answered.
    page.wait_for_function(
        "() => { const s = document.querySelector('.search-status'); return s && s.textContent && s.textContent !== 'Mencari…'; }",
        timeout=15000,
    )


def result_urls(page):
    return [a.get_attribute("href") for a in page.query_selector_all(".search-result-title a")]


def search(page, base, query="", **params):
    from urllib.parse import urlencode

    page.goto(base + "cari/?" + urlencode({"q": query, **params}))
    wait_done(page)
    return result_urls(page)


def unpacked_index(out: Path) -> bytes:
    """Every file of the Pagefind index, decompressed where it is gzip (Pagefind compresses its index)."""
    blobs = []
    for rel, data in read_tree(out / "pagefind").items():
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        blobs.append(data)
    return b"\n".join(blobs)


def csp_problems(page):
    return [m for m in page.console_messages if "Content Security Policy" in m or "page error" in m]


# -- the index on disk -----------------------------------------------------------------------------------


def test_index_holds_published_words_and_no_hidden_marker(sample):
    assert (sample / "pagefind/pagefind.js").is_file() and (sample / "cari/index.html").is_file()
    index = unpacked_index(sample)
    # The decompressed fragments carry the text of published releases: the check can see words...
    assert b"narasumber" in index and b"Posyandu" in index
    # ...and no marker of the draft or the embargoed release is anywhere in it (nor anywhere else).
    for marker in MARKERS:
        assert marker.encode() not in index
        assert not [rel for rel, data in read_tree(sample).items() if marker.encode() in data]
    # Pagefind's own interfaces are not published: the theme has its own script.
    assert not list((sample / "pagefind").glob("pagefind-ui*"))


def test_only_release_and_page_articles_are_indexed(sample):
    html = (sample / "rilis/2025/05/rakorda-internet-desa-2025/index.html").read_text()
    assert html.count("data-pagefind-body") == 1 and '<article class="release" data-pagefind-body>' in html
    assert 'data-pagefind-filter="tag[data-value]" data-value="InternetDesa"' in html
    assert 'data-pagefind-filter="year[data-value]" data-value="2025"' in html
    assert "data-pagefind-body" not in (sample / "index.html").read_text()  # lists and navigation are not indexed
    assert "data-pagefind-body" not in (sample / "cari/index.html").read_text()
    assert '<html lang="id">' in (sample / "cari/index.html").read_text()
    assert (sample / "pagefind/wasm.id.pagefind").is_file()  # indexed as Indonesian


def test_search_false_means_no_index_no_page_no_box(make_site):
    root = make_site({
        "kabargen.yaml": "title: Uji\nsearch: false\n",
        "content/rilis/a.md": release(title="Rilis Satu", body="Kata pencarian."),
    })
    result = build_site(root)
    assert result.ok and result.search_index == ""
    files = read_tree(root / "public")
    assert not any(rel.startswith(("pagefind/", "cari/")) for rel in files)
    assert not any(b"data-pagefind" in data or b"site-search" in data for rel, data in files.items() if rel.endswith(".html"))
    assert not (root / ".kabargen-cache/search").exists()


def test_a_broken_pagefind_warns_once_and_publishes_without_search(make_site):
    root = make_site({"content/rilis/a.md": release(title="Rilis Satu", body="Kata pencarian.")})
    env = {"KABARGEN_PAGEFIND": "/bin/false"}  # a real binary that cannot index anything
    result = run_cli("build", "--source", str(root), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Pagefind cannot run") == 1, result.stderr
    files = read_tree(root / "public")
    assert "rilis/2025/05/a/index.html" in files
    assert not any(rel.startswith(("pagefind/", "cari/")) for rel in files)
    assert b"site-search" not in files["index.html"]
    # --strict: an error, and the output from before stays as it was.
    before = read_tree(root / "public")
    strict = run_cli("build", "--source", str(root), "--strict", env=env)
    assert strict.returncode != 0 and "Pagefind cannot run" in strict.stderr
    assert read_tree(root / "public") == before


def test_index_is_rebuilt_only_when_published_content_changes(make_site):
    root = make_site({
        "content/rilis/a.md": release(title="Rilis Satu", body="Jembatan gantung diresmikan."),
        "content/rilis/b.md": release(title="Rilis Dua", date="2025-05-16 10:00", body="Pasar rakyat dibuka."),
    })
    out = root / "public"
    first = build_site(root)
    assert first.search_index == "built"
    entry = out / "pagefind/pagefind-entry.json"
    os.utime(entry, (1_000_000, 1_000_000))
    second = build_site(root)
    assert second.search_index == "reused" and entry.stat().st_mtime == 1_000_000  # same bytes, file kept
    assert second.report.written == 0
    # A new draft changes no published page: the index is reused.
    (root / "content/rilis/c.md").write_text(release(title="Rahasia", body="RAHASIADRAF", draft="true"))
    assert build_site(root).search_index == "reused"
    # An edited body is re-indexed, and the new word is in the index, the old one gone.
    (root / "content/rilis/b.md").write_text(release(title="Rilis Dua", date="2025-05-16 10:00", body="Pasar terapung dibuka."))
    third = build_site(root)
    assert third.search_index == "built"
    index = unpacked_index(out)
    assert b"terapung" in index and b"rakyat" not in index and b"RAHASIADRAF" not in index


def test_index_bytes_in_a_fresh_folder(make_site, tmp_path):
    files = {"content/rilis/a.md": release(title="Rilis Satu", tags="[jembatan, desa]", body="Jembatan gantung diresmikan.")}
    a = build_site(make_site(files, tmp_path / "a"))
    b = build_site(make_site(files, tmp_path / "b"))
    assert a.search_index == b.search_index == "built"  # two cold caches: two real Pagefind runs
    tree_a, tree_b = read_tree(tmp_path / "a/public"), read_tree(tmp_path / "b/public")
    # Pagefind writes its filter tables in hash-map order, which changes from run to run; those
    # files (and the two that name them by hash) differ, everything else is the same byte for byte.
    # A rebuild with the same published pages reuses the cached index, so it changes nothing.
    varying = re.compile(r"pagefind/(filter/.*|pagefind\.[^/]*\.pf_meta|pagefind-entry\.json)$")
    assert set(tree_a) - {r for r in tree_a if varying.match(r)} == set(tree_b) - {r for r in tree_b if varying.match(r)}
    assert {r: d for r, d in tree_a.items() if not varying.match(r)} == {r: d for r, d in tree_b.items() if not varying.match(r)}
    assert any(r.startswith("pagefind/fragment/") for r in tree_a) and any(r.startswith("pagefind/index/") for r in tree_a)
    again = build_site(tmp_path / "a", output=tmp_path / "a2")
    assert again.search_index == "reused" and read_tree(tmp_path / "a2") == tree_a


# -- in the browser ----------------------------------------------------------------------------------------


def test_header_box_finds_a_release_by_a_word_of_its_body(page, site_url):
    page.goto(site_url)
    page.fill("header input[name=q]", "narasumber")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/cari/?q=narasumber")
    wait_done(page)
    urls = result_urls(page)
    assert urls[0] == "/rilis/2023/02/pelatihan-literasi-digital-perangkat-desa-2023/"
    first = page.query_selector(".search-result")
    text = first.inner_text()
    assert "2023" in text  # the date
    assert first.query_selector(".search-summary").inner_text().strip()
    assert [m.inner_text().lower() for m in first.query_selector_all(".search-excerpt mark")] == ["narasumber"]
    assert page.input_value("#cari-q") == "narasumber"
    assert csp_problems(page) == []


def test_filter_by_tag_and_sort_newest_first(page, site_url, sample):
    everything = search(page, site_url, "desa")
    assert len(everything) >= 3
    page.select_option("#cari-tag", "InternetDesa")
    page.wait_for_url("**tag=InternetDesa**")
    wait_done(page)
    tagged = result_urls(page)
    assert tagged and len(tagged) < len(everything)
    for url in tagged:
        html = (sample / url.strip("/") / "index.html").read_text()
        assert 'data-value="InternetDesa"' in html, url
    # Newest first: the release URLs carry year and month.
    page.select_option("#cari-urut", "baru")
    wait_done(page)
    newest = result_urls(page)
    assert sorted(newest) == sorted(tagged)
    stamps = [re.search(r"/(\d{4})/(\d{2})/", u).groups() for u in newest]
    assert stamps == sorted(stamps, reverse=True)
    # Year filter, from the address alone (a shared link).
    years = search(page, site_url, "desa", tahun="2023")
    assert years and all("/2023/" in u for u in years)


def test_indonesian_stemming_joins_word_forms(page, site_url, sample):
    # "membangun" is not written anywhere in the sample site; "pembangunan" and "dibangun" are.
    assert not [rel for rel, data in read_tree(sample).items() if rel.endswith(".html") and b"membangun" in data.lower()]
    built = search(page, site_url, "pembangunan")
    assert built
    # Pagefind's Indonesian stemmer reduces all three to "bangun": they find the same releases.
    assert search(page, site_url, "membangun") == built
    assert search(page, site_url, "dibangun") == built


def test_hidden_markers_are_found_by_no_query(page, site_url):
    for marker in MARKERS + [m.lower() for m in MARKERS] + ["rahasia"]:
        assert search(page, site_url, marker) == [], marker
        assert "Tidak ada hasil" in page.inner_text(".search-status")
    # And straight through Pagefind's API, with no filter or theme in between.
    found = page.evaluate("""async (words) => {
        const pf = await import('/pagefind/pagefind.js');
        const out = [];
        for (const w of words) out.push((await pf.search(w)).results.length);
        return out;
    }""", MARKERS + ["posyandu"])
    assert found[:-1] == [0, 0] and found[-1] > 0


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_search_page_has_no_axe_violation(browser, site_url, width):
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    try:
        page.goto(site_url + "cari/?q=banjir")
        wait_done(page)
        assert result_urls(page)
        violations = axe_violations(page)
        assert violations == [], format_violations(violations)
        # The header box fits a phone: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
    finally:
        context.close()


def test_without_javascript_the_page_says_so_and_links_to_archives(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(site_url + "cari/?q=banjir")
        text = page.inner_text("main")
        assert "memerlukan JavaScript" in text
        links = [a.get_attribute("href") for a in page.query_selector_all("main .search-nojs a")]
        assert "/arsip/2023/" in links and "/arsip/2025/" in links and "/tag/" in links
        # The header box still works as a plain link to the search page.
        page.goto(site_url)
        page.fill("header input[name=q]", "banjir")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url("**/cari/?q=banjir")
    finally:
        context.close()


def test_search_works_under_a_sub_path(browser, tmp_path_factory):
    root = tmp_path_factory.mktemp("cari-sub")
    copy_sample(root)
    result = run_cli("build", "--source", str(root), "--now", NOW, "--base-url", "https://contoh.github.io/siaran-pers/")
    assert result.returncode == 0, result.stderr
    context = browser.new_context()
    page = context.new_page()
    try:
        with serve(root / "public", "/siaran-pers/") as base:
            page.goto(base)
            page.fill("header input[name=q]", "narasumber")
            page.press("header input[name=q]", "Enter")
            page.wait_for_url("**/siaran-pers/cari/?q=narasumber")
            wait_done(page)
            assert result_urls(page)[0] == "/siaran-pers/rilis/2023/02/pelatihan-literasi-digital-perangkat-desa-2023/"
    finally:
        context.close()


def test_a_static_file_under_pagefind_is_an_error(make_site):
    root = make_site({"content/rilis/a.md": release(), "static/pagefind/pagefind.js": "// lama"})
    result = build_site(root)
    assert not result.ok and not (root / "public").exists()
    assert any("search index" in d.message and d.path.endswith("static/pagefind/pagefind.js") for d in result.errors), result.diagnostics

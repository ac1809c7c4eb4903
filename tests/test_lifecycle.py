"""A release's life: renamed (aliases), withdrawn, corrected; static/ files; capped feeds."""

import json
import re

import feedparser
import pytest

from conftest import build_site, read_tree, release, run_cli
from httpcrawl import fetch, page_links, serve

BASE = "https://pers.example.go.id/"


def lifecycle_files():
    return {
        "kabargen.yaml": "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nsearch: false\n",
        # Renamed: published under an older slug, then renamed; both old URLs must keep working.
        "content/rilis/pasar-baru.md": release(
            title="Pasar Rakyat Lembah Permai Dibuka Kembali", date="2025-05-10 09:00", tags="[pasar, anggaran]",
            slug="pasar-rakyat-dibuka-kembali", aliases="[/berita/2025/05/pasar-dibuka/, /lama/pasar.html]",
            byline="[{name: Ani Lestari}]",
        ),
        # Withdrawn: the only release of its writer, sharing #anggaran with the one above.
        "content/rilis/anggaran.md": release(
            title="Anggaran Perbaikan Jalan Desa Tahun 2025", date="2025-05-12 09:00", tags="[anggaran]",
            withdrawn="{date: 2025-05-20 09:00, reason: Angka anggaran keliru; diganti rilis berikutnya}",
            byline="[{name: Dewi Ditarik}]", body="PENANDAANGGARAN isi rilis yang ditarik.",
        ),
        # Corrected twice.
        "content/rilis/posyandu.md": release(
            title="Posyandu Digital Diluncurkan", date="2025-05-14 10:00", tags="[kesehatan]",
            updated="[{date: 2025-05-15 08:00, note: Jumlah kader diperbaiki}, {date: 2025-05-16 13:45, note: Nama desa dilengkapi}]",
            byline="[{name: Ani Lestari}]",
        ),
        "content/rilis/jalan.md": release(title="Jalan Desa Rampung", date="2025-05-16 09:00", tags="[anggaran]", byline="[{name: Budi}]"),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("lifecycle")
    for rel, text in lifecycle_files().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    result = run_cli("build", "--redirects", "netlify", "--redirects", "nginx", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def text(root, rel):
    return (root / "public" / rel).read_text(encoding="utf-8")


def jsonld(page):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))


# -- renamed releases -------------------------------------------------------------------------

NEW = "rilis/2025/05/pasar-rakyat-dibuka-kembali/"


@pytest.mark.parametrize("old", ["berita/2025/05/pasar-dibuka/index.html", "lama/pasar.html"])
def test_old_url_is_a_redirect_page(built, old):
    page = text(built, old)
    assert '<meta http-equiv="refresh" content="0; url=/rilis/2025/05/pasar-rakyat-dibuka-kembali/">' in page
    assert f'<link rel="canonical" href="{BASE}{NEW}">' in page
    assert '<meta name="robots" content="noindex">' in page
    # A visible link for browsers that do not follow the refresh, in a whole sentence.
    assert ('<p>Rilis ini sekarang ada di <a href="/rilis/2025/05/pasar-rakyat-dibuka-kembali/">'
            "Pasar Rakyat Lembah Permai Dibuka Kembali</a>.</p>") in page


def test_new_url_is_canonical_and_old_urls_stay_out_of_the_sitemap(built):
    page = text(built, NEW + "index.html")
    assert f'<link rel="canonical" href="{BASE}{NEW}">' in page
    assert jsonld(page)["url"] == BASE + NEW
    sitemap = text(built, "sitemap.xml")
    assert f"<loc>{BASE}{NEW}</loc>" in sitemap
    assert "berita/" not in sitemap and "lama/" not in sitemap


def test_old_urls_resolve_over_http(built):
    with serve(built / "public", "/") as local:
        for old in ["berita/2025/05/pasar-dibuka/", "lama/pasar.html"]:
            status, body, _ = fetch(local + old)
            assert status == 200
            # The refresh, the visible link and the canonical all lead to the new URL, which answers.
            targets = page_links(body.decode())
            assert len(targets) == 3 and all(t in {"/" + NEW, BASE + NEW} for t in targets), targets
            assert fetch(local + NEW)[0] == 200


def test_netlify_redirects_file(built):
    assert text(built, "_redirects").splitlines()[1:] == [
        "/berita/2025/05/pasar-dibuka/ /rilis/2025/05/pasar-rakyat-dibuka-kembali/ 301!",
        "/lama/pasar.html /rilis/2025/05/pasar-rakyat-dibuka-kembali/ 301!",
    ]


def test_nginx_map_is_written_beside_the_output_never_inside(built):
    conf = (built / "redirects.nginx.conf").read_text()
    assert "redirects.nginx.conf" not in read_tree(built / "public")
    entries = dict(re.findall(r'^\s+"([^"]+)" "([^"]+)";$', conf, re.M))
    target = "/" + NEW
    assert entries == {
        "/berita/2025/05/pasar-dibuka/": target,
        "/berita/2025/05/pasar-dibuka": target,
        "/berita/2025/05/pasar-dibuka/index.html": target,
        "/lama/pasar.html": target,
    }
    assert "map $uri $kabargen_redirect {" in conf and 'default "";' in conf


def test_redirect_files_under_a_sub_path_and_with_odd_characters(make_site):
    root = make_site({
        "content/a.md": release(title="A", aliases='["/berita/ruang kota/", "/berita/\\"kutip\\"$x/"]'),
    })
    result = run_cli("build", "--base-url", "https://u.github.io/siaran-pers/", "--redirects", "netlify", "--redirects", "nginx", cwd=root)
    assert result.returncode == 0, result.stderr
    netlify = (root / "public/_redirects").read_text().splitlines()
    assert "/siaran-pers/berita/ruang%20kota/ /siaran-pers/rilis/2025/05/a/ 301!" in netlify
    assert "/siaran-pers/berita/%22kutip%22$x/ /siaran-pers/rilis/2025/05/a/ 301!" in netlify
    nginx = (root / "redirects.nginx.conf").read_text()
    assert '"/siaran-pers/berita/ruang kota/" "/siaran-pers/rilis/2025/05/a/";' in nginx
    assert '"/siaran-pers/berita/\\"kutip\\"\\$x/" "/siaran-pers/rilis/2025/05/a/";' in nginx


def test_without_the_flag_no_redirect_files(make_site):
    root = make_site({"content/a.md": release(title="A", aliases="[/lama/a/]")})
    build_site(root)
    assert not (root / "public/_redirects").exists() and not (root / "redirects.nginx.conf").exists()
    assert (root / "public/lama/a/index.html").is_file()


# -- alias collisions -------------------------------------------------------------------------


def errors_of(root, *args):
    result = run_cli("check", *args, cwd=root)
    assert result.returncode == 1, result.stderr
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def test_alias_colliding_with_a_real_page_names_both_files(make_site):
    root = make_site({
        "content/rilis/a.md": release(title="A", date="2025-05-01 10:00"),
        "content/rilis/b.md": release(title="B", aliases="[/rilis/2025/05/a/]"),
    })
    assert errors_of(root) == ["content/rilis/b.md:4: error: alias /rilis/2025/05/a/ is the URL of content/rilis/a.md"]


def test_aliases_colliding_with_each_other_name_both_files(make_site):
    root = make_site({
        "content/rilis/a.md": release(title="A", aliases="[/lama/berita/]"),
        "content/rilis/b.md": release(title="B", aliases="[/Lama/Berita]"),
    })
    assert errors_of(root) == ["content/rilis/b.md:4: error: alias /Lama/Berita is also an alias in content/rilis/a.md"]


def test_alias_on_a_page_kabargen_generates(make_site):
    root = make_site({
        "content/rilis/a.md": release(title="A", tags="[pasar]", aliases="[/tag/pasar/]"),
        "content/rilis/b.md": release(title="B", aliases="[/feed.xml]"),
    })
    lines = errors_of(root)
    assert "content/rilis/a.md:5: error: alias /tag/pasar/ is used by kabargen for tag 'pasar'" in lines
    assert "content/rilis/b.md:4: error: alias /feed.xml is used by kabargen for the Atom feed" in lines
    assert len(lines) == 2


def test_alias_on_a_static_or_content_file(make_site):
    root = make_site({
        "content/rilis/a.md": release(title="A", aliases="[/CNAME, /media/foto.jpg]"),
        "content/media/foto.jpg": b"jpeg",
        "static/CNAME": "pers.example.go.id\n",
    })
    lines = errors_of(root)
    # An alias without a file extension is a folder (/CNAME/index.html): it cannot sit where a file is.
    assert "content/rilis/a.md: error: the alias /CNAME/ in content/rilis/a.md clashes with static/CNAME: /CNAME would have to be a file and a folder at once; rename or remove one of them" in lines
    assert "content/rilis/a.md: error: the alias /media/foto.jpg in content/rilis/a.md clashes with content/media/foto.jpg: both would be published at /media/foto.jpg; rename or remove one of them" in lines
    assert len(lines) == 2


# -- withdrawn releases -----------------------------------------------------------------------

WITHDRAWN = "rilis/2025/05/anggaran/"
NOTICE = "Rilis ini ditarik pada Selasa, 20 Mei 2025 09.00 WITA: Angka anggaran keliru; diganti rilis berikutnya"


def test_withdrawn_page_stays_online_with_the_notice_at_the_top(built):
    page = text(built, WITHDRAWN + "index.html")
    article = page.split('<article class="release', 1)[1]
    assert article.index('class="notice notice-withdrawn"') < article.index(NOTICE) < article.index("<h1>")
    assert "PENANDAANGGARAN" in page  # the text stays readable
    assert 'content="noindex"' not in page


def test_withdrawn_is_marked_in_json_ld(built):
    data = jsonld(text(built, WITHDRAWN + "index.html"))
    assert data["creativeWorkStatus"] == "Withdrawn"
    assert data["datePublished"] == "2025-05-12T09:00:00+08:00"
    assert data["dateModified"] == "2025-05-20T09:00:00+08:00"


def test_withdrawn_is_out_of_every_list_and_the_sitemap(built):
    out = built / "public"
    for rel in ["index.html", "tag/anggaran/index.html", "penulis/index.html", "arsip/2025/index.html",
                "sitemap.xml", "404.html", "rilis/2025/05/pasar-rakyat-dibuka-kembali/index.html",
                "rilis/2025/05/posyandu/index.html", "rilis/2025/05/jalan/index.html"]:
        assert WITHDRAWN not in text(built, rel), rel
    # Its writer wrote nothing else: no person page for a release that is no longer listed.
    assert not (out / "penulis/dewi-ditarik").exists()
    pages_linking = [rel for rel, data in read_tree(out).items() if rel.endswith(".html") and WITHDRAWN.encode() in data]
    assert pages_linking == [WITHDRAWN + "index.html"]


@pytest.mark.parametrize("feed", ["feed.xml", "tag/anggaran/feed.xml"])
def test_withdrawn_stays_in_feeds_as_an_updated_entry(built, feed):
    parsed = feedparser.parse((built / "public" / feed).read_bytes())
    assert not parsed.bozo
    entry = next(e for e in parsed.entries if e.link == BASE + WITHDRAWN)
    assert entry.title == "[Ditarik] Anggaran Perbaikan Jalan Desa Tahun 2025"
    assert entry.summary == NOTICE
    assert entry.published.startswith("2025-05-12T09:00") and entry.updated.startswith("2025-05-20T09:00")
    assert NOTICE in entry.content[0].value
    # Updated last, so readers see it first.
    assert parsed.entries[0].link == BASE + WITHDRAWN


# -- corrections ------------------------------------------------------------------------------


def test_corrections_bump_date_modified_and_show_the_log(built):
    page = text(built, "rilis/2025/05/posyandu/index.html")
    data = jsonld(page)
    assert data["datePublished"] == "2025-05-14T10:00:00+08:00"
    assert data["dateModified"] == "2025-05-16T13:45:00+08:00"
    assert "Terakhir diperbarui 16 Mei 2025 13.45 WITA" in page
    log = page.split('<section class="corrections"', 1)[1].split("</section>", 1)[0]
    assert "Riwayat perbaikan" in log
    assert [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", log)] == [
        "Diperbarui 15 Mei 2025 08.00 WITA: Jumlah kader diperbaiki",
        "Diperbarui 16 Mei 2025 13.45 WITA: Nama desa dilengkapi",
    ]
    assert f"<loc>{BASE}rilis/2025/05/posyandu/</loc><lastmod>2025-05-16T13:45:00+08:00</lastmod>" in text(built, "sitemap.xml")


def test_corrected_feed_entry_is_updated(built):
    parsed = feedparser.parse((built / "public/feed.xml").read_bytes())
    entry = next(e for e in parsed.entries if e.link.endswith("/posyandu/"))
    assert entry.published.startswith("2025-05-14T10:00") and entry.updated.startswith("2025-05-16T13:45")
    untouched = next(e for e in parsed.entries if e.link.endswith("/jalan/"))
    assert untouched.updated == untouched.published


def test_a_withdrawal_after_corrections_is_the_last_modification(make_site):
    root = make_site({"content/a.md": release(
        title="A", updated="[{date: 2025-05-16 08:00, note: Ralat}]", withdrawn="{date: 2025-06-01 08:00, reason: Dibatalkan}")})
    build_site(root)
    assert jsonld((root / "public/rilis/2025/05/a/index.html").read_text())["dateModified"] == "2025-06-01T08:00:00+08:00"


# -- static/ ----------------------------------------------------------------------------------

STATIC = {
    "static/CNAME": "pers.example.go.id\n",
    "static/.nojekyll": "",
    "static/favicon.ico": b"\x00\x00\x01\x00ikon",
    "static/google1234abcd.html": "google-site-verification: google1234abcd.html\n",
    "static/.well-known/security.txt": "Contact: mailto:csirt@example.go.id\n",
    "static/CNAME~": "sisa editor\n",
}


def test_static_files_copied_verbatim_and_survive_three_rebuilds(make_site):
    root = make_site({"content/a.md": release(title="A"), **STATIC})
    out = root / "public"
    for _ in range(3):
        result = run_cli("build", cwd=root)
        assert result.returncode == 0, result.stderr
        tree = read_tree(out)
        for rel, data in STATIC.items():
            name = rel[len("static/"):]
            if name.endswith("~"):
                assert name not in tree  # editor leftovers are never published
            else:
                assert tree[name] == (data.encode() if isinstance(data, str) else data), name
    # Unchanged between builds: the same file (mtime and all), not a fresh copy.
    assert "0 written" in result.stdout


def test_static_clash_with_generated_pages_is_an_error_and_nothing_is_written(make_site):
    root = make_site({
        "content/a.md": release(title="A", tags="[pasar]"),
        "static/index.html": "<p>beranda lama</p>",
        "static/feed.xml": "<feed/>",
        "static/tag/index.html": "x",
        "static/tag/pasar/feed.xml": "x",
        "static/sitemap.xml": "x",
        "static/404.html": "x",
        "static/robots.txt": "x",
        "static/CNAME": "pers.example.go.id\n",
    })
    out = root / "public"
    out.mkdir()
    (out / "index.html").write_text("situs lama")
    result = run_cli("build", cwd=root)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    expected = {
        "static/index.html": "the home page", "static/feed.xml": "the Atom feed", "static/tag/index.html": "the tag index",
        "static/tag/pasar/feed.xml": "the feed of tag #pasar", "static/sitemap.xml": "the sitemap",
        "static/404.html": "the not-found page", "static/robots.txt": "robots.txt",
    }
    for path, what in expected.items():
        assert f"{path}: error: {path} clashes with {what} that kabargen generates" in "\n".join(lines), (path, result.stderr)
    assert len(lines) == len(expected)
    assert read_tree(out) == {"index.html": b"situs lama"}


def test_static_clash_with_a_theme_asset_or_a_folder(make_site):
    root = make_site({"content/a.md": release(title="A")})
    build_site(root)
    css = next(p.name for p in (root / "public/assets").iterdir() if p.name.startswith("style."))
    (root / "static/assets").mkdir(parents=True)
    (root / f"static/assets/{css}").write_text("body{}")
    (root / "static/feed.xml").mkdir()
    (root / "static/feed.xml/catatan.txt").write_text("x")
    lines = errors_of(root)
    assert any(line.startswith(f"static/assets/{css}: error: static/assets/{css} clashes with the theme file ") for line in lines), lines
    assert any(line.startswith("static/feed.xml/catatan.txt: error:") and "a file and a folder at once" in line for line in lines), lines


def test_static_clash_with_content_files(make_site):
    root = make_site({"content/a.md": release(title="A"), "content/media/logo.png": b"png", "static/media/logo.png": b"lain"})
    assert errors_of(root) == ["static/media/logo.png: error: static/media/logo.png clashes with content/media/logo.png: both would be published at /media/logo.png"]


# -- feed_limit -------------------------------------------------------------------------------


def test_feed_limit_caps_each_feed_newest_first(make_site):
    files = {"kabargen.yaml": "title: Uji\nbase_url: https://pers.example.go.id/\nfeed_limit: 5\n"}
    for day in range(1, 9):
        files[f"content/r{day}.md"] = release(title=f"Rilis {day}", date=f"2025-05-{day:02d} 09:00", tags="[umum]")
    root = make_site(files)
    build_site(root)
    for feed in ["feed.xml", "tag/umum/feed.xml"]:
        parsed = feedparser.parse((root / "public" / feed).read_bytes())
        assert [e.title for e in parsed.entries] == ["Rilis 8", "Rilis 7", "Rilis 6", "Rilis 5", "Rilis 4"], feed
    # Lists are not capped by it.
    assert (root / "public/index.html").read_text().count('<article class="card">') == 8


def test_feed_limit_defaults_to_twenty(make_site):
    files = {f"content/r{n}.md": release(title=f"Rilis {n}", date=f"2025-04-{n:02d} 09:00") for n in range(1, 23)}
    root = make_site(files)
    build_site(root)
    parsed = feedparser.parse((root / "public/feed.xml").read_bytes())
    assert len(parsed.entries) == 20
    assert parsed.entries[0].title == "Rilis 22" and parsed.entries[-1].title == "Rilis 3"


def test_static_redirects_file_clashes_with_the_generated_one(make_site):
    root = make_site({"content/a.md": release(title="A", aliases="[/lama/a/]"), "static/_redirects": "/x /y 301\n"})
    assert build_site(root).ok  # without the flag, the office's own file is published as it is
    assert (root / "public/_redirects").read_text() == "/x /y 301\n"
    result = run_cli("build", "--redirects", "netlify", cwd=root)
    assert result.returncode == 1
    assert "static/_redirects: error: static/_redirects clashes with the redirects file that --redirects netlify writes" in result.stderr
    assert (root / "public/_redirects").read_text() == "/x /y 301\n"


def test_nginx_map_not_written_when_the_build_fails(make_site):
    root = make_site({"content/a.md": release(title="A", aliases="[/lama/a/]"), "content/b.md": release(title="B", date="2025-02-30")})
    result = run_cli("build", "--redirects", "nginx", cwd=root)
    assert result.returncode == 1
    assert not (root / "redirects.nginx.conf").exists() and not (root / "public").exists()
    (root / "content/b.md").unlink()
    result = run_cli("build", "--redirects", "nginx", cwd=root)
    assert f"Wrote {root / 'redirects.nginx.conf'}" in result.stdout
    before = (root / "redirects.nginx.conf").stat().st_mtime_ns
    run_cli("build", "--redirects", "nginx", cwd=root)
    assert (root / "redirects.nginx.conf").stat().st_mtime_ns == before  # unchanged: not rewritten

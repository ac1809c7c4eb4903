"""kabargen import wordpress / feed: WXR and RSS into releases that build, and old URLs that still lead home."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from PIL import Image

from conftest import build_site, run_cli
from httpcrawl import fetch, page_links, serve
from kabargen.importers.wordpress import html_to_markdown
from kabargen.sources import read_source

FIXTURES = Path(__file__).parent / "fixtures"
WXR = FIXTURES / "import_wordpress" / "ekspor.xml"
RSS = FIXTURES / "import_feed" / "rilis.rss"
CONFIG = "title: Siaran Pers Tepian Jaya\nbase_url: https://pers.example.go.id/\ntimezone: Asia/Makassar\n"
POST = "content/rilis/2025/04/petani-panen-raya-padi-organik.md"
DRAFT = "content/rilis/2025/04/jadwal-pasar-murah-ramadan-di-tujuh-kecamatan.md"
PAGE = "content/halaman/profil-dinas.md"


def meta_body(path: Path):
    source, problems = read_source(path, path.name)
    assert not problems, problems
    return source.meta, source.body


@pytest.fixture
def imported(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("import", "wordpress", str(WXR), cwd=root)
    assert done.returncode == 0, done.stderr
    return root, done


def test_posts_pages_drafts_tags_and_authors(imported):
    root, done = imported
    post, body = meta_body(root / POST)
    assert post["title"] == "Petani Tepian Jaya Panen Raya Padi Organik di Lahan 120 Hektare"
    assert post["date"] == "2025-04-15 10:30"  # post_date_gmt 02:30 in WITA
    assert post["byline"] == [{"name": "Sekar Ayuningtyas", "credit": ["penulis"]}]  # display name, not the login
    assert post["tags"] == ["Pertanian", "padi organik", "tepianjaya"]
    assert post["aliases"] == ["/2025/04/petani-panen-raya-padi-organik/"]
    assert "draft" not in post

    draft, draft_body = meta_body(root / DRAFT)
    assert draft["draft"] == "true" and draft["byline"][0]["name"] == "Bagas Mahendra"
    assert draft["date"] == "2025-04-20 08:00"  # no GMT date for a draft: post_date in the site zone
    assert "tags" not in draft  # "Uncategorized" is not a tag
    # wpautop-style content: blank lines were the paragraphs.
    assert draft_body.strip().split("\n\n") == [
        "Dinas Perdagangan menyiapkan pasar murah di tujuh kecamatan selama bulan Ramadan.",
        "Harga beras dan minyak goreng dijual di bawah harga pasar.",
    ]

    page, page_body = meta_body(root / PAGE)
    assert page["layout"] == "page" and "aliases" not in page  # /profil-dinas/ is its new URL too
    assert page_body.startswith("## Tugas Pokok")

    # Block comments gone, [caption] became an image with its caption, list and quote kept.
    assert "wp:" not in body and "[caption" not in body
    assert "![Bupati Tepian Jaya ikut memanen padi bersama warga](https://lama.tepianjaya.example.go.id/wp-content/uploads/2025/04/panen-padi.jpg)" in body
    assert "*Bupati Tepian Jaya ikut memanen padi bersama warga*" in body
    assert "\n- Luas lahan: 120 hektare\n" in body and "\n> \"Hasil panen" in body
    assert "**terbesar**" in body

    # The report: attachments listed, ?p=ID forms explained, per-item notes with their lines.
    assert "attachment https://lama.tepianjaya.example.go.id/wp-content/uploads/2025/04/panen-padi.jpg: not downloaded" in done.stdout
    assert re.search(r"ekspor\.xml:\d+: note: post 101: old URL https://lama\.tepianjaya\.example\.go\.id/\?p=101 has a query string", done.stderr)
    assert re.search(r"ekspor\.xml:\d+: note: post 102: status 'draft': imported as a draft", done.stderr)


def test_imported_site_builds_with_bylines_and_tags_and_keeps_the_draft_hidden(imported):
    root, _ = imported
    result = build_site(root)
    assert result.ok, [d.format() for d in result.errors]
    page = (root / "public/rilis/2025/04/petani-panen-raya-padi-organik/index.html").read_text(encoding="utf-8")
    assert "Sekar Ayuningtyas" in page and 'href="/tag/padi-organik/"' in page
    assert not (root / "public/rilis/2025/04/jadwal-pasar-murah-ramadan-di-tujuh-kecamatan").exists()
    assert (root / "public/profil-dinas/index.html").is_file()


def test_old_wordpress_urls_lead_to_the_new_pages_over_http(imported):
    root, _ = imported
    assert build_site(root).ok
    old_paths = []
    for md in (root / "content").rglob("*.md"):
        meta, _ = meta_body(md)
        if meta.get("draft") != "true":
            old_paths += [(a, md) for a in meta.get("aliases") or []]
    assert old_paths
    with serve(root / "public") as base:
        for old, md in old_paths:
            here = urljoin(base, old.lstrip("/"))
            status, body, ctype = fetch(here)
            assert status == 200 and "html" in ctype, old
            html = body.decode("utf-8")
            refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', html)
            assert refresh, f"{old} is not a redirect page"

            def local(url):
                return urljoin(here, url.replace("https://pers.example.go.id/", base))

            target = local(refresh.group(1))
            assert target in [local(link) for link in page_links(html)]  # a visible link too, for readers without refresh
            status, new_body, _ = fetch(target)
            assert status == 200
            title = meta_body(md)[0]["title"]
            assert f"<h1>{title}</h1>" in new_body.decode("utf-8") or title in new_body.decode("utf-8").split("<title>", 1)[1]


def test_a_wxr_with_entities_is_refused(make_site, tmp_path):
    root = make_site({"kabargen.yaml": CONFIG})
    bomb = tmp_path / "bom.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        '<rss><channel><wp:wxr_version xmlns:wp="http://wordpress.org/export/1.2/">1.2</wp:wxr_version><item><title>&b;</title></item></channel></rss>\n',
        encoding="utf-8",
    )
    done = run_cli("import", "wordpress", str(bomb), cwd=root)
    assert done.returncode == 2 and "DTD" in done.stderr
    assert not (root / "content").exists()
    other = tmp_path / "bukan.xml"
    other.write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    done = run_cli("import", "wordpress", str(other), cwd=root)
    assert done.returncode == 2 and "not a WordPress export" in done.stderr


def test_importing_twice_never_overwrites(imported):
    root, _ = imported
    before = (root / POST).read_bytes()
    again = run_cli("import", "wordpress", str(WXR), cwd=root)
    assert again.returncode == 0, again.stderr
    assert (root / POST).read_bytes() == before
    assert (root / POST.replace(".md", "-2.md")).is_file()


def test_feed_import_then_build(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("import", "feed", str(RSS), cwd=root)
    assert done.returncode == 0, done.stderr
    meta, body = meta_body(root / "content/rilis/2025/05/posyandu-remaja-lima-desa.md")
    assert meta["date"] == "2025-05-07 09:15" and meta["byline"][0]["name"] == "Wulan Kusumawardani"
    assert meta["tags"] == ["kesehatan", "tepianjaya"] and meta["aliases"] == ["/berita/posyandu-remaja-lima-desa/"]
    assert "pemeriksaan *kesehatan*" in body
    assert "only a summary" in done.stderr  # the second entry has no full text
    result = build_site(root)
    assert result.ok, [d.format() for d in result.errors]
    page = (root / "public/rilis/2025/05/lomba-perahu-naga/index.html").read_text(encoding="utf-8")
    assert "Yoga Pratama" in page and 'href="/tag/budaya/"' in page
    assert (root / "public/berita/lomba-perahu-naga/index.html").is_file()


def test_feed_without_authors_needs_a_default_byline(make_site, tmp_path):
    feed = tmp_path / "umpan.xml"
    feed.write_text(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        '<entry><title>Rilis Tanpa Penulis</title><updated>2025-03-03T02:00:00Z</updated><id>urn:x:1</id>'
        '<content type="html">&lt;p&gt;Isi.&lt;/p&gt;</content></entry></feed>',
        encoding="utf-8",
    )
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("import", "feed", str(feed), cwd=root)
    assert done.returncode == 1 and "no author" in done.stderr
    with_default = make_site({"kabargen.yaml": CONFIG + "defaults:\n  byline: [{name: Petugas Humas}]\n"}, root=tmp_path / "b")
    done = run_cli("import", "feed", str(feed), cwd=with_default)
    assert done.returncode == 0, done.stderr
    meta, _ = meta_body(with_default / "content/rilis/2025/03/rilis-tanpa-penulis.md")
    assert meta["byline"] == [{"name": "Petugas Humas"}]


@pytest.mark.parametrize(
    "html, markdown",
    [
        ("<p>Satu <em>dua</em></p><script>alert(1)</script>", "Satu *dua*\n"),
        ("Baris satu\nbaris dua\n\nParagraf baru", "Baris satu  \nbaris dua\n\nParagraf baru\n"),
        ('[caption caption="Ruang rapat"]<img src="r.jpg" />[/caption]', '![Ruang rapat](r.jpg)\n\n*Ruang rapat*\n'),
        ("<p>Video:</p>[embed]https://video.example.go.id/v/1[/embed]", "Video:\n\n<https://video.example.go.id/v/1>\n"),
    ],
)
def test_html_to_markdown(html, markdown):
    assert html_to_markdown(html)[0] == markdown


def test_unsafe_links_and_frames_are_dropped_with_warnings_and_table_pipes_escaped():
    text, warnings = html_to_markdown(
        '<p><a href="javascript:alert(1)">klik</a> <a href="https://ok.example.go.id/">ini</a></p>'
        '<iframe src="https://video.example.org/v"></iframe>'
        "<table><tr><th>Hari</th><th>Acara</th></tr><tr><td>Senin</td><td>Rapat | pleno</td></tr></table>"
    )
    assert "javascript" not in text and "klik [ini](https://ok.example.go.id/)" in text
    assert "<https://video.example.org/v>" in text and "<iframe" not in text
    assert "| Senin | Rapat \\| pleno |" in text
    assert len(warnings) == 2 and "javascript: link removed" in warnings[0] and "frame" in warnings[1]


def test_gallery_shortcodes_are_removed_with_a_warning():
    text, warnings = html_to_markdown('<p>Foto kegiatan:</p>[gallery ids="4,5,6"]')
    assert text == "Foto kegiatan:\n" and warnings == ["WordPress shortcode [gallery] removed: add its content by hand if it mattered"]


def test_fetch_media_downloads_over_http_and_rewrites_the_links(make_site, tmp_path):
    """--fetch-media against a real HTTP server on 127.0.0.1 (the only network a test may use)."""
    host = tmp_path / "lama"
    (host / "wp-content/uploads/2025/04").mkdir(parents=True)
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 60)).save(photo, "JPEG")  # a real photo: the build resizes it
    jpeg = photo.getvalue()
    (host / "wp-content/uploads/2025/04/panen-padi.jpg").write_bytes(jpeg)
    root = make_site({"kabargen.yaml": CONFIG})
    with serve(host) as base:
        wxr = tmp_path / "ekspor.xml"
        text = WXR.read_text(encoding="utf-8").replace("https://lama.tepianjaya.example.go.id/wp-content/", base + "wp-content/")
        # A second attachment with a scheme that must never be fetched.
        text = text.replace("</channel>", "<item><title>x</title><wp:post_id>900</wp:post_id><wp:post_type>attachment</wp:post_type>"
                            "<wp:attachment_url>file:///etc/hostname</wp:attachment_url></item></channel>")
        wxr.write_text(text, encoding="utf-8")
        done = run_cli("import", "wordpress", str(wxr), "--fetch-media", cwd=root)
    assert done.returncode == 0, done.stderr
    saved = root / "content/media/wp/panen-padi.jpg"
    assert saved.read_bytes() == jpeg
    assert "attachment file:///etc/hostname: not downloaded: only http and https" in done.stdout
    _, body = meta_body(root / POST)
    assert "](/media/wp/panen-padi.jpg)" in body and base not in body
    result = build_site(root)
    assert result.ok, [d.format() for d in result.errors]
    # Shown as resized copies; the original itself is not published (docs/images.md).
    assert list((root / "public/media/_v").glob("panen-padi-*-640.webp"))
    assert not (root / "public/media/wp/panen-padi.jpg").exists()


def test_feed_from_an_http_url(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    with serve(RSS.parent) as base:
        done = run_cli("import", "feed", base + RSS.name, cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "content/rilis/2025/05/lomba-perahu-naga.md").is_file()
    refused = run_cli("import", "feed", "ftp://example.go.id/feed.xml", cwd=root)
    assert refused.returncode == 2

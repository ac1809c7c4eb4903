"""Drafts and embargoed releases leak into no output file: not by page, list, tag, person,
year, media file, feed, sitemap, related box, prev/next link, 404 page or aggregated date.

Every hidden thing carries the marker zx7qz (draft) or zx9zz (embargo) in its text, slug, tags,
people and file names; the whole output tree is searched for them, paths and bytes.
"""

import re
import xml.etree.ElementTree as ET

import feedparser
import pytest

from conftest import build_site, jpeg, read_tree, run_cli
from hostile import diagnostics, find_everywhere

NOW = "2025-06-01 00:00"
ATOM = "{http://www.w3.org/2005/Atom}"

SITE = {
    "kabargen.yaml": "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nper_page: 1\n",
    "content/media/bersama.jpg": jpeg(color=(20, 120, 20)),
    "content/media/umum.pdf": b"%PDF lampiran umum",
    "content/media/foto-draf-zx7qz.jpg": jpeg(color=(20, 20, 120)),
    "content/media/keputusan-draf-zx7qz.pdf": b"%PDF keputusan draf",
    "content/media/lampiran-tubuh-zx7qz.pdf": b"%PDF lampiran di tubuh draf",
    "content/media/sk-embargo-zx9zz.pdf": b"%PDF surat keputusan embargo",
    "content/rilis/a.md": """---
title: Rapat Koordinasi Terbuka
date: 2025-05-10 10:00
byline: [{name: Rina Penulis, role: Tenaga Ahli Peliputan}]
tags: [umum]
image: {src: media/bersama.jpg, alt: Peserta rapat}
---
Rapat koordinasi berlangsung terbuka.
""",
    "content/rilis/b.md": """---
title: Pelatihan Desa Digital
date: 2025-05-20 10:00
byline: [{name: Rina Penulis, role: Tenaga Ahli Peliputan}]
tags: [umum]
---
Pelatihan diikuti perangkat desa.
""",
    "content/rilis/2019/draf-zx7qz.md": """---
title: Judul Draf Rahasia ZX7QZ
slug: draf-rahasia-zx7qz
date: 2019-03-01 10:00
draft: true
location: Lokasi ZX7QZ
number: 001/ZX7QZ/2019
summary: Ringkasan ZX7QZ
byline:
  - {name: Rina Penulis, role: Jabatan Rahasia ZX7QZ}
  - {name: Penulis Khusus ZX7QZ, credit: [fotografer]}
editor: {name: Editor Khusus ZX7QZ}
tags: [umum, "#TagarDrafZX7QZ"]
image: {src: media/foto-draf-zx7qz.jpg, alt: Foto ZX7QZ}
attachments: [{title: Keputusan ZX7QZ, src: media/keputusan-draf-zx7qz.pdf}, {title: Foto bersama, src: media/bersama.jpg}]
aliases: [/lama/alias-zx7qz/]
related: [a, {title: Tautan Luar ZX7QZ, url: "https://example.go.id/zx7qz"}]
updated: [{date: 2019-03-02 10:00, note: Koreksi ZX7QZ}]
---
Isi memuat penanda ZX7QZ. Lampiran: [berkas](../../media/lampiran-tubuh-zx7qz.pdf). Lihat [[b]].
""",
    "content/rilis/embargo-zx9zz.md": """---
title: Judul Embargo ZX9ZZ
date: 2030-12-31 10:00
embargo: 2031-01-01T10:00:00+07:00
byline: [{name: Penulis Embargo ZX9ZZ}, {name: Rina Penulis, role: Jabatan Embargo ZX9ZZ}]
tags: [umum, tagar-embargo-zx9zz]
attachments: [{title: SK ZX9ZZ, src: media/sk-embargo-zx9zz.pdf}]
aliases: [/lama/alias-zx9zz/]
updated: [{date: 2031-02-01 10:00, note: Koreksi ZX9ZZ}]
---
Isi embargo memuat penanda ZX9ZZ. Lihat [[a]].
""",
    "content/halaman/draf-halaman-zx7qz.md": """---
title: Halaman Draf ZX7QZ
layout: page
draft: true
---
Halaman rahasia ZX7QZ.
""",
}


@pytest.fixture
def site(make_site):
    return make_site(SITE)


def test_hidden_releases_leave_no_trace_in_any_output_file(site):
    result = run_cli("build", "--source", str(site), "--now", NOW)
    assert result.returncode == 0, result.stderr
    out = site / "public"
    tree = read_tree(out)
    assert "rilis/2025/05/rapat-koordinasi-terbuka/index.html" not in tree  # slugs come from file names
    assert "rilis/2025/05/a/index.html" in tree and "rilis/2025/05/b/index.html" in tree
    for marker in ["zx7qz", "zx9zz", "arsip/2019", "arsip/2030", "2019-03", "2030-12", "2031-0"]:
        assert find_everywhere(out, marker) == [], marker
    # The search index is searched too (its fragments are gzip files): it holds what is published.
    assert any(p.startswith("pagefind/fragment/") for p in find_everywhere(out, "Rapat koordinasi berlangsung terbuka"))
    # The files only hidden releases use are not copied; shared and unreferenced ones are.
    assert any("bersama" in p for p in tree) and "media/umum.pdf" in tree  # a photo may be published as resized copies
    # Tag and person pages exist only for what published releases use.
    assert sorted(p for p in tree if p.startswith("tag/") and p.endswith("index.html")) == [
        "tag/index.html", "tag/umum/index.html", "tag/umum/page/2/index.html"]
    assert sorted(p for p in tree if p.startswith("penulis/") and p.endswith("index.html")) == [
        "penulis/index.html", "penulis/rina-penulis/index.html", "penulis/rina-penulis/page/2/index.html"]
    assert sorted(p for p in tree if p.startswith("arsip/")) == ["arsip/2025/index.html", "arsip/2025/page/2/index.html"]


def test_lists_links_and_dates_only_from_published_releases(site):
    assert build_site(site, now=NOW).ok
    out = site / "public"
    a = (out / "rilis/2025/05/a/index.html").read_text()
    b = (out / "rilis/2025/05/b/index.html").read_text()
    # prev/next: the draft is older than a, the embargoed release newer than b.
    assert re.findall(r'rel="(prev|next)" href="([^"]+)"', a) == [("next", "/rilis/2025/05/b/")]
    assert re.findall(r'rel="(prev|next)" href="([^"]+)"', b) == [("prev", "/rilis/2025/05/a/")]
    # Related top-up takes older releases sharing a tag: for a only the draft would qualify.
    assert "Baca Juga" not in a
    assert 'href="/rilis/2025/05/a/"' in b.split("Baca Juga")[1].split("</section>")[0]
    home = (out / "index.html").read_text()
    assert set(re.findall(r"/arsip/(\d{4})/", home)) == {"2025"}
    not_found = (out / "404.html").read_text()
    assert set(re.findall(r'href="(/rilis/[^"]+)"', not_found)) == {"/rilis/2025/05/a/", "/rilis/2025/05/b/"}
    # Feed dates come from published releases only (the embargoed one is dated 2030 and corrected 2031).
    for feed_path in ["feed.xml", "tag/umum/feed.xml"]:
        feed = ET.fromstring((out / feed_path).read_bytes())
        assert feed.find(f"{ATOM}updated").text == "2025-05-20T10:00:00+08:00", feed_path
        assert len(feed.findall(f"{ATOM}entry")) == 2
        parsed = feedparser.parse((out / feed_path).read_bytes())
        assert not parsed.bozo and {e.title for e in parsed.entries} == {"Rapat Koordinasi Terbuka", "Pelatihan Desa Digital"}
    sitemap = (out / "sitemap.xml").read_text()
    assert max(re.findall(r"<lastmod>([^<]+)</lastmod>", sitemap)) == "2025-05-20T10:00:00+08:00"
    person = (out / "penulis/rina-penulis/index.html").read_text()
    assert "Tenaga Ahli Peliputan" in person  # the hidden releases' job titles are markers: grepped above


def test_drafts_flag_shows_everything_marked_and_a_normal_build_removes_it_again(site):
    result = run_cli("build", "--source", str(site), "--now", NOW, "--drafts")
    assert result.returncode == 0, result.stderr
    out = site / "public"
    draft = (out / "rilis/2019/03/draf-rahasia-zx7qz/index.html").read_text()
    embargo = (out / "rilis/2030/12/embargo-zx9zz/index.html").read_text()
    page = (out / "draf-halaman-zx7qz/index.html").read_text()
    for html in (draft, embargo, page):
        assert '<meta name="robots" content="noindex">' in html
        assert 'class="banner"' in html
    assert "DRAF:" in draft and "EMBARGO hingga" in embargo
    published = (out / "rilis/2025/05/a/index.html").read_text()
    assert "noindex" not in published and 'class="banner"' not in published
    assert (out / "robots.txt").read_text().startswith("User-agent: *\nDisallow: /")
    assert (out / "media/keputusan-draf-zx7qz.pdf").is_file()
    # The preview must not survive into the real build.
    result = run_cli("build", "--source", str(site), "--now", NOW)
    assert result.returncode == 0, result.stderr
    for marker in ["zx7qz", "zx9zz", "arsip/2019", "arsip/2030"]:
        assert find_everywhere(out, marker) == [], marker
    assert "Allow: /" in (out / "robots.txt").read_text()


def test_links_to_hidden_releases_are_errors_with_their_line(make_site):
    files = dict(SITE)
    files["content/rilis/b.md"] = SITE["content/rilis/b.md"] + "\nLihat [[draf-rahasia-zx7qz]].\n\nJuga [[embargo-zx9zz]].\n"
    root = make_site(files)
    result = run_cli("build", "--source", str(root), "--now", NOW, cwd=root)
    assert result.returncode == 1
    found = {(p, line): msg for p, line, sev, msg in diagnostics(result.stderr) if sev == "error"}
    assert "draft" in found[("content/rilis/b.md", 9)]
    assert "embargoed until 2031-01-01T10:00+07:00" in found[("content/rilis/b.md", 11)]
    assert not (root / "public").exists()


EMBARGO_SITE = {
    "kabargen.yaml": "title: Uji Embargo\nbase_url: https://pers.example.go.id/\ntimezone: Asia/Jayapura\n",
    "content/terbuka.md": "---\ntitle: Terbuka\ndate: 2025-06-01 08:00\nbyline: [Rina]\n---\nIsi.\n",
    # 10:00 in UTC+7 is 12:00 in the site's zone (WIT, UTC+9) and 03:00 UTC.
    "content/dengan-offset.md": "---\ntitle: Offset Q1MARKOFFSET\ndate: 2025-06-10 08:00\nembargo: 2025-06-10T10:00:00+07:00\nbyline: [Rina]\n---\nIsi Q1MARKOFFSET.\n",
    # Without an offset: the site's zone, 10:00 WIT = 01:00 UTC.
    "content/tanpa-offset.md": "---\ntitle: Lokal Q2MARKLOCAL\ndate: 2025-06-10 08:00\nembargo: 2025-06-10 10:00\nbyline: [Rina]\n---\nIsi Q2MARKLOCAL.\n",
}


@pytest.mark.parametrize("now, with_offset, without_offset", [
    ("2025-06-10T00:59:00Z", False, False),
    ("2025-06-10T01:00:00Z", False, True),
    ("2025-06-10 09:59", False, False),  # site zone (WIT)
    ("2025-06-10 10:00", False, True),
    ("2025-06-10T02:59:59Z", False, True),
    ("2025-06-10T03:00:00Z", True, True),
    ("2025-06-10 11:59", False, True),
    ("2025-06-10 12:00", True, True),
    ("2025-06-10T10:00:00+07:00", True, True),
])
def test_embargo_is_honoured_to_the_minute(make_site, now, with_offset, without_offset):
    root = make_site(EMBARGO_SITE)
    assert build_site(root, now=now).ok
    out = root / "public"
    assert bool(find_everywhere(out, "Q1MARKOFFSET")) == with_offset
    assert bool(find_everywhere(out, "Q2MARKLOCAL")) == without_offset


def test_embargo_ignores_the_machine_time_zone(make_site):
    root = make_site(EMBARGO_SITE)
    for zone in ["America/New_York", "Pacific/Kiritimati"]:
        result = run_cli("build", "--source", str(root), "--now", "2025-06-10 11:59", env={"TZ": zone})
        assert result.returncode == 0, result.stderr
        assert not find_everywhere(root / "public", "Q1MARKOFFSET") and find_everywhere(root / "public", "Q2MARKLOCAL"), zone

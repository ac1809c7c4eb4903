"""End to end: real builds of fixture sites into temporary folders, read back from disk."""

import json
import os
import shutil

import feedparser
import pytest

from conftest import SITES, build_site, grep_tree, read_tree, release, run_cli
from kabargen.build import BuildOptions, patch_build
from kabargen.model import BuildMemory


@pytest.fixture
def basic(tmp_path):
    root = tmp_path / "basic"
    shutil.copytree(SITES / "basic", root)
    return root


def test_every_page_type_is_written(basic):
    result = run_cli("build", "--source", str(basic))
    assert result.returncode == 0, result.stderr
    assert "Built 3 releases" in result.stdout
    out = basic / "public"
    for rel in [
        "index.html", "page/2/index.html",
        "rilis/2025/05/pelatihan-umkm/index.html", "tentang/index.html",
        "tag/index.html", "tag/umkm/index.html", "tag/desauji/index.html", "tag/umkm/feed.xml",
        "penulis/index.html", "penulis/sari-wulandari/index.html", "penulis/hendra-gunawan/index.html",
        "arsip/2025/index.html", "feed.xml", "sitemap.xml", "robots.txt", "404.html",
        "media/materi.pdf",
    ]:
        assert (out / rel).is_file(), rel
    # The lead photo goes out as resized copies; the original stays home (docs/images.md).
    assert not (out / "media/foto.jpg").exists() and list((out / "media/_v").glob("foto-*-800.webp"))
    page = (out / "rilis/2025/05/pelatihan-umkm/index.html").read_text()
    assert "Penulis: <a href=\"/penulis/sari-wulandari/\">Sari Wulandari</a> (Tenaga Ahli Peliputan)" in page
    assert "Fotografer: <a href=\"/penulis/dodi-pratama/\">Dodi Pratama</a>" in page
    assert "Editor: <a href=\"/penulis/hendra-gunawan/\">Hendra Gunawan</a>" in page
    assert 'href="/rilis/2025/05/jembatan-desa-selesai/">jembatan desa</a>' in page
    assert '<aside class="read-also">' in page
    assert "Kota Uji — <time" in page and "Senin, 12 Mei 2025 13.30 WITA" in page
    assert "Materi pelatihan</a> (PDF" in page
    assert "Jumlah peserta diperbaiki" in page
    assert (out / "robots.txt").read_text().strip().endswith("Sitemap: https://pers.example.go.id/sitemap.xml")
    home2 = (out / "page/2/index.html").read_text()
    assert "Halaman 2 dari 2" in home2


def test_drafts_and_embargoes_appear_nowhere(basic):
    assert run_cli("build", "--source", str(basic), "--now", "2025-06-01 00:00").returncode == 0
    out = basic / "public"
    for marker in ["DRAFMARKER123", "EMBARGOMARKER456", "Draf Rahasia Penanda", "Rilis Embargo Penanda",
                   "draf-rahasia", "embargo-penanda", "tagar-khusus", "Penulis Draf Khusus", "Penulis Embargo Khusus"]:
        assert grep_tree(out, marker) == [], marker
    assert not (out / "media/draf.pdf").exists()
    assert not (out / "penulis/penulis-draf-khusus").exists()


def test_drafts_flag_shows_them_with_banner_and_noindex(basic):
    assert run_cli("build", "--source", str(basic), "--drafts", "--now", "2025-06-01 00:00").returncode == 0
    page = (basic / "public/rilis/2025/05/draf-rahasia/index.html").read_text()
    assert "DRAF:" in page and '<meta name="robots" content="noindex">' in page
    embargo = (basic / "public/rilis/2025/05/embargo-penanda/index.html").read_text()
    assert "EMBARGO hingga Selasa, 1 Januari 2030 08.00 WITA" in embargo


def test_embargo_lifts_at_its_moment(basic):
    build_site(basic, now="2030-01-01 07:59")
    assert not (basic / "public/rilis/2025/05/embargo-penanda").exists()
    build_site(basic, now="2030-01-01 00:00+00:00")  # 08:00 WITA: the moment itself
    assert (basic / "public/rilis/2025/05/embargo-penanda/index.html").is_file()


def test_feed_parses_in_a_feed_reader(basic):
    build_site(basic)
    feed = feedparser.parse((basic / "public/feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Siaran Pers Uji Dasar"
    assert len(feed.entries) == 3
    assert [e.title for e in feed.entries][0] == "Rapat Koordinasi Anggaran Daerah"
    first = next(e for e in feed.entries if e.title == "Pelatihan Pemasaran Daring untuk UMKM")
    assert first.link == "https://pers.example.go.id/rilis/2025/05/pelatihan-umkm/"
    assert first.updated.startswith("2025-05-13T08:00")
    assert {a.name for a in first.authors} == {"Sari Wulandari", "Dodi Pratama"}
    assert {t.term for t in first.tags} == {"umkm", "desauji"}
    assert "Sebanyak 40 pelaku usaha" in first.content[0].value


def test_five_broken_files_all_reported_and_old_output_kept(tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(SITES / "broken", root)
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("situs lama")
    result = run_cli("build", "--source", str(root), "--output", str(out), cwd=root)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    expected = {
        "content/rilis/bukan-utf8.md:6: error:": "UTF-8",
        "content/rilis/tanggal-salah.md:3: error:": "not a real date",
        "content/rilis/tanpa-judul.md:1: error:": "'title' is required",
        "content/rilis/yaml-rusak.md:": "invalid YAML",
        "content/rilis/tautan-hilang.md:6: error:": "rilis-yang-tidak-ada",
    }
    for prefix, text in expected.items():
        assert any(line.startswith(prefix) and text in line for line in lines), (prefix, result.stderr)
    assert read_tree(out) == {"index.html": b"situs lama"}


def test_same_input_same_bytes_across_processes(basic, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    r1 = run_cli("build", "--source", str(basic), "--output", str(a), "--jobs", "1", env={"PYTHONHASHSEED": "1", "TZ": "UTC"})
    r2 = run_cli("build", "--source", str(basic), "--output", str(b), "--jobs", "2", env={"PYTHONHASHSEED": "987", "TZ": "America/New_York"})
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert read_tree(a) == read_tree(b)


def test_rebuild_keeps_mtimes_of_unchanged_files_and_removes_stale(basic):
    out = basic / "public"
    build_site(basic)
    about = out / "tentang/index.html"
    release_page = out / "rilis/2025/05/rapat-anggaran/index.html"
    os.utime(about, (1_000_000, 1_000_000))
    os.utime(release_page, (1_000_000, 1_000_000))
    (out / "sisa-lama.html").write_text("tidak lagi dibuat")
    old_index = {p.relative_to(out) for p in (out / "pagefind").rglob("*") if p.is_file()}
    src = basic / "content/rilis/2025/05/rapat-anggaran.md"
    src.write_text(src.read_text().replace("tahun depan", "tahun 2026"))
    result = build_site(basic)
    assert about.stat().st_mtime == 1_000_000
    assert release_page.stat().st_mtime != 1_000_000
    assert "tahun 2026" in release_page.read_text()
    assert not (out / "sisa-lama.html").exists()
    # The search index names its files by content: those of the changed release are replaced too.
    new_index = {p.relative_to(out) for p in (out / "pagefind").rglob("*") if p.is_file()}
    assert old_index and result.report.removed == 1 + len(old_index - new_index) and result.report.written >= 1 and result.report.unchanged > 10


def test_deleted_release_files_removed(basic):
    build_site(basic)
    (basic / "content/rilis/2025/05/rapat-anggaran.md").unlink()
    build_site(basic)
    assert not (basic / "public/rilis/2025/05/rapat-anggaran").exists()
    assert not (basic / "public/tag/anggaran").exists()


def test_sub_path_base_url_prefixes_every_link(basic):
    build_site(basic, base_url="https://contoh.github.io/siaran-pers/")
    page = (basic / "public/rilis/2025/05/pelatihan-umkm/index.html").read_text()
    assert 'href="/siaran-pers/rilis/2025/05/jembatan-desa-selesai/"' in page
    assert 'href="/siaran-pers/assets/style.' in page
    assert '<link rel="canonical" href="https://contoh.github.io/siaran-pers/rilis/2025/05/pelatihan-umkm/">' in page
    sitemap = (basic / "public/sitemap.xml").read_text()
    assert "<loc>https://contoh.github.io/siaran-pers/tag/umkm/</loc>" in sitemap
    assert 'href="/rilis' not in page and 'src="/media' not in page


def test_output_may_not_be_the_site_or_content(basic):
    for target in [basic, basic / "content", basic.parent]:
        result = run_cli("build", "--source", str(basic), "--output", str(target))
        assert result.returncode == 2, target
    assert (basic / "content/halaman/tentang.md").exists()


def test_a_folder_of_other_files_is_never_replaced(basic, tmp_path):
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "laporan.docx").write_bytes(b"laporan tahunan")
    checkout = tmp_path / "gh-pages"
    (checkout / ".git").mkdir(parents=True)
    (checkout / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (checkout / "index.html").write_text("situs lama")
    for target, why in [(documents, "no index.html"), (checkout, "a .git folder")]:
        result = run_cli("build", "--source", str(basic), "--output", str(target))
        assert result.returncode == 2 and why in result.stderr and "kabargen did not write" in result.stderr, result.stderr
    assert read_tree(documents) == {"laporan.docx": b"laporan tahunan"}
    assert (checkout / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n"

    # An empty folder, and then the folder kabargen built, are fine.
    fresh = tmp_path / "kosong"
    fresh.mkdir()
    for _ in range(2):
        result = run_cli("build", "--source", str(basic), "--output", str(fresh))
        assert result.returncode == 0, result.stderr
    assert (fresh / "index.html").exists()


def test_check_writes_nothing(basic):
    result = run_cli("check", "--source", str(basic))
    assert result.returncode == 0, result.stderr
    assert not (basic / "public").exists()


def test_jsonld_cannot_break_out_of_script(make_site):
    title = 'Judul </script><script>alert(1)</script> <!-- x'
    root = make_site({"content/a.md": release(title=json.dumps(title), location="'</SCRIPT >'")})
    build_site(root)
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    script = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(script)
    assert data["headline"] == title and data["dateline"] == "</SCRIPT >"
    assert "<" not in script
    assert "<title>Judul &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;!-- x | Siaran Pers Uji</title>" in page


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and "kabargen, version" in result.stdout


def test_pages_made_on_demand_equal_the_built_ones(basic):
    # kabargen serve renders a page when a browser asks for it (BuildOptions(lazy=True)).
    built = build_site(basic, write=False, drafts=True)
    lazy = build_site(basic, write=False, drafts=True, lazy=True, now=built.site.now)
    assert built.ok and lazy.ok and all(page.data is None for page in lazy.pages)
    assert [p.url for p in lazy.pages] == [p.url for p in built.pages]
    for page in built.pages:
        assert lazy.maker.page(page.url) == page.data, page.url
    assert lazy.maker.page("no/such/page/") is None
    everything = lazy.maker.render_all()
    assert not everything.cancelled and {p.url: p.data for p in everything.pages} == {p.url: p.data for p in built.pages}
    assert lazy.maker.render_all(cancel=lambda: True).cancelled


def test_files_remembered_between_builds_are_reused_only_while_unchanged(basic):
    # kabargen serve keeps what the last build read (BuildOptions.memory); no cache on disk here.
    other = basic / "content/rilis/2025/05/jembatan-desa-selesai.md"
    other.write_text(other.read_text().replace("title:", "judul_lama: x\ntitle:", 1))
    memory = BuildMemory()
    first = build_site(basic, write=False, lazy=True, cache=False, memory=memory)
    markdown = sorted(p.relative_to(basic / "content").as_posix() for p in (basic / "content").rglob("*.md"))
    assert first.ok and sorted(key[0] for key in memory.sources) == markdown
    before = {key[0]: value for key, value in memory.sources.items()}
    path = basic / "content/rilis/2025/05/pelatihan-umkm.md"
    path.write_text(path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung DUA PULUH hari."))
    second = build_site(basic, write=False, lazy=True, cache=False, memory=memory, now=first.site.now)
    after = {key[0]: value for key, value in memory.sources.items()}
    assert after.keys() == before.keys()
    assert [rel for rel in after if after[rel] is not before[rel]] == ["rilis/2025/05/pelatihan-umkm.md"]
    fresh = build_site(basic, write=False, lazy=True, cache=False, now=first.site.now)
    # A warning about an unchanged file is still reported, at its line.
    unknown = [d.format() for d in fresh.diagnostics if "judul_lama" in d.message]
    assert unknown and [d.format() for d in second.diagnostics if "judul_lama" in d.message] == unknown
    page = next(p.url for p in fresh.pages if p.url.endswith("pelatihan-umkm/"))
    assert b"DUA PULUH" in second.maker.page(page) and second.maker.page(page) == fresh.maker.page(page)


def test_a_body_edit_patched_in_is_what_a_full_build_gives(basic):
    # kabargen serve patches the site it shows when a save changed only the text of a release.
    path = basic / "content/rilis/2025/05/pelatihan-umkm.md"
    text = path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung dua hari.\n\n![Peserta berlatih](../../../media/foto.jpg)")
    path.write_text(text)
    memory = BuildMemory()
    first = build_site(basic, write=False, lazy=True, memory=memory)
    options = BuildOptions(source=basic, write=False, lazy=True, memory=memory, jobs=1)
    assert patch_build(first, [str(path)], options) is first, "a save without a change changes nothing"
    # The first paragraph (the summary, with a [[link]] in it: shown by its title) and the word count change.
    path.write_text(text.replace("Sebanyak 40 pelaku usaha", "Sebanyak empat puluh lima pelaku usaha").replace("[[jembatan-desa-selesai|jembatan desa]]", "[[jembatan-desa-selesai]]"))
    patched = patch_build(first, [str(path)], options)
    assert patched is not None and patched.site != first.site
    full = build_site(basic, write=False, lazy=True, now=first.site.now)
    assert patched.site == full.site
    shown = patched.site.releases["pelatihan-umkm"]
    assert "empat puluh lima pelaku usaha mengikuti pelatihan, setelah Jembatan Desa Sungai Hijau Selesai Dibangun selesai" in shown.summary
    assert "<picture" in shown.body_html, "a photo in the body is shown as the build shows it"
    assert [p.url for p in patched.pages] == [p.url for p in full.pages]
    for page in full.pages:
        assert patched.maker.page(page.url) == full.maker.page(page.url), page.url
    # The memory now holds the edited file: the next full build takes it from there.
    again = build_site(basic, write=False, lazy=True, memory=memory, now=first.site.now)
    assert again.site == full.site


@pytest.mark.parametrize("change", [
    "front matter", "new link", "new file link", "problem", "draft", "new file", "deleted", "config", "embargo lifted",
])
def test_a_save_that_is_more_than_a_body_edit_is_built_in_full(basic, change):
    folder = basic / "content/rilis/2025/05"
    path = folder / "pelatihan-umkm.md"
    memory = BuildMemory()
    first = build_site(basic, write=False, lazy=True, memory=memory)
    text = path.read_text()
    changed = [str(path)]
    if change == "front matter":
        path.write_text(text.replace("location: Kota Uji", "location: Kota Lain"))
    elif change == "new link":
        path.write_text(text + "\nLihat juga [[rapat-anggaran]].\n")
    elif change == "new file link":
        path.write_text(text + "\nUnduh [materi](../../../media/materi.pdf).\n")
    elif change == "problem":
        path.write_text(text + "\n<script>alert(1)</script>\n")  # a warning: the next full build shows it
    elif change == "draft":
        path = folder / "draf-rahasia.md"
        path.write_text(path.read_text() + "\nKalimat baru.\n")
        changed = [str(path)]
    elif change == "new file":
        (folder / "baru.md").write_text(release(title="Rilis Baru"))
        changed = [str(folder / "baru.md")]
    elif change == "deleted":
        changed = [str(folder / "rapat-anggaran.md")]
        (folder / "rapat-anggaran.md").unlink()
    elif change == "config":
        changed = [str(basic / "kabargen.yaml")]
    else:
        changed = [""]
    options = BuildOptions(source=basic, write=False, lazy=True, memory=memory, jobs=1)
    before = dict(memory.sources)
    assert patch_build(first, changed, options) is None
    assert memory.sources == before, "a declined patch leaves the memory as it was"


def test_templates_kept_between_builds_follow_the_config(make_site):
    # kabargen serve keeps compiled templates (BuildMemory.templates); Jinja works out filters
    # on constants while compiling, and kabargen's filters speak the site's language.
    site = make_site({"content/a.md": release(), "templates/404.html": "Batas unggah {{ 1048576|filesize }}\n"})
    memory = BuildMemory()
    first = build_site(site, write=False, lazy=True, memory=memory)
    assert first.maker.page("404.html") == "Batas unggah 1,0 MB\n".encode()
    (site / "kabargen.yaml").write_text((site / "kabargen.yaml").read_text() + "language: en\n")
    second = build_site(site, write=False, lazy=True, memory=memory)
    assert second.maker.page("404.html") == b"Batas unggah 1.0 MB\n"


def test_a_render_asked_to_stop_only_after_its_last_page_is_complete(basic):
    # kabargen serve interrupts its background rendering when a save comes; one that comes
    # after the last page must not throw the finished site away (it would be rendered again).
    lazy = build_site(basic, write=False, lazy=True)
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > len(lazy.maker.urls)

    outcome = lazy.maker.render_all(cancel=cancel)
    assert not outcome.cancelled and [p.url for p in outcome.pages] == list(lazy.maker.urls)

"""Incremental builds: after any change, a build that reuses the cache and the old output
writes exactly what a cold build (no cache, empty output) of the same input writes."""

import os
import shutil
from pathlib import Path

import pytest

from conftest import SITES, build_site, jpeg, read_tree, release, run_cli

NOW = "2025-06-01 00:00"


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    # Pagefind's index differs between two cold builds of the same site (search.py keeps one
    # per input instead); these tests compare everything else byte for byte.
    with open(root / "kabargen.yaml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    return root


def cold_tree(root: Path, tmp: Path, **options) -> dict[str, bytes]:
    """What a cold build of ROOT's current input writes (built in a copy, no cache, no output)."""
    copy = tmp / f"cold-{len(list(tmp.glob('cold-*')))}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".kabargen-*", "public"))
    result = build_site(copy, now=NOW, **options)
    assert result.ok, [d.format() for d in result.errors]
    return read_tree(copy / "public")


def warm_tree(root: Path, **options) -> dict[str, bytes]:
    result = build_site(root, now=NOW, **options)
    assert result.ok, [d.format() for d in result.errors]
    return read_tree(root / "public")


def assert_same_as_cold(root: Path, tmp: Path, **options) -> None:
    warm = warm_tree(root, **options)
    cold = cold_tree(root, tmp, **options)
    assert sorted(warm) == sorted(cold)
    for rel in cold:
        assert warm[rel] == cold[rel], rel


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


RILIS = "content/rilis/2025/05"


def test_a_warm_build_renders_nothing_and_equals_a_cold_one(site, tmp_path):
    first = build_site(site, now=NOW)
    assert first.ok and first.rendered > 10
    again = build_site(site, now=NOW)
    # Only the sitemap and robots.txt, which have no fingerprint, are made again.
    assert again.rendered <= 2
    assert again.report.written == 0
    assert read_tree(site / "public") == cold_tree(site, tmp_path)


def test_editing_a_body_renders_only_what_shows_it(site, tmp_path):
    warm_tree(site)
    path = site / RILIS / "rapat-anggaran.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nParagraf kedua yang baru.\n", encoding="utf-8")
    result = build_site(site, now=NOW)
    # The page, its neighbours (their prev/next link shows it), the two feeds carrying the
    # body, the sitemap and robots.txt; not the list pages: their summary of it comes from
    # the first paragraph, which did not change.
    assert result.rendered <= 7
    tree = read_tree(site / "public")
    assert b"Paragraf kedua yang baru." in tree["rilis/2025/05/rapat-anggaran/index.html"]
    assert tree == cold_tree(site, tmp_path)


def test_editing_a_linked_title_changes_the_pages_that_link_to_it(site, tmp_path):
    before = warm_tree(site)
    edit(site / RILIS / "jembatan-desa-selesai.md", "title: ", "title: Kabar Baru ")
    after = warm_tree(site)
    linking = "rilis/2025/05/pelatihan-umkm/index.html"
    assert before[linking] != after[linking] and b"Kabar Baru" in after[linking]
    assert after == cold_tree(site, tmp_path)


def test_a_release_page_follows_what_other_files_decide(site, tmp_path):
    # A release page is kept by its inputs key (Renderer.release_inputs) without computing its
    # context; conftest turns on the check of each such page against its full fingerprint.
    page = "rilis/2025/05/pelatihan-umkm/index.html"
    older = site / "content/rilis/2025/04"
    older.mkdir(parents=True)
    (older / "ejaan-1.md").write_text(release("Ejaan Tagar Satu", date="2025-04-01 09:00", tags="[umkm]"), encoding="utf-8")
    (older / "ejaan-2.md").write_text(release("Ejaan Tagar Dua", date="2025-04-02 09:00", tags="[UMKM]"), encoding="utf-8")
    assert b'tag/umkm/">#umkm<' in warm_tree(site)[page]
    # A tag is shown in its most common spelling; an older release, no neighbour of this
    # page's release, changes it: the page's own file and its neighbours stay as they were.
    edit(older / "ejaan-1.md", "tags: [umkm]", "tags: [UMKM]")
    after = warm_tree(site)
    assert b'tag/umkm/">#UMKM<' in after[page]
    assert after == cold_tree(site, tmp_path)


def test_a_list_page_follows_what_its_list_decides(site, tmp_path):
    # A list page is kept by its inputs key (Renderer.list_inputs) without computing its cards
    # and meta tags; conftest turns on the check of each such page against its full fingerprint.
    older = site / "content/rilis/2025/04"
    older.mkdir(parents=True)
    for day in range(3, 10):
        (older / f"hitung-{day}.md").write_text(release(f"Hitung Rilis {day}", date=f"2025-04-0{day} 09:00", tags="[hitung]"), encoding="utf-8")
    (older / "lain-2.md").write_text(release("Rilis Lain 2", date="2025-04-02 09:00", tags="[lain]"), encoding="utf-8")
    first, last = "tag/hitung/index.html", "tag/hitung/page/4/index.html"
    assert b"7 rilis" in warm_tree(site)[first]
    # An older release joins the tag: the first page (two per page) shows the same releases,
    # has the same number of pages, but counts one more.
    (older / "hitung-1.md").write_text(release("Hitung Rilis 1", date="2025-04-01 09:00", tags="[hitung]"), encoding="utf-8")
    after = warm_tree(site)
    assert b"8 rilis" in after[first] and b"Hitung Rilis 9" in after[first]
    assert after == cold_tree(site, tmp_path)
    # The tag's spelling (in its heading) changes with releases on other pages of the list.
    for day in (1, 3, 4, 5, 6):
        edit(older / f"hitung-{day}.md", "tags: [hitung]", "tags: [HITUNG]")
    after = warm_tree(site)
    assert b"HITUNG" in after[first]
    assert after == cold_tree(site, tmp_path)
    # A release's title on the last page changes only that page's card.
    edit(older / "hitung-1.md", "title: Hitung Rilis 1", "title: Hitung Rilis Pertama")
    after = warm_tree(site)
    assert b"Hitung Rilis Pertama" in after[last]
    assert after == cold_tree(site, tmp_path)
    # The tag moves from it to another old release: the tag's list changes on its last page
    # only; the first page's releases, count and number of pages stay as they were.
    edit(older / "hitung-1.md", "tags: [HITUNG]", "tags: [lain]")
    edit(older / "lain-2.md", "tags: [lain]", "tags: [HITUNG]")
    after = warm_tree(site)
    assert b"Rilis Lain 2" in after[last] and b"Hitung Rilis Pertama" not in after[last]
    assert after == cold_tree(site, tmp_path)


def test_front_matter_checked_before_follows_the_files_and_time_zone(site, tmp_path):
    # A build in a new process takes the checked front matter of unchanged files from the
    # cache (assemble.CheckedFields); what a check also depends on is in the entries' scope.
    shutil.copy(site / "content/media/foto.jpg", site / "content/media/baru.jpg")
    (site / RILIS / "foto-baru.md").write_text(
        release("Foto Baru", date="2025-05-20 09:00", image="{src: media/baru.jpg, alt: Foto baru}", kunci_asing="x"), encoding="utf-8")
    first = build_site(site, now=NOW)
    assert first.ok and any("kunci_asing" in d.message for d in first.warnings)
    again = build_site(site, now=NOW)  # the same warnings, from the cache this time
    assert [d.format() for d in again.diagnostics] == [d.format() for d in first.diagnostics]
    # The photo goes: the unchanged release is checked again, and its image is missing.
    (site / "content/media/baru.jpg").unlink()
    gone = build_site(site, now=NOW)
    assert not gone.ok and any("media/baru.jpg" in d.message and "not found" in d.message for d in gone.errors)
    shutil.copy(site / "content/media/foto.jpg", site / "content/media/baru.jpg")
    after = warm_tree(site)
    assert b"Foto Baru" in after["rilis/2025/05/foto-baru/index.html"]
    assert after == cold_tree(site, tmp_path)
    # Another time zone: dates without an offset are read in it.
    with open(site / "kabargen.yaml", "a", encoding="utf-8") as f:
        f.write("timezone: Asia/Jayapura\n")
    after = warm_tree(site)
    assert b"WIT" in after["rilis/2025/05/foto-baru/index.html"]
    assert after == cold_tree(site, tmp_path)


@pytest.mark.parametrize(
    "change",
    ["rename", "slug", "delete", "tags", "add", "date"],
)
def test_content_changes(site, tmp_path, change):
    warm_tree(site)
    folder = site / RILIS
    if change == "rename":
        (folder / "rapat-anggaran.md").rename(folder / "rapat-anggaran-dprd.md")
    elif change == "slug":
        edit(folder / "rapat-anggaran.md", "title: ", "slug: rapat-anggaran-2025\ntitle: ")
    elif change == "delete":
        (folder / "rapat-anggaran.md").unlink()
    elif change == "tags":
        text = (folder / "rapat-anggaran.md").read_text(encoding="utf-8")
        lines = [line if not line.startswith("tags:") else "tags: [umkm, anggaran-baru]" for line in text.split("\n")]
        (folder / "rapat-anggaran.md").write_text("\n".join(lines), encoding="utf-8")
    elif change == "add":
        (folder / "rilis-tambahan.md").write_text(release("Rilis Tambahan Terbaru", date="2025-05-20 09:00", tags="[umkm]"), encoding="utf-8")
    elif change == "date":
        text = (folder / "rapat-anggaran.md").read_text(encoding="utf-8")
        lines = [line if not line.startswith("date:") else "date: 2025-05-29 08:00" for line in text.split("\n")]
        (folder / "rapat-anggaran.md").write_text("\n".join(lines), encoding="utf-8")
    assert_same_as_cold(site, tmp_path)


def test_a_template_override_rerenders_the_pages_using_it(site, tmp_path):
    warm_tree(site)
    (site / "templates").mkdir()
    card = (Path(__file__).resolve().parent.parent / "themes/resmi/templates/_card.html").read_text(encoding="utf-8")
    assert '<h2 class="card-title">' in card
    (site / "templates/_card.html").write_text(card.replace('<h2 class="card-title">', '<h2 class="card-title kartu-baru">'), encoding="utf-8")
    tree = warm_tree(site)
    assert b"kartu-baru" in tree["index.html"]
    assert tree == cold_tree(site, tmp_path)
    (site / "templates/_card.html").unlink()
    assert_same_as_cold(site, tmp_path)


def test_config_changes_and_flags(site, tmp_path):
    warm_tree(site)
    edit(site / "kabargen.yaml", "title: ", "title: Judul Baru ")
    assert_same_as_cold(site, tmp_path)
    assert_same_as_cold(site, tmp_path, base_url="https://pratinjau.example.go.id/uji/")
    assert_same_as_cold(site, tmp_path, drafts=True)
    assert_same_as_cold(site, tmp_path)


def test_a_hand_edited_output_file_is_written_again(site, tmp_path):
    warm_tree(site)
    page = site / "public/rilis/2025/05/pelatihan-umkm/index.html"
    with open(page, "ab") as f:  # in place: the inode stays, the size and mtime change
        f.write(b"<!-- tangan -->")
    (site / "public/tambahan-tangan.html").write_text("x", encoding="utf-8")
    assert_same_as_cold(site, tmp_path)


def test_the_spare_folder_is_brought_up_to_date_whatever_it_holds(site, tmp_path):
    warm_tree(site)
    warm_tree(site)
    spare = next((site / ".kabargen-cache/spare").iterdir())
    (spare / "sisa-di-cadangan.html").write_text("sisa", encoding="utf-8")
    (spare / "tag").rename(spare / "tag-lama")
    (spare / "index.html").unlink()
    (spare / "rilis/2025/05/pelatihan-umkm/index.html").write_text("rusak", encoding="utf-8")
    edit(site / RILIS / "rapat-anggaran.md", "anggaran", "anggaran daerah")
    assert_same_as_cold(site, tmp_path)
    assert not (site / "public/sisa-di-cadangan.html").exists()


def test_unchanged_files_keep_their_mtime_across_warm_builds(site):
    warm_tree(site)
    about = site / "public/tentang/index.html"
    os.utime(about, (1_000_000, 1_000_000))
    edit(site / RILIS / "rapat-anggaran.md", "anggaran", "anggaran tahunan")
    warm_tree(site)
    warm_tree(site)
    assert about.stat().st_mtime == 1_000_000


def test_a_failed_build_keeps_the_output_and_the_next_one_is_right(site, tmp_path):
    warm_tree(site)
    before = read_tree(site / "public")
    (site / "templates").mkdir()
    (site / "templates/release.html").write_text("{% extends 'base.html' %}{% block main %}{{ release.title | tidak_ada }}{% endblock %}", encoding="utf-8")
    result = build_site(site, now=NOW)
    assert not result.ok
    assert read_tree(site / "public") == before
    (site / "templates/release.html").unlink()
    assert_same_as_cold(site, tmp_path)


def many_releases(root: Path, count: int) -> None:
    """A site big enough that conversion and rendering use several processes."""
    for i in range(count):
        links = f" Lihat [[rilis-{i - 1:03d}]]." if i else ""
        body = f"Isi rilis nomor {i} tentang *program* desa.{links}\n\nParagraf kedua dengan [tautan](https://example.go.id/{i})."
        (root / f"content/rilis/rilis-{i:03d}.md").write_text(
            release(f"Rilis Nomor {i}", date=f"2024-{1 + i // 28:02d}-{1 + i % 28:02d} {8 + i % 9:02d}:{i % 60:02d}", body=body,
                    tags=f"[tag{i % 7}, umum]"),
            encoding="utf-8",
        )


def test_output_does_not_depend_on_jobs_hash_seed_time_zone_or_cache(make_site, tmp_path):
    root = make_site({
        "kabargen.yaml": "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nsearch: false\n",
        "content/halaman/tentang.md": "---\ntitle: Tentang\nlayout: page\n---\nHalaman.\n",
    })
    (root / "content/rilis").mkdir(parents=True)
    many_releases(root, 230)
    trees = []
    for n, (jobs, seed, tz) in enumerate([("1", "1", "UTC"), ("2", "2", "America/New_York"), ("2", "3", "Asia/Tokyo")]):
        out = tmp_path / f"out{n}"
        result = run_cli("build", "--source", str(root), "--output", str(out), "--jobs", jobs, "--now", NOW, "--no-cache",
                         env={"PYTHONHASHSEED": seed, "TZ": tz})
        assert result.returncode == 0, result.stderr
        trees.append(read_tree(out))
    assert trees[0] == trees[1] == trees[2]
    # Warm builds (the cache and old output reused), also over two processes, give the same.
    for jobs in ("2", "1", "2"):
        result = run_cli("build", "--source", str(root), "--jobs", jobs, "--now", NOW, env={"PYTHONHASHSEED": jobs})
        assert result.returncode == 0, result.stderr
        assert read_tree(root / "public") == trees[0]
    edit(root / "content/rilis/rilis-100.md", "title: Rilis Nomor 100", "title: Rilis Nomor Seratus")
    result = run_cli("build", "--source", str(root), "--jobs", "2", "--now", NOW)
    assert result.returncode == 0, result.stderr
    cold = tmp_path / "cold"
    assert run_cli("build", "--source", str(root), "--output", str(cold), "--jobs", "1", "--now", NOW, "--no-cache").returncode == 0
    assert read_tree(root / "public") == read_tree(cold)


def test_building_from_another_folder_reuses_the_pages(site, monkeypatch):
    monkeypatch.chdir(site.parent)
    assert build_site(site, now=NOW).ok
    monkeypatch.chdir(site)
    again = build_site(site, now=NOW)
    # Paths in messages are relative to the current folder; pages do not show them.
    assert again.ok and again.rendered <= 2


def test_replacing_a_photo_equals_a_cold_build(site, tmp_path):
    # The page showing it links to new copies (their names carry the photo's hash), and the
    # old copies leave the output.
    before = warm_tree(site)
    (site / "content/media/foto.jpg").write_bytes(jpeg(96, 64, color=(200, 40, 40)))
    assert_same_as_cold(site, tmp_path)
    after = read_tree(site / "public")
    assert {rel for rel in after if rel.startswith("media/_v/")} != {rel for rel in before if rel.startswith("media/_v/")}


def test_two_builds_into_one_output_at_once_both_succeed(site, tmp_path):
    # A CI runner and an editor building the same folder at the same moment: the second waits
    # for the first instead of taking its staging or spare folder from under it.
    for i in range(60):
        (site / RILIS / f"serentak-{i:02d}.md").write_text(
            release(title=f"Rilis Serentak {i}", tags="[serentak]", body="Paragraf. " * 150), encoding="utf-8")
    import subprocess
    import sys

    command = [sys.executable, "-m", "kabargen", "build", "--source", str(site), "--now", NOW]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    assert read_tree(site / "public") == cold_tree(site, tmp_path)
    assert not [p.name for p in site.iterdir() if p.name.startswith(".kabargen-staging")]

"""kabargen new: a release file with its front matter filled in."""

from __future__ import annotations

from conftest import build_site, release, run_cli
from kabargen.sources import read_source

CONFIG = """\
title: Siaran Pers Uji
base_url: https://pers.example.go.id/
timezone: Asia/Jayapura
defaults:
  byline: [{name: Rina Penulis, role: Tenaga Ahli Peliputan, credit: [penulis, fotografer]}]
  editor: {name: Joko Penyunting, role: Pranata Humas Ahli Muda}
  location: Lembah Permai
  tags: [pemkabuji, diskominfouji]
"""


def meta_of(path):
    source, problems = read_source(path, path.name)
    assert not problems
    return source.meta


def test_new_writes_a_release_with_the_defaults_and_prints_its_path(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("new", "Bupati Resmikan Jembatan Gantung di Desa Sungai Jernih", "--date", "2025-08-17 07:45", cwd=root)
    assert done.returncode == 0, done.stderr
    path = root / done.stdout.strip()
    assert path == root / "content/rilis/2025/08/bupati-resmikan-jembatan-gantung-di-desa-sungai-jernih.md"
    meta = meta_of(path)
    assert meta["title"] == "Bupati Resmikan Jembatan Gantung di Desa Sungai Jernih"
    assert meta["date"] == "2025-08-17 07:45"
    assert meta["byline"] == [{"name": "Rina Penulis", "role": "Tenaga Ahli Peliputan", "credit": ["penulis", "fotografer"]}]
    assert meta["editor"] == {"name": "Joko Penyunting", "role": "Pranata Humas Ahli Muda"}
    assert meta["location"] == "Lembah Permai"
    assert meta["tags"] == ["pemkabuji", "diskominfouji"] and meta["related"] == []
    assert "draft" not in meta and "number" not in meta
    result = build_site(root)
    assert result.ok, [d.format() for d in result.errors]
    page = (root / "public/rilis/2025/08/bupati-resmikan-jembatan-gantung-di-desa-sungai-jernih/index.html").read_text(encoding="utf-8")
    assert "Rina Penulis" in page and "Joko Penyunting" in page


def test_the_date_is_now_in_the_site_time_zone_to_the_minute(make_site):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    root = make_site({"kabargen.yaml": CONFIG})
    before = datetime.now(ZoneInfo("Asia/Jayapura")).replace(second=0, microsecond=0)
    done = run_cli("new", "Rapat Koordinasi", cwd=root)
    after = datetime.now(ZoneInfo("Asia/Jayapura"))
    written = datetime.strptime(meta_of(root / done.stdout.strip())["date"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Jayapura"))
    assert before <= written <= after
    assert f"/{written.year:04d}/{written.month:02d}/" in done.stdout


def test_never_overwrites_and_drafts(make_site):
    root = make_site({"kabargen.yaml": CONFIG, "content/rilis/2024/01/pasar-murah.md": release("Pasar Murah Lama", "2024-01-05 09:00")})
    first = run_cli("new", "Pasar Murah", "--date", "2025-03-01 09:00", cwd=root)
    second = run_cli("new", "Pasar Murah", "--date", "2025-03-01 09:00", "--draft", cwd=root)
    third = run_cli("new", "Pasar Murah", "--date", "2025-03-01 09:00", cwd=root)
    # The slug is taken in another month already: -2, -3, -4 (slugs are unique in the site).
    assert [p.stdout.strip().rsplit("/", 1)[1] for p in (first, second, third)] == ["pasar-murah-2.md", "pasar-murah-3.md", "pasar-murah-4.md"]
    assert meta_of(root / second.stdout.strip())["draft"] == "true"
    assert "draft" not in meta_of(root / first.stdout.strip())


def test_long_indonesian_titles_make_readable_slugs_cut_at_a_word(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    title = "Pemerintah Kabupaten Gelar Sosialisasi Pencegahan Stunting, Pernikahan Dini, dan Kekerasan terhadap Perempuan di Dua Belas Kecamatan Pesisir"
    done = run_cli("new", title, "--section", "berita", "--date", "2025-09-02 10:00", cwd=root)
    name = done.stdout.strip().rsplit("/", 1)[1][:-3]
    assert done.stdout.startswith("content/berita/2025/09/")
    assert len(name) <= 80 and title.lower().replace(",", "").replace(" ", "-").startswith(name)


def test_number_continues_the_sequence_and_needs_a_pattern(make_site):
    numbered = CONFIG + 'numbering: "{seq:03d}/HM/DISKOMINFO/{month:02d}/{year}"\n'
    root = make_site({
        "kabargen.yaml": numbered,
        "content/rilis/2025/05/a.md": release("A", "2025-05-02 09:00", number="041/HM/DISKOMINFO/05/2025"),
        "content/rilis/2025/05/b.md": release("B", "2025-05-03 09:00", number="007/HM/DISKOMINFO/05/2025"),
        "content/rilis/2025/05/rusak.md": "---\ntitle: [tidak ditutup\n---\n",
    })
    done = run_cli("new", "Rilis Bernomor", "--number", "--date", "2025-06-10 09:00", cwd=root)
    assert done.returncode == 0, done.stderr
    assert meta_of(root / done.stdout.strip())["number"] == "042/HM/DISKOMINFO/06/2025"

    plain = make_site({"kabargen.yaml": CONFIG}, root=root.parent / "tanpa")
    refused = run_cli("new", "Rilis Bernomor", "--number", cwd=plain)
    assert refused.returncode == 2 and "numbering" in refused.stderr
    assert not (plain / "content").exists()


def test_new_outside_a_site_says_how_to_start_one(tmp_path):
    done = run_cli("new", "Judul", cwd=tmp_path)
    assert done.returncode == 2 and "kabargen init" in done.stderr

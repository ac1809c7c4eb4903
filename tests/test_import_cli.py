"""kabargen import text on the command line: report, exit status, and a site that builds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = """\
title: Siaran Pers Uji
base_url: https://pers.example.go.id/
timezone: Asia/Makassar
defaults:
  byline: [{name: Petugas Humas, credit: [penulis]}]
"""


def test_import_text_then_build_shows_bylines_editors_tags_and_read_also_links(make_site):
    root = make_site({"kabargen.yaml": CONFIG})
    shutil.copytree(FIXTURES / "import_cli", root / "teks")
    done = run_cli("import", "text", "teks", cwd=root)
    assert done.returncode == 0, done.stderr
    # One summary line per file on stdout, findings as path:line: severity: message on stderr.
    assert done.stdout.splitlines() == [
        "teks/a-sekolah-lapang.txt -> content/rilis/2025/07/sekolah-lapang-iklim-untuk-petani-cabai-dibuka-di-desa-karang-asri.md",
        "teks/b-sambal-kemasan.txt -> content/rilis/2025/07/kelompok-wanita-tani-karang-asri-luncurkan-sambal-kemasan.md (1 warning(s) to check)",
    ]
    # b (2 July) names a (9 July): a link to a later release would break the build, so it stays a note.
    assert re.search(r"^teks/b-sambal-kemasan\.txt:8: warning: Baca Juga 'Sekolah Lapang", done.stderr, re.M)
    assert re.search(r"^teks/a-sekolah-lapang\.txt:2: note: byline: Rudi Hartanto", done.stderr, re.M)
    assert re.search(r"^teks/a-sekolah-lapang\.txt:5: note: date 2025-07-09", done.stderr, re.M)

    built = run_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr
    public = root / "public/rilis/2025/07"
    school = (public / "sekolah-lapang-iklim-untuk-petani-cabai-dibuka-di-desa-karang-asri/index.html").read_text(encoding="utf-8")
    sambal = (public / "kelompok-wanita-tani-karang-asri-luncurkan-sambal-kemasan/index.html").read_text(encoding="utf-8")
    for text in ("Rudi Hartanto", "Maria Goreti Lestari", "pertanian", "KarangAsri", "Karang Asri"):
        assert text in school
    for text in ("Fitri Handayani", "Yusuf Ramadhan", "Maria Goreti Lestari", "umkm"):
        assert text in sambal
    # a's Baca Juga points at b (published before it): a working read-also link.
    link = re.search(r'href="([^"]*kelompok-wanita-tani-karang-asri-luncurkan-sambal-kemasan/)"', school)
    assert link, "no read-also link to the sambal release"
    target = root / "public" / link.group(1).replace("https://pers.example.go.id/", "").lstrip("/") / "index.html"
    assert target.is_file()
    assert "Baca Juga: Sekolah Lapang Iklim" in sambal
    assert "Kegiatan berlangsung" in school and "<p>#pertanian" not in school
    assert 'href="/tag/pertanian/"' in school and (root / "public/tag/pertanian/index.html").is_file()


def test_import_text_reports_errors_and_exits_1(make_site, tmp_path):
    root = make_site({"kabargen.yaml": "title: Uji\n"})
    (tmp_path / "tanpa-tanggal.txt").write_text("Judul Tanpa Tanggal\nPenulis : Ani Wijaya\n\nIsi rilis tanpa tanggal.\n", encoding="utf-8")
    done = run_cli("import", "text", str(tmp_path / "tanpa-tanggal.txt"), cwd=root)
    assert done.returncode == 1
    assert "tanpa-tanggal.txt: error: no date found: pass --date" in done.stderr
    assert not (root / "content").exists() or not list((root / "content").rglob("*.md"))

    dated = run_cli("import", "text", str(tmp_path / "tanpa-tanggal.txt"), "--date", "2025-02-03 10:00", cwd=root)
    assert dated.returncode == 0, dated.stderr
    assert (root / "content/rilis/2025/02/judul-tanpa-tanggal.md").is_file()


def test_import_text_bad_options_exit_2(make_site, tmp_path):
    root = make_site({"kabargen.yaml": "title: Uji\n"})
    assert run_cli("import", "text", str(FIXTURES / "import_cli"), "--into", str(tmp_path), cwd=root).returncode == 2
    assert run_cli("import", "text", str(FIXTURES / "import_cli"), "--title", "Satu Judul", cwd=root).returncode == 2
    assert run_cli("import", "text", str(FIXTURES / "import_cli"), "--date", "kemarin", cwd=root).returncode == 2


def test_existing_fixtures_import_and_build(make_site):
    """The text importer's own fixtures (credit-line variants, hashtags, dates in the text) through the CLI."""
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("import", "text", str(FIXTURES / "import_text"), "--date", "2025-07-01 08:00", cwd=root)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4
    built = run_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr


def test_into_is_relative_to_the_site_folder(make_site, tmp_path):
    root = make_site({"kabargen.yaml": CONFIG})
    done = run_cli("import", "text", str(FIXTURES / "import_cli"), "--source", str(root), "--into", "content/arsip", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((root / "content/arsip/2025/07").glob("*.md"))) == 2

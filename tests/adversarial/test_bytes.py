"""Bytes as editors and copy-paste really produce them: BOM, CRLF, broken UTF-8, NUL,
non-Latin scripts, a 5 MB release and an empty one."""

import random
import re
import subprocess
import sys

import pytest

from conftest import build_site, run_cli
from hostile import diagnostics, front_matter, jsonld_of

CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\n"


def test_bom_and_crlf_and_cr_files_build_like_clean_ones(make_site):
    text = "---\ntitle: Rapat Koordinasi\ndate: 2025-05-15 10:00\nbyline: [Rina]\ntags: [umum]\n---\nBaris satu.\n\nBaris dua.\n"
    root = make_site({
        "kabargen.yaml": b"\xef\xbb\xbf" + CONFIG.replace("\n", "\r\n").encode(),
        "content/crlf.md": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        "content/cr.md": text.replace("Rapat", "Rapat Lama").replace("\n", "\r").encode(),
        "content/lf.md": text.replace("Rapat", "Rapat Baru").encode(),
    })
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    for name, title in [("crlf", "Rapat Koordinasi"), ("cr", "Rapat Lama Koordinasi"), ("lf", "Rapat Baru Koordinasi")]:
        page = (root / f"public/rilis/2025/05/{name}/index.html").read_text()
        assert f"<h1>{title}</h1>" in page and "\ufeff" not in page and "\r" not in page
        assert "<p>Baris satu.</p>\n<p>Baris dua.</p>" in page
        assert jsonld_of(page)["headline"] == title


def test_invalid_utf8_is_an_error_with_its_line(make_site):
    good = "---\ntitle: Rilis\ndate: 2025-05-15 10:00\nbyline: [Rina]\n---\nBaris enam.\n"
    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/latin1.md": (good + "Baris tujuh caf\xe9.\n").encode("latin-1"),
        "content/potong.md": good.encode() + "Baris tujuh ".encode() + "é".encode()[:1] + b"\n",
        "content/judul.md": good.replace("title: Rilis", "title: Rilis \udcff").encode("utf-8", "surrogateescape"),
        "content/utf16.md": good.encode("utf-16"),
        "content/nul.md": (good + "Baris\x00 tujuh\n").encode(),
        "content/baik.md": good.encode(),
    })
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = {p: line for p, line, sev, _ in diagnostics(result.stderr) if sev == "error"}
    assert errors == {"content/latin1.md": 7, "content/potong.md": 7, "content/judul.md": 2, "content/utf16.md": 1, "content/nul.md": 7}
    assert "UTF-8" in result.stderr
    root = make_site({"kabargen.yaml": (CONFIG + "organization: {name: Dinas \xe9}\n").encode("latin-1"), "content/baik.md": good})
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 2 and "kabargen.yaml:" in result.stderr and "UTF-8" in result.stderr


@pytest.mark.parametrize("name, slug", [
    ("Rapat Koordinasi Daerah", "rapat-koordinasi-daerah"),
    ("Kunjungan ke Dayak Kenyah – Sungai Mahakam", "kunjungan-ke-dayak-kenyah-sungai-mahakam"),
    ("Jum'at Bersih di Kantor Bupati", "jumat-bersih-di-kantor-bupati"),
    ("HUT Kota Samarinda ke-357 (2025)", "hut-kota-samarinda-ke-357-2025"),
    ("Pelayanan Publik Prima_Edisi 2", "pelayanan-publik-prima-edisi-2"),
    ("Café Kopi Lokal Naïve", "cafe-kopi-lokal-naive"),
    ("東京との協力", "東京との協力"),
    ("Пресс-релиз дня", "пресс-релиз-дня"),
    ("مؤتمر صحفي", "مؤتمر-صحفي"),
    ("Ἀθῆναι", "ἀθῆναι"),
])
def test_readable_slugs_from_file_names_tags_and_people(make_site, name, slug):
    fields = {"title": name, "date": "2025-05-15 10:00", "byline": f"[{{name: '{name.replace(chr(39), chr(39) * 2)}'}}]",
              "tags": f"['#{name.replace(chr(39), chr(39) * 2)}']"}
    root = make_site({"kabargen.yaml": CONFIG, f"content/{name}.md": front_matter(fields)})
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    out = root / "public"
    assert (out / "rilis/2025/05" / slug / "index.html").is_file()
    assert (out / "tag" / slug / "index.html").is_file()
    assert (out / "penulis" / slug / "index.html").is_file()
    page = (out / "rilis/2025/05" / slug / "index.html").read_text()
    assert name.replace("'", "&#39;") in page


def test_emoji_and_rtl_titles_build(make_site):
    title = "Peluncuran 🚀 aplikasi ‏مرحبا‎ ✅"
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": front_matter({"title": title, "date": "2025-05-15 10:00", "byline": "[Rina]", "tags": "['🎉']"})})
    result = build_site(root)
    assert [(d.line, "no letters" in d.message) for d in result.errors] == [(5, True)]  # an emoji-only tag has no slug
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": front_matter({"title": title, "date": "2025-05-15 10:00", "byline": "[Rina]", "tags": "['🎉 HUT']"})})
    assert build_site(root).ok
    assert jsonld_of((root / "public/rilis/2025/05/a/index.html").read_text())["headline"] == title
    assert (root / "public/tag/hut/index.html").is_file()


@pytest.mark.parametrize("body", ["", "\n\n\n", "   ", "<!-- hanya komentar -->", "---", "# "])
def test_empty_bodies_build(make_site, body):
    text = "---\ntitle: Kosong\ndate: 2025-05-15 10:00\nbyline: [Rina]\n---\n" + body
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": text, "content/b.md": "---\ntitle: Tanpa baris akhir\nlayout: page\n---"})
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    assert "<h1>Kosong</h1>" in page
    assert (root / "public/b/index.html").is_file()


def five_megabytes_in_one_paragraph() -> str:
    """Prose pasted without blank lines, with the markup that makes Markdown slow: links,
    emphasis, code and brackets or parentheses that never close."""
    rng = random.Random(5)
    words = "pemerintah daerah kabupaten rapat koordinasi jaringan internet desa warga layanan publik anggaran".split()
    extras = [" **penting**", " [tautan](https://example.go.id/a)", " `kode`", " [catatan", " (lihat lampiran", " [[", " *miring*", " <span>x</span>"]
    parts, size, i = [], 0, 0
    while size < 5 * 1024 * 1024:
        i += 1
        sentence = " ".join(rng.choice(words) for _ in range(10)) + (extras[i % len(extras)] if i % 7 == 0 else "")
        sentence = sentence.capitalize() + ". "
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts) + "AKHIR-PARAGRAF-RAKSASA."


def test_a_five_megabyte_release_builds(tmp_path):
    root = tmp_path / "besar"
    (root / "content").mkdir(parents=True)
    (root / "kabargen.yaml").write_text(CONFIG)
    (root / "content/besar.md").write_text("---\ntitle: Laporan Besar\ndate: 2025-05-15 10:00\nbyline: [Rina]\n---\n" + five_megabytes_in_one_paragraph() + "\n")
    # Not a timing test: the bound only turns "hours" (quadratic paths) into a failure instead of a hang.
    result = subprocess.run([sys.executable, "-m", "kabargen", "build", "--source", str(root)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert re.search(r"content/besar\.md:6: warning: a paragraph of [\d,]+ characters was split", result.stderr)
    page = (root / "public/rilis/2025/05/besar/index.html").read_text()
    assert "AKHIR-PARAGRAF-RAKSASA." in page and page.count("<strong>penting</strong>") > 1000

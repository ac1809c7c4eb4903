"""Importing plain-text releases: parsing, resolving "Baca Juga", writing Markdown, building it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import build_site

from kabargen.importers.text import (
    ImportedRelease,
    escape_markdown,
    existing_titles,
    import_text,
    normalize_title,
    parse_text_release,
    resolve_related,
    to_markdown_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "import_text"
WITA = ZoneInfo("Asia/Makassar")

EXISTING_RELEASE = """\
---
title: Pasar Murah Ramadan Digelar di Tiga Kecamatan
date: 2025-03-10 09:00
byline: [{name: Rina Penulis}]
---
Pasar murah digelar di tiga kecamatan.
"""


def parse_fixture(name: str, default_date=None, **kwargs) -> ImportedRelease:
    text = (FIXTURES / name).read_bytes().decode("utf-8-sig")
    return parse_text_release(text, name, default_date, WITA, **kwargs)


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def messages(notes) -> str:
    return "\n".join(f"{line}: {msg}" for line, msg in notes)


# --- parsing ---------------------------------------------------------------------------------


def test_photographer_credit_editor_date_and_place_from_the_text():
    rel = parse_fixture("01-festival-perahu-hias.txt")
    assert rel.title == "Festival Perahu Hias Sungai Lembayung 2025 Resmi Dibuka"
    assert rel.byline == ({"name": "Nadia Puspitasari", "role": "Pranata Humas Ahli Pertama", "credit": ["penulis", "fotografer"]},)
    assert rel.editor == ({"name": "Hendra Wijayakusuma", "role": "Pranata Humas Ahli Muda"},)
    assert rel.date == datetime(2025, 6, 7, 9, 0, tzinfo=WITA)
    assert "no time given: 09:00 assumed" in messages(rel.report)
    assert rel.location == "Lembah Permai, Kabupaten Tanah Contoh"
    assert rel.related_titles == (("Rakor Internet Desa: Empat Puluh Desa Terhubung Tahun Ini", 8),)
    # Glued hashtags are split; the repeated one keeps its first spelling.
    assert rel.tags == ("FestivalLembayung", "tanahcontoh", "TanahContohBerbudaya", "PesonaSungai")
    assert "Baca Juga" not in rel.body_markdown and "#" not in rel.body_markdown
    assert "“Festival ini bukan hanya tontonan" in rel.body_markdown  # quotes kept as written
    assert rel.warnings == ()


def test_credit_lines_without_spaces_two_names_foto_redaktur_dateline_and_time():
    rel = parse_fixture("02-rakor-internet-desa.txt")
    assert rel.title == "Rakor Internet Desa: Empat Puluh Desa Terhubung Tahun Ini"
    assert rel.byline == (
        {"name": "Bayu Saputra", "role": None, "credit": ["penulis"]},
        {"name": "Laras Wening", "role": "Tenaga Ahli Peliputan", "credit": ["penulis"]},
        {"name": "Dimas Anggara", "role": None, "credit": ["fotografer"]},
    )
    assert rel.editor == ({"name": "Wulan Sari Dewi, S.Sos", "role": "Pranata Humas Ahli Madya"},)
    assert rel.location == "Lembah Permai"
    assert rel.date == datetime(2025, 6, 3, 13, 30, tzinfo=WITA)
    # The dateline went to `location`; the paragraph now starts with its first real word.
    assert rel.body_markdown.startswith("Dinas Komunikasi dan Informatika")
    assert "LEMBAH PERMAI" not in rel.body_markdown
    assert rel.tags == ("InternetDesa", "lembahpermai")


def test_reporter_penulis_dan_fotografer_two_editors_bom_and_crlf():
    raw = (FIXTURES / "03-pelatihan-umkm.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture really has both
    rel = parse_fixture("03-pelatihan-umkm.txt")
    assert rel.title == "Seratus Pelaku UMKM Ikuti Pelatihan Kemasan Produk"
    assert rel.byline == (
        {"name": "Siti Rahmawati", "role": None, "credit": ["penulis"]},
        {"name": "Agus Prasetyo", "role": "Fotografer Humas", "credit": ["penulis", "fotografer"]},
    )
    assert rel.editor == ({"name": "Yohana Kristanti", "role": None}, {"name": "Rahmat Hidayat", "role": None})
    assert rel.date == datetime(2025, 5, 12, 9, 0, tzinfo=WITA)
    assert rel.location == "Sungai Jernih"
    assert rel.tags == ("UMKMNaikKelas", "KemasanJuara")
    assert "\r" not in rel.body_markdown
    # What needs a human look is a warning on its line.
    warned = dict(rel.warnings)
    assert "hashtag line between paragraphs" in warned[8]
    assert "'Sumber :' is not a line kabargen recognises" in warned[9]


def test_no_date_in_the_text_uses_the_default_or_says_so():
    rel = parse_fixture("04-perpustakaan-keliling.txt")
    assert rel.title == "Jadwal Pelayanan Perpustakaan Keliling Diperpanjang"
    assert rel.date is None
    assert (0, "no date found: pass --date") in rel.warnings
    assert [p["name"] for p in rel.byline] == ["Made Suarjana", "Intan Permatasari"]

    rel = parse_fixture("04-perpustakaan-keliling.txt", default_date=datetime(2025, 7, 1, 8, 0))
    assert rel.date == datetime(2025, 7, 1, 8, 0, tzinfo=WITA)
    assert "2025-07-01 08:00 from --date" in messages(rel.report)
    assert not any("no date" in msg for _line, msg in rel.warnings)


@pytest.mark.parametrize(
    ("line", "credits", "names"),
    [
        ("Penulis & Photografer : A Satu (Jabatan)", ["penulis", "fotografer"], ["A Satu"]),
        ("PENULIS DAN FOTOGRAFER: A Satu", ["penulis", "fotografer"], ["A Satu"]),
        ("penulis :A Satu, B Dua & C Tiga", ["penulis"], ["A Satu", "B Dua", "C Tiga"]),
        ("Foto: A Satu dan B Dua (Fotografer, Humas dan Protokol)", ["fotografer"], ["A Satu", "B Dua"]),
        ("Reporter : A Satu", ["penulis"], ["A Satu"]),
        ("Penulis: A Satu | Foto: B Dua", None, ["A Satu", "B Dua"]),
    ],
)
def test_credit_line_variants(line, credits, names):
    rel = parse_text_release(f"Judul Rilis\n{line}\nIsi rilis pada 2 Juli 2025.\n", "x.txt", None, WITA)
    assert [p["name"] for p in rel.byline] == names
    if credits is not None:
        assert all(p["credit"] == credits for p in rel.byline)
    assert rel.title == "Judul Rilis" and rel.body_markdown == "Isi rilis pada 2 Juli 2025.\n"


def test_a_job_title_with_commas_and_dan_stays_one_role():
    rel = parse_text_release("Judul\nFoto : B Dua (Fotografer, Humas dan Protokol)\nIsi 2 Juli 2025.", "x", None, WITA)
    assert rel.byline == ({"name": "B Dua", "role": "Fotografer, Humas dan Protokol", "credit": ["fotografer"]},)


def test_a_photo_caption_is_not_a_credit_line():
    rel = parse_text_release("Judul\nPenulis : A Satu\nIsi 2 Juli 2025.\nFoto : suasana rapat di aula kantor bupati\n", "x", None, WITA)
    assert [p["name"] for p in rel.byline] == ["A Satu"]
    assert "Foto : suasana rapat" in rel.body_markdown
    assert any("credit line" in msg for _line, msg in rel.warnings)


def test_datelines_and_dates_in_other_shapes():
    rel = parse_text_release("Judul\nPenulis : A Satu\nBATU MERAH (Humas) – Isi rilis hari ini, Jumat (4/7/25).", "x", None, WITA)
    assert rel.location == "Batu Merah"
    assert rel.date == datetime(2025, 7, 4, 9, 0, tzinfo=WITA)
    assert rel.body_markdown.startswith("Isi rilis hari ini")

    rel = parse_text_release("Judul\nPenulis : A Satu\nRapat digelar 14 Agt 2025 pukul 10.15 WIB di Kantor Camat, Desa Suka Maju.", "x", None, WITA)
    assert rel.date == datetime(2025, 8, 14, 11, 15, tzinfo=WITA)  # 10.15 WIB is 11.15 WITA
    assert rel.location == "Desa Suka Maju"

    rel = parse_text_release("Judul\nPenulis : A Satu\nSamarinda, 15 Mei 2025 – Rapat digelar pukul 14.00 WIB di aula.", "x", None, WITA)
    assert (rel.location, rel.date) == ("Samarinda", datetime(2025, 5, 15, 15, 0, tzinfo=WITA))
    assert rel.body_markdown == "Rapat digelar pukul 14.00 WIB di aula.\n"


def test_a_wrong_weekday_or_impossible_date_is_reported():
    rel = parse_text_release("Judul\nPenulis : A Satu\nAcara pada Senin, 31 Februari 2025, lalu Senin, 3 Maret 2025 dan Rabu, 6 Maret 2025.", "x", None, WITA)
    assert rel.date == datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
    assert "'Senin, 31 Februari 2025' is not a real date" in messages(rel.report)
    rel = parse_text_release("Judul\nPenulis : A Satu\nAcara pada Rabu, 3 Maret 2025.", "x", None, WITA)
    assert "says Rabu but that day is a Senin" in messages(rel.warnings)


def test_a_first_line_that_is_a_paragraph_is_kept_and_flagged():
    first = "Dinas Pariwisata menggelar lomba foto wisata. " + "Lomba terbuka untuk umum dan berhadiah total dua puluh juta rupiah bagi tiga pemenang utama. " * 2
    rel = parse_text_release(f"Penulis : A Satu\n{first}\nParagraf kedua, 9 Juli 2025.", "x", None, WITA)
    assert rel.title == "Dinas Pariwisata menggelar lomba foto wisata"
    assert rel.body_markdown.startswith("Dinas Pariwisata menggelar lomba foto wisata. Lomba")
    assert "looks like a paragraph" in messages(rel.warnings)


def test_a_title_passed_in_keeps_the_first_line_in_the_body():
    rel = parse_text_release("Penulis : A Satu\nParagraf pertama 2 Juli 2025.\n", "x", None, WITA, title="Judul Lain")
    assert rel.title == "Judul Lain" and rel.body_markdown == "Paragraf pertama 2 Juli 2025.\n"


def test_markdown_specials_at_line_starts_stay_text():
    body = escape_markdown
    rendered = markdown.markdown(
        "\n\n".join(body(t) for t in ["1. Satu", "# bukan judul", "> kutipan", "- butir", "* butir", "+ butir", "---", "<b>tebal</b>", "a *b* c_d_ [[x]]"])
    )
    for tag in ("<ol", "<ul", "<h1", "<blockquote", "<hr", "<b>", "<em"):
        assert tag not in rendered
    for text in ("1. Satu", "# bukan judul", "&gt; kutipan", "- butir", "* butir", "+ butir", "---", "&lt;b&gt;tebal&lt;/b&gt;", "a *b* c_d_ [[x]]"):
        assert text in rendered


def test_hashtags_at_the_end_of_the_last_paragraph_become_tags():
    rel = parse_text_release("Judul\nPenulis : A Satu\nIsi 2 Juli 2025, kata dia. #SatuData #satudata#DesaDigital\n", "x", None, WITA)
    assert rel.tags == ("SatuData", "DesaDigital")
    assert rel.body_markdown == "Isi 2 Juli 2025, kata dia.\n"


LINES = st.sampled_from([
    "Penulis : A Satu (Humas)", "Foto:B Dua dan C Tiga", "Editor : D Empat", "Baca Juga : Judul Lain",
    "#satu #dua#tiga", "SAMARINDA – Isi", "Kamis, 15 Mei 2025 di Hotel X, Kota Y.", "(3/6/2025) pukul 25.99",
    "1. butir", "> kutip", "* b", "", "   ", "Sumber : Z", "“Kutipan,” ujarnya.", "no", "---", "<script>x</script>",
])


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_text_parses_and_writes_front_matter_that_loads_back(lines, newline):
    rel = parse_text_release(newline.join(lines), "x", datetime(2025, 1, 1, 8, 0), WITA)
    text = to_markdown_file(rel, "x")
    head = text[4:].split("\n---\n", 1)[0]
    meta = yaml.safe_load(head)
    assert meta["title"] == rel.title and meta["date"] == rel.date.strftime("%Y-%m-%d %H:%M")
    assert [p["name"] for p in meta["byline"]] == [p["name"] for p in rel.byline]


# --- resolving and writing ---------------------------------------------------------------


def test_normalized_titles_ignore_case_accents_and_punctuation():
    assert normalize_title("Pasar Murah  RAMADAN, digelar di Tiga Kecamatan!") == normalize_title("pasar murah ramadan digelar di tiga kecamatan")
    assert normalize_title("Café Jum'at") == "cafe jumat"


def test_related_to_a_later_release_or_a_draft_stays_a_note():
    older = parse_text_release("Rilis Lama\nPenulis : A Satu\nIsi 2 Juli 2025.\nBaca Juga : Rilis Baru\n", "a", None, WITA)
    newer = parse_text_release("Rilis Baru\nPenulis : A Satu\nIsi 9 Juli 2025.\nBaca Juga : Rilis Lama\nBaca Juga : Rancangan\n", "b", None, WITA)
    index = existing_titles(Path("/nonexistent"))
    index.drafts[normalize_title("Rancangan")] = "rancangan"
    old, new = resolve_related([older, newer], index)
    assert old.related == () and "Baca Juga: Rilis Baru" in old.body_markdown
    assert "published after this release" in messages(old.warnings)
    assert new.related == ("rilis-lama",)
    assert "matches the draft 'rancangan'" in messages(new.warnings)


def test_front_matter_keeps_tricky_titles_and_tags_as_text():
    for title in ("no", "2025", "Rakor: Hasil dan Tindak Lanjut", "#1 di Kaltim", "“Kutipan” - null"):
        rel = ImportedRelease(
            name="x", title=title, date=datetime(2025, 5, 15, 10, 0, tzinfo=WITA), location="on",
            byline=({"name": "yes", "role": None, "credit": ["penulis"]},), editor=(), tags=("no", "2025"),
            related_titles=(), body_markdown="Isi.\n", report=(),
        )
        text = to_markdown_file(rel, "x")
        head, body = text[4:].split("\n---\n", 1)
        meta = yaml.safe_load(head)
        assert meta == {
            "title": title, "date": "2025-05-15 10:00", "location": "on",
            "byline": [{"name": "yes", "credit": ["penulis"]}], "tags": ["no", "2025"],
        }
        assert list(meta) == ["title", "date", "location", "byline", "tags"]
        assert body == "Isi.\n"


def test_existing_titles_reads_the_site_and_notes_broken_files(tmp_path):
    content = tmp_path / "content"
    (content / "rilis").mkdir(parents=True)
    (content / "rilis" / "pasar-murah.md").write_text(EXISTING_RELEASE, encoding="utf-8")
    (content / "rilis" / "rusak.md").write_text("---\ntitle: [tidak ditutup\n---\nIsi\n", encoding="utf-8")
    (content / "rilis" / "dengan-slug.md").write_text("---\ntitle: 'no'\nslug: Khusus\ndate: 2025-01-02\n---\n", encoding="utf-8")
    index = existing_titles(content)
    assert dict(index) == {normalize_title(EXISTING_RELEASE.splitlines()[1][7:]): "pasar-murah", "no": "Khusus"}
    assert {"pasar-murah", "rusak", "khusus", "dengan-slug"} <= index.slugs
    assert [(p.name, msg.startswith("invalid YAML")) for p, _line, msg in index.notes] == [("rusak.md", True)]


# --- import_text: files to a site ------------------------------------------------------------


def site_with_existing(tmp_path: Path) -> Path:
    content = tmp_path / "site" / "content"
    (content / "rilis" / "2025" / "03").mkdir(parents=True)
    (content / "rilis" / "2025" / "03" / "pasar-murah-ramadan.md").write_text(EXISTING_RELEASE, encoding="utf-8")
    return content


def test_import_a_folder_writes_one_markdown_file_per_release(tmp_path):
    content = site_with_existing(tmp_path)
    into = content / "rilis"
    entries = import_text([FIXTURES], into, content, datetime(2025, 7, 1, 8, 0), WITA)
    assert [e.source.name for e in entries] == sorted(p.name for p in FIXTURES.glob("*.txt"))
    written = {e.source.name: e.written for e in entries}
    assert written["01-festival-perahu-hias.txt"] == into / "2025/06/festival-perahu-hias-sungai-lembayung-2025-resmi-dibuka.md"
    assert written["02-rakor-internet-desa.txt"] == into / "2025/06/rakor-internet-desa-empat-puluh-desa-terhubung-tahun-ini.md"
    assert written["03-pelatihan-umkm.txt"] == into / "2025/05/seratus-pelaku-umkm-ikuti-pelatihan-kemasan-produk.md"
    assert written["04-perpustakaan-keliling.txt"] == into / "2025/07/jadwal-pelayanan-perpustakaan-keliling-diperpanjang.md"

    festival, body = front_matter(written["01-festival-perahu-hias.txt"])
    assert festival == {
        "title": "Festival Perahu Hias Sungai Lembayung 2025 Resmi Dibuka",
        "date": "2025-06-07 09:00",
        "location": "Lembah Permai, Kabupaten Tanah Contoh",
        "byline": [{"name": "Nadia Puspitasari", "role": "Pranata Humas Ahli Pertama", "credit": ["penulis", "fotografer"]}],
        "editor": {"name": "Hendra Wijayakusuma", "role": "Pranata Humas Ahli Muda"},
        "tags": ["FestivalLembayung", "tanahcontoh", "TanahContohBerbudaya", "PesonaSungai"],
        "related": ["rakor-internet-desa-empat-puluh-desa-terhubung-tahun-ini"],  # imported in the same run
    }
    assert "1\\. Keindahan hiasan perahu" in body

    rakor, body = front_matter(written["02-rakor-internet-desa.txt"])
    assert rakor["title"] == "Rakor Internet Desa: Empat Puluh Desa Terhubung Tahun Ini"
    assert rakor["date"] == "2025-06-03 13:30"
    assert rakor["editor"] == {"name": "Wulan Sari Dewi, S.Sos", "role": "Pranata Humas Ahli Madya"}
    assert "related" not in rakor
    # The unresolved one stays where it was, as plain text, and is a warning on its line.
    paragraphs = body.strip().split("\n\n")
    assert paragraphs[2] == "Baca Juga: Peluncuran Aplikasi Lapor Jalan Rusak Tahap Kedua"
    entry = entries[1]
    assert [line for line, msg in entry.warnings if "Peluncuran Aplikasi" in msg] == [8]

    umkm, _body = front_matter(written["03-pelatihan-umkm.txt"])
    assert umkm["related"] == ["pasar-murah-ramadan"]  # already in the site, matched without case or "!"
    assert umkm["editor"] == [{"name": "Yohana Kristanti"}, {"name": "Rahmat Hidayat"}]
    assert umkm["byline"][0] == {"name": "Siti Rahmawati", "credit": ["penulis"]}

    library, _body = front_matter(written["04-perpustakaan-keliling.txt"])
    assert library["date"] == "2025-07-01 08:00" and "location" not in library
    assert any("from --date" in msg for _line, msg in entries[3].notes)


def test_import_never_overwrites_and_skips_files_without_a_date(tmp_path):
    content = site_with_existing(tmp_path)
    into = content / "rilis"
    one = FIXTURES / "02-rakor-internet-desa.txt"
    first = import_text([one], into, content, None, WITA)
    before = first[0].written.read_bytes()
    second = import_text([one], into, content, None, WITA)
    assert second[0].written.name == "rakor-internet-desa-empat-puluh-desa-terhubung-tahun-ini-2.md"
    assert first[0].written.read_bytes() == before
    assert any("is taken" in msg for _line, msg in second[0].notes)

    dateless = import_text([FIXTURES / "04-perpustakaan-keliling.txt"], into, content, None, WITA)
    assert dateless[0].written is None and not dateless[0].ok
    assert dateless[0].errors == ((0, "no date found: pass --date"),)
    assert not list(into.rglob("jadwal-*.md"))
    assert [d.format() for d in dateless[0].diagnostics() if d.severity == "error"] == [
        f"{dateless[0].diagnostics()[0].path}: error: no date found: pass --date"
    ]


def test_missing_paths_and_an_into_folder_outside_content(tmp_path):
    content = site_with_existing(tmp_path)
    entries = import_text([tmp_path / "tidak-ada.txt"], content / "rilis", content, None, WITA)
    assert entries[0].errors == ((0, "no such file or folder"),)
    from kabargen.errors import UsageError

    with pytest.raises(UsageError):
        import_text([FIXTURES], tmp_path / "elsewhere", content, None, WITA)


def test_imported_releases_build_with_byline_editor_tags_and_read_also_links(tmp_path, make_site):
    root = make_site({"content/rilis/2025/03/pasar-murah-ramadan.md": EXISTING_RELEASE}, root=tmp_path / "site")
    folder = tmp_path / "teks"
    shutil.copytree(FIXTURES, folder)
    entries = import_text([folder], root / "content" / "rilis", root / "content", datetime(2025, 7, 1, 8, 0), WITA)
    assert all(e.ok for e in entries)

    result = build_site(root)
    assert result.ok, [d.format() for d in result.errors]
    festival = (root / "public/rilis/2025/06/festival-perahu-hias-sungai-lembayung-2025-resmi-dibuka/index.html").read_text(encoding="utf-8")
    for text in ("Nadia Puspitasari", "Hendra Wijayakusuma", "FestivalLembayung", "Lembah Permai"):
        assert text in festival
    assert 'href="/rilis/2025/06/rakor-internet-desa-empat-puluh-desa-terhubung-tahun-ini/"' in festival.replace("https://pers.example.go.id", "")
    umkm = (root / "public/rilis/2025/05/seratus-pelaku-umkm-ikuti-pelatihan-kemasan-produk/index.html").read_text(encoding="utf-8")
    assert 'href="/rilis/2025/03/pasar-murah-ramadan/"' in umkm.replace("https://pers.example.go.id", "")
    assert "<ol" not in festival.split("Panitia menetapkan", 1)[1].split("Pemenang", 1)[0]

"""Reading files: encodings, line endings, front matter and YAML safety."""

import time

from kabargen.sources import ignored, parse_source, scan_content

GOOD = "---\ntitle: Judul\ndate: 2025-05-15 10:00\ntags: [no, on, 2025]\n---\nIsi.\n"


def test_plain_front_matter_keeps_scalars_as_written():
    source, problems = parse_source(GOOD.encode(), "a.md", "a.md")
    assert problems == []
    assert source.meta["tags"] == ["no", "on", "2025"]
    assert source.meta["date"] == "2025-05-15 10:00"
    assert source.line("tags.2") == 4
    assert source.body.strip() == "Isi."
    assert source.body_line == 6


def test_bom_and_crlf_read_like_plain_utf8():
    raw = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    source, problems = parse_source(raw, "a.md", "a.md")
    assert problems == []
    assert source.meta["title"] == "Judul"
    assert "\r" not in source.body


def test_invalid_utf8_reports_its_line():
    raw = GOOD.encode().replace(b"Isi.", b"Isi \xff rusak.")
    source, problems = parse_source(raw, "a.md", "a.md")
    assert source is None
    assert problems[0].line == 6 and "UTF-8" in problems[0].message


def test_missing_and_unclosed_front_matter():
    _, problems = parse_source(b"Hanya teks.\n", "a.md", "a.md")
    assert "missing front matter" in problems[0].message
    _, problems = parse_source(b"---\ntitle: x\nIsi\n", "a.md", "a.md")
    assert "not closed" in problems[0].message


def test_yaml_error_has_the_line_of_the_problem():
    raw = b"---\ntitle: Judul\ndate: 2025-05-15\nbyline: [a, b\ntags: x\n---\n"
    _, problems = parse_source(raw, "a.md", "a.md")
    assert problems[0].path == "a.md"
    assert problems[0].line in (4, 5, 6)
    assert "invalid YAML" in problems[0].message


def test_python_tags_construct_nothing():
    raw = b"---\ntitle: !!python/object/apply:os.system [echo hacked]\n---\n"
    _, problems = parse_source(raw, "a.md", "a.md")
    assert problems and "not allowed" in problems[0].message and problems[0].line == 2


def test_alias_bomb_fails_fast():
    bomb = ["---", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    bomb += ["title: x", "---", ""]
    started = time.monotonic()
    _, problems = parse_source("\n".join(bomb).encode(), "a.md", "a.md")
    assert time.monotonic() - started < 5  # a generous bound: expanding it would take hours
    assert problems and "alias" in problems[0].message


def test_duplicate_key_is_an_error_with_line():
    _, problems = parse_source(b"---\ntitle: a\ntitle: b\n---\n", "a.md", "a.md")
    assert problems[0].line == 3 and "duplicate" in problems[0].message


def test_editor_leftovers_are_ignored(make_site):
    root = make_site({
        "content/a.md": GOOD,
        "content/a.md~": "x",
        "content/.a.md.swp": "x",
        "content/#a.md#": "x",
        "content/.DS_Store": "x",
        "content/4913": "x",
        "content/media/foto.jpg": b"\xff\xd8",
    })
    scan = scan_content(root)
    assert [s.rel for s in scan.sources] == ["a.md"]
    assert [rel for _, rel in scan.files] == ["media/foto.jpg"]
    assert ignored("Thumbs.db") and not ignored("foto.jpg")


def test_symlink_leaving_the_site_is_not_followed(make_site, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("rahasia")
    root = make_site({"content/a.md": GOOD})
    (root / "content" / "link").symlink_to(outside)
    scan = scan_content(root)
    assert all("secret" not in rel for _, rel in scan.files)
    assert any("outside the site" in d.message for d in scan.diagnostics)

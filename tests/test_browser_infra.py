"""The browser and validator helpers find real problems and pass clean pages, so a green page check means something."""

from __future__ import annotations

import struct
import urllib.error
import urllib.request

import pytest

import browser as helpers
from browser import WIDTHS, axe_violations, format_violations, launch_browser, serve_directory, vnu_errors
from httpcrawl import serve

CLEAN = """\
<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rilis bersih</title>
<style>body { color: #1a1a1a; background: #fff; font-family: sans-serif; }</style>
</head>
<body>
<a href="#isi">Langsung ke isi</a>
<header><p>Dinas Komunikasi dan Informatika</p></header>
<main id="isi">
<h1>Jembatan desa selesai dibangun</h1>
<p>Warga kini dapat menyeberang sungai sepanjang tahun.</p>
<img src="foto.png" alt="Jembatan baru di atas sungai" width="4" height="3" loading="lazy">
</main>
<footer><p>Hak cipta pemerintah kabupaten</p></footer>
</body>
</html>
"""

# No lang, an image without alt, pale grey text on white, a stray </p>, a duplicate id.
BROKEN = """\
<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Rilis rusak</title></head>
<body>
<main>
<h1>Judul</h1>
<p style="color: #c8c8c8; background: #fff">Teks terlalu pucat untuk dibaca.</p>
<img src="foto.png">
<div>blok</p></div>
<span id="x">a</span><span id="x">b</span>
</main>
</body>
</html>
"""

# A 4x3 grey PNG, so the pages load their image without a 404.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000040000000308020000003b963991"
    "0000000e4944415478da636840020c3839005f361201931b52dd0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("infra") / "public"
    for folder in (root, root / "rilis", root / "berita-ü"):
        folder.mkdir(parents=True)
        (folder / "foto.png").write_bytes(PNG)
    (root / "index.html").write_text(CLEAN, encoding="utf-8")
    (root / "rilis" / "rusak.html").write_text(BROKEN, encoding="utf-8")
    # Without a UTF-8 locale Java cannot open such a file, and vnu would pass it over in silence.
    (root / "berita-ü" / "rilis-ä.html").write_text(BROKEN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def vnu_report(pages):
    """One checker run over the whole folder, as page tests should do (each JVM start costs seconds)."""
    return vnu_errors([pages])


@pytest.fixture(scope="module")
def chromium():
    with launch_browser() as b:
        yield b


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_serve_directory_under_a_prefix(pages):
    with serve_directory(pages, "/siaran-pers/") as base:
        assert base.startswith("http://127.0.0.1:") and base.endswith("/siaran-pers/")
        status, body = get(base)
        assert status == 200 and b"Jembatan desa" in body
        assert get(base + "rilis/rusak.html")[0] == 200
        assert get(base.replace("/siaran-pers/", "/index.html"))[0] == 404
    # Stopped on exit: nothing answers any more.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base, timeout=5)


@pytest.mark.parametrize("width", WIDTHS.values())
def test_axe_passes_a_clean_page(pages, chromium, width):
    with serve_directory(pages) as base:
        page = chromium.new_page(viewport={"width": width, "height": 800})
        page.goto(base)
        violations = axe_violations(page)
        page.close()
    assert violations == [], format_violations(violations)


def test_axe_reports_violations(pages, chromium):
    with serve_directory(pages) as base:
        page = chromium.new_page()
        page.goto(base + "rilis/rusak.html")
        violations = axe_violations(page)
        page.close()
    found = {v["id"]: v for v in violations}
    assert {"html-has-lang", "image-alt", "color-contrast"} <= set(found), format_violations(violations)
    assert found["image-alt"]["targets"] == ["img"]
    assert found["image-alt"]["impact"] == "critical"


def test_axe_runs_under_a_strict_content_security_policy(pages, chromium):
    # The published site may be served with default-src 'none': the checker must still get in.
    with serve(pages, "/", headers={"Content-Security-Policy": "default-src 'none'; img-src 'self'"}) as base:
        page = chromium.new_page()
        page.goto(base + "rilis/rusak.html")
        assert "image-alt" in {v["id"] for v in axe_violations(page)}
        page.close()


def test_screenshot_at_phone_width(pages, chromium, tmp_path):
    with serve_directory(pages) as base:
        page = chromium.new_page(viewport={"width": WIDTHS["mobile"], "height": 800})
        page.goto(base)
        shot = tmp_path / "index-mobile.png"
        page.screenshot(path=shot, full_page=True)
        # Fonts are there: the heading's text is laid out with a real size.
        box = page.locator("h1").bounding_box()
        page.close()
    data = shot.read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and width == WIDTHS["mobile"] and height >= 800
    assert box["height"] > 10 and box["width"] > 100


def test_vnu_passes_a_clean_page(pages, vnu_report):
    assert [e for e in vnu_report if e[0] == str((pages / "index.html").resolve())] == []


def test_vnu_reports_errors_with_lines(pages, vnu_report):
    files = {path for path, _, _ in vnu_report}
    assert files == {str((pages / "rilis" / "rusak.html").resolve()), str((pages / "berita-ü" / "rilis-ä.html").resolve())}
    messages = {(line, message) for path, line, message in vnu_report if path.endswith("rusak.html")}
    assert any(line == 8 and "alt" in message for line, message in messages), messages
    assert any(line == 9 and "“p”" in message for line, message in messages), messages
    assert any(line == 10 and "Duplicate ID" in message for line, message in messages), messages


def test_vnu_refuses_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        vnu_errors([tmp_path / "tidak-ada.html"])


def test_missing_tool_skips_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(helpers, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        helpers.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        helpers.require_chromium()

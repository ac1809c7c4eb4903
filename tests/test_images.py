"""Photos: resized copies, metadata removed, credits, social cards, cache and bad files.

Every photo here is made with Pillow while the test runs: a JPEG carrying GPS tags, a
camera serial and an orientation flag, a PNG with transparency, a truncated JPEG, a text
file named .jpg and a PNG whose header claims 20000x20000 pixels.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import build_site, read_tree, release, run_cli
from kabargen.config import load_config
from kabargen.errors import ConfigError
from kabargen.images import CACHE_DIR, plan_widths

SERIAL = "SN98765432"
CAMERA = "KameraUjiPers"
# Search off: Pagefind's own index is not byte-identical between two cold runs (docs/search.md),
# and these tests compare whole output folders.
CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nsearch: false\n"


def photo(width=2000, height=1333, color=(40, 110, 160), fmt="JPEG", orientation=None, gps=False, mark=True) -> bytes:
    """A photo-like picture; with `mark` a red block in its stored top-left corner."""
    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 97):
        draw.line([(x, 0), (x + height // 3, height)], fill=(200, 180, 60), width=5)
    if mark:
        draw.rectangle([0, 0, width // 5, height // 5], fill=(255, 0, 0))
    out = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    if orientation or gps:
        exif = Image.Exif()
        exif[0x010F] = CAMERA  # Make
        exif[0x0110] = "Model X1"
        exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
        if orientation:
            exif[0x0112] = orientation
        if gps:
            position = exif.get_ifd(0x8825)
            position.update({1: "S", 2: (0.0, 30.0, 15.5), 3: "E", 4: (117.0, 9.0, 0.0)})
        options["exif"] = exif
        if fmt == "JPEG":
            options["comment"] = f"Kamera {SERIAL}".encode()
    image.save(out, fmt, **options)
    return out.getvalue()


def transparent_png(width=1000, height=800) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([100, 100, width - 100, height - 100], fill=(11, 79, 138, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG of a few bytes whose header claims WIDTHxHEIGHT pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def opened(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def variants(out: Path, stem: str) -> dict[str, Path]:
    """Published copies of one photo by file name ending: {"480.webp": path, "card.jpg": path, ...}."""
    found = {}
    for path in sorted((out / "media/_v").glob(f"{stem}-*")):
        match = re.fullmatch(rf"{re.escape(stem)}-[0-9a-f]{{8}}-(.+)", path.name)
        assert match, path.name
        found[match.group(1)] = path
    return found


def lead(src="media/rapat.jpg", alt="Peserta rapat di aula", caption="Pembukaan rapat", extra="") -> str:
    return f"{{src: {src}, alt: {alt}, caption: {caption}{extra}}}"


@pytest.fixture
def photo_site(make_site):
    """A release with a lead photo, a body photo and a list of releases, all built once."""
    root = make_site({
        "kabargen.yaml": CONFIG + "organization: {name: Diskominfo Uji, logo: media/logo.png}\n",
        "content/media/rapat.jpg": photo(2000, 1333, gps=True, orientation=1),
        "content/media/kecil.jpg": photo(700, 500, color=(90, 140, 60)),
        "content/media/logo.png": transparent_png(300, 300),
        "content/rilis/rapat.md": release(
            title="Rapat Koordinasi", image=lead(), tags="[koordinasi]",
            body="Paragraf pembuka.\n\n![Kader menimbang balita](../media/kecil.jpg \"Penimbangan\"){: .lebar }\n\nPenutup.",
        ),
        "content/rilis/tanpa-foto.md": release(title="Rilis Tanpa Foto", date="2025-05-14 10:00"),
    })
    result = build_site(root)
    assert result.ok, result.diagnostics
    return root, result


def test_widths_are_never_wider_than_the_photo():
    assert plan_widths(4000, (480, 960, 1600)) == [480, 960, 1600]
    assert plan_widths(1200, (480, 960, 1600)) == [480, 960, 1200]
    assert plan_widths(960, (480, 960, 1600)) == [480, 960]
    assert plan_widths(300, (480, 960, 1600)) == [300]


def test_copies_in_every_width_and_format_and_no_upscaling(photo_site):
    root, result = photo_site
    out = root / "public"
    lead_files = variants(out, "rapat")
    assert sorted(lead_files) == sorted(["480.webp", "480.jpg", "960.webp", "960.jpg", "1600.webp", "1600.jpg", "card.jpg"])
    for name, path in lead_files.items():
        image = opened(path)
        expected = {"webp": "WEBP", "jpg": "JPEG"}[name.rsplit(".", 1)[1]]
        assert image.format == expected
        if name != "card.jpg":
            width = int(name.split(".")[0])
            assert image.size == (width, round(1333 * width / 2000))
    # A 700-pixel photo gets copies up to its own width, never wider.
    body_files = variants(out, "kecil")
    assert sorted(body_files) == sorted(["480.webp", "480.jpg", "700.webp", "700.jpg"])
    assert opened(body_files["700.jpg"]).size == (700, 500)
    # Originals are not published unless the config says so.
    assert not (out / "media/rapat.jpg").exists() and not (out / "media/kecil.jpg").exists()
    # The logo is copied as it was, and made into a card.
    assert (out / "media/logo.png").read_bytes() == (root / "content/media/logo.png").read_bytes()
    assert result.images.photos == 2 and result.images.processed == 2


def test_metadata_removed_but_orientation_applied(make_site):
    # Stored 1800x1000 with orientation 6: the camera was turned, the photo is shown 1000x1800.
    root = make_site({
        "content/media/tegak.jpg": photo(1800, 1000, orientation=6, gps=True),
        "content/rilis/a.md": release(image=lead("media/tegak.jpg"), body="Isi.\n\n![Foto tegak](../media/tegak.jpg)"),
        "kabargen.yaml": CONFIG + "images: {publish_originals: true}\n",
    })
    assert build_site(root).ok
    out = root / "public"
    files = variants(out, "tegak")
    assert sorted(files) == sorted(["480.webp", "480.jpg", "960.webp", "960.jpg", "1000.webp", "1000.jpg", "card.jpg"])
    published = list(files.values()) + [out / "media/tegak.jpg"]
    for path in published:
        data = path.read_bytes()
        image = opened(path)
        assert SERIAL.encode() not in data and CAMERA.encode() not in data, path.name
        assert b"Exif" not in data and b"GPS" not in data, path.name
        assert len(image.getexif()) == 0, path.name
        assert "comment" not in image.info and "xmp" not in image.info, path.name
        if path.name.endswith("card.jpg"):
            assert image.size == (1200, 630)
            continue
        # Upright: taller than wide, and the red block of the stored top-left is now top-right.
        assert image.height > image.width, path.name
        red, green, blue = image.convert("RGB").getpixel((image.width - 3, 3))
        assert red > 200 and green < 60 and blue < 60, (path.name, red, green, blue)
    assert opened(out / "media/tegak.jpg").size == (1000, 1800)


def test_png_with_transparency_falls_back_to_png(make_site):
    root = make_site({
        "content/media/ikon.png": transparent_png(1000, 800),
        "content/rilis/a.md": release(image=lead("media/ikon.png")),
    })
    assert build_site(root).ok
    files = variants(root / "public", "ikon")
    assert sorted(files) == sorted(["480.webp", "480.png", "960.webp", "960.png", "1000.webp", "1000.png", "card.jpg"])
    assert opened(files["480.png"]).mode == "RGBA" and opened(files["480.webp"]).mode == "RGBA"
    assert opened(files["960.png"]).getpixel((0, 0))[3] == 0  # the corner stays transparent
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    assert 'type="image/webp"' in page and "-1000.png 1000w" in page


def test_html_has_picture_srcset_sizes_width_height(photo_site):
    root, _ = photo_site
    out = root / "public"
    page = (out / "rilis/2025/05/rapat/index.html").read_text()
    figure = page[page.index('<figure class="lead-image">'):page.index("</figure>")]
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', figure)
    assert webp, figure
    assert [c.split()[1] for c in webp.group(1).split(", ")] == ["480w", "960w", "1600w"]
    img = re.search(r"<img [^>]+>", figure).group(0)
    assert 'width="1600" height="1066"' in img or 'width="1600" height="1067"' in img
    assert 'alt="Peserta rapat di aula"' in img and 'srcset="/media/_v/rapat-' in img and "sizes=" in img
    assert 'loading="lazy"' not in img  # the lead image is at the top: loaded at once
    # The body image: a lazy <picture>, alt, title and class kept, nothing else from the author.
    body = page[page.index('<div class="body">'):]
    body_img = re.search(r'<img [^>]*alt="Kader menimbang balita"[^>]*>', body).group(0)
    assert 'loading="lazy"' in body_img and 'width="700" height="500"' in body_img
    assert 'title="Penimbangan"' in body_img and 'class="lebar"' in body_img
    assert "kecil.jpg" not in page  # no link to the original, which is not published
    # Every URL in every srcset exists.
    for url in re.findall(r'(/media/_v/[^" ,]+)', page):
        assert (out / url.lstrip("/")).is_file(), url


def test_list_thumbnails_use_the_small_copy(photo_site):
    root, _ = photo_site
    home = (root / "public/index.html").read_text()
    thumb = re.search(r'<picture>(?:(?!</picture>).)*class="thumb".*?</picture>', home, re.S).group(0)
    assert re.search(r'srcset="/media/_v/rapat-[0-9a-f]{8}-480\.webp"', thumb)
    assert re.search(r'src="/media/_v/rapat-[0-9a-f]{8}-480\.jpg" width="480" height="320"', thumb)
    assert 'loading="lazy"' in thumb and "1600" not in thumb
    for page in ["tag/koordinasi/index.html", "penulis/rina-penulis/index.html", "arsip/2025/index.html"]:
        text = (root / "public" / page).read_text()
        assert re.search(r'<source type="image/webp" srcset="/media/_v/rapat-[0-9a-f]{8}-480\.webp">\s*<img class="thumb"', text), page


def test_photo_credit_defaults_to_the_fotografer(make_site):
    root = make_site({
        "content/media/a.jpg": photo(800, 600),
        "content/rilis/a.md": release(
            title="A", image=lead("media/a.jpg", caption="Bupati membuka acara"),
            byline="[{name: Rina Penulis, credit: [penulis]}, {name: Budi Lensa, credit: [fotografer]}]",
        ),
        "content/rilis/b.md": release(title="B", slug="b", image=lead("media/a.jpg", caption="Suasana", extra=", credit: Humas Provinsi")),
    })
    assert build_site(root).ok
    assert caption(root / "public/rilis/2025/05/a/index.html") == "Bupati membuka acara Foto: Budi Lensa"
    assert caption(root / "public/rilis/2025/05/b/index.html") == "Suasana Foto: Humas Provinsi"


def caption(page: Path) -> str:
    """The lead image's caption as a reader sees it (tags and brackets aside)."""
    figcaption = re.search(r"<figcaption>(.*?)</figcaption>", page.read_text(), re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>|[()]", " ", figcaption).split())


def test_social_card_is_a_1200x630_crop_with_absolute_url(photo_site):
    root, _ = photo_site
    out = root / "public"
    page = (out / "rilis/2025/05/rapat/index.html").read_text()
    meta = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):image[^"]*)" content="([^"]*)">', page))
    assert re.fullmatch(r"https://pers\.example\.go\.id/media/_v/rapat-[0-9a-f]{8}-card\.jpg", meta["og:image"])
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    assert meta["og:image:alt"] == "Peserta rapat di aula" and meta["twitter:image"] == meta["og:image"]
    card = opened(out / meta["og:image"].split("pers.example.go.id/")[1])
    assert card.size == (1200, 630) and card.format == "JPEG"
    # Without a lead photo: the organization logo, padded onto a card of the same size.
    for rel in ["rilis/2025/05/tanpa-foto/index.html", "index.html"]:
        other = (out / rel).read_text()
        url = re.search(r'<meta property="og:image" content="([^"]+)">', other).group(1)
        assert re.fullmatch(r"https://pers\.example\.go\.id/media/_v/logo-[0-9a-f]{8}-card\.png", url), rel
        assert 'property="og:image:width" content="1200"' in other and 'og:image:alt" content="Diskominfo Uji"' in other
    logo_card = opened(out / url.split("pers.example.go.id/")[1])
    assert logo_card.size == (1200, 630)
    assert logo_card.convert("RGB").getpixel((5, 5)) == (255, 255, 255)  # padding around the logo
    assert logo_card.convert("RGB").getpixel((600, 315)) != (255, 255, 255)  # the logo in the middle


def test_rebuild_with_unchanged_photos_does_no_image_work(photo_site):
    root, first = photo_site
    before = read_tree(root / "public")
    second = build_site(root)
    assert second.ok
    assert (second.images.processed, second.images.cached) == (0, 2)
    assert read_tree(root / "public") == before
    # A warm build equals a cold one, byte for byte.
    shutil.rmtree(root / CACHE_DIR)
    cold = build_site(root, output=root / "cold")
    assert cold.images.processed == 2 and read_tree(root / "cold") == before
    # Changing one photo redoes that photo only.
    (root / "content/media/kecil.jpg").write_bytes(photo(700, 500, color=(10, 10, 200)))
    third = build_site(root)
    assert (third.images.processed, third.images.cached) == (1, 1)


def test_corrupt_cache_entries_are_made_again(photo_site):
    root, _ = photo_site
    before = read_tree(root / "public")
    for path in (root / CACHE_DIR).rglob("*.webp"):
        path.write_bytes(path.read_bytes()[:10])
    for path in (root / CACHE_DIR).rglob("meta.json"):
        if "card" in path.parent.joinpath("meta.json").read_text():
            path.write_text("{not json")
    again = build_site(root)
    assert again.ok and again.images.processed == 2
    assert read_tree(root / "public") == before


def test_same_bytes_across_runs_and_worker_counts(make_site, tmp_path):
    files = {
        "kabargen.yaml": CONFIG,
        "content/media/a.jpg": photo(1700, 1100, gps=True),
        "content/media/b.png": transparent_png(600, 400),
        "content/media/c.jpg": photo(1000, 1500, color=(120, 60, 60), orientation=8),
        "content/rilis/a.md": release(title="A", image=lead("media/a.jpg"), body="![b](../media/b.png)"),
        "content/rilis/c.md": release(title="C", image=lead("media/c.jpg")),
    }
    one = make_site(files, root=tmp_path / "one")
    two = make_site(files, root=tmp_path / "two")
    assert run_cli("build", "--source", str(one), "--jobs", "1").returncode == 0
    result = run_cli("build", "--source", str(two), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert "Photos: 3 (3 resized, 0 from the cache)" in result.stdout
    assert read_tree(one / "public") == read_tree(two / "public")


BAD_IMAGES = {
    "terpotong.jpg": lambda: photo(1200, 800)[:5000],
    "teks.jpg": lambda: b"Ini bukan foto, hanya teks yang diberi nama .jpg\n",
    "bom.png": lambda: png_header(20000, 20000),
    "besar.png": lambda: png_header(12000, 10000),
}


def test_bad_images_are_errors_at_the_line_that_uses_them(make_site):
    files = {"content/media/baik.jpg": photo(800, 600), "content/rilis/baik.md": release(title="Baik", image=lead("media/baik.jpg"))}
    root = make_site(files)
    assert build_site(root).ok
    before = read_tree(root / "public")
    for name, make in BAD_IMAGES.items():
        files[f"content/media/{name}"] = make()
    files["content/rilis/lead.md"] = release(title="Lead", image=lead("media/terpotong.jpg"))  # image on line 4
    files["content/rilis/badan.md"] = release(
        title="Badan", body="Satu.\n\n![Teks](../media/teks.jpg)\n\nDua.\n\n![Bom](/media/bom.png)\n\n![Besar](/media/besar.png)",
    )
    make_site(files, root)
    result = run_cli("build", "--source", str(root))
    assert result.returncode == 1
    lines = [line.split(root.name + "/", 1)[-1] for line in result.stderr.splitlines()]
    assert any(line.startswith("content/rilis/lead.md:4: error: image 'media/terpotong.jpg' is damaged or cut short (") for line in lines), result.stderr
    assert "content/rilis/badan.md:8: error: image 'media/teks.jpg' is not an image kabargen can read (JPEG, PNG or WebP): is it another kind of file renamed?" in lines
    assert "content/rilis/badan.md:12: error: image 'media/bom.png' is 400 megapixels, more than the limit of 100 megapixels: resize it before publishing" in lines
    assert "content/rilis/badan.md:14: error: image 'media/besar.png' is 12000x10000 pixels (120 megapixels), more than the limit of 100 megapixels: resize it before publishing" in lines
    assert "Traceback" not in result.stderr
    assert read_tree(root / "public") == before  # the output was not touched
    check = run_cli("check", "--source", str(root))
    assert check.returncode == 1 and "media/bom.png' is 400 megapixels" in check.stderr


def test_check_writes_no_cache(make_site):
    root = make_site({"content/media/a.jpg": photo(900, 600), "content/rilis/a.md": release(image=lead("media/a.jpg"))})
    result = run_cli("check", "--source", str(root))
    assert result.returncode == 0, result.stderr
    assert not (root / ".kabargen-cache").exists() and not (root / "public").exists()


def test_hidden_releases_photos_are_not_processed(make_site):
    root = make_site({
        "content/media/rahasia.jpg": photo(900, 600),
        "content/rilis/a.md": release(title="Terbit"),
        "content/rilis/b.md": release(title="Draf", draft="true", image=lead("media/rahasia.jpg"), body="![x](../media/rahasia.jpg)"),
    })
    result = build_site(root)
    assert result.ok and result.images.photos == 0
    assert not (root / "public/media").exists()


def test_linked_photos_are_published_cleaned_and_other_formats_as_they_are(make_site):
    gif = io.BytesIO()
    Image.new("P", (40, 30)).save(gif, "GIF")
    root = make_site({
        "content/media/unduh.jpg": photo(1200, 900, gps=True, orientation=1),
        "content/media/gerak.gif": gif.getvalue(),
        "content/rilis/a.md": release(
            image=lead("media/unduh.jpg"),
            attachments="[{title: Foto resolusi penuh, src: media/unduh.jpg}]",
            body="![Animasi](../media/gerak.gif)",
        ),
    })
    assert build_site(root).ok
    out = root / "public"
    original = out / "media/unduh.jpg"
    assert opened(original).size == (1200, 900) and SERIAL.encode() not in original.read_bytes()
    assert (out / "media/gerak.gif").read_bytes() == gif.getvalue()
    page = (out / "rilis/2025/05/a/index.html").read_text()
    assert '<img alt="Animasi" src="/media/gerak.gif">' in page
    assert 'href="/media/unduh.jpg"' in page


def test_sub_path_and_custom_widths(make_site):
    root = make_site({
        "kabargen.yaml": "title: Uji\nbase_url: https://contoh.github.io/siaran-pers/\nimages: {widths: [320, 640]}\n",
        "content/media/a.jpg": photo(1000, 750),
        "content/rilis/a.md": release(image=lead("media/a.jpg"), body="![Foto](/media/a.jpg)"),
    })
    assert build_site(root).ok
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    urls = re.findall(r'(?:src|srcset)="([^"]+)"', page)
    candidates = [c.strip().split()[0] for u in urls for c in u.split(",")]
    assert candidates and all(c.startswith("/siaran-pers/") for c in candidates), candidates
    assert sorted(variants(root / "public", "a")) == sorted(["320.webp", "320.jpg", "640.webp", "640.jpg", "card.jpg"])
    assert 'content="https://contoh.github.io/siaran-pers/media/_v/a-' in page


@pytest.mark.parametrize("value, message", [
    ("{widths: [480, lebar]}", "kabargen.yaml:2: error: 'images.widths' must be a list of pixel widths from 16 to 4096"),
    ("{widths: []}", "kabargen.yaml:2: error: 'images.widths' must be a list of pixel widths"),
    ("{widths: [480, 9000]}", "kabargen.yaml:2: error: 'images.widths' must be a list of pixel widths"),
    ("{publish_originals: kadang}", "kabargen.yaml:2: error: 'images.publish_originals' must be true or false"),
    ("[480]", "kabargen.yaml:2: error: 'images' must be a mapping"),
])
def test_bad_images_config_is_reported_with_its_line(make_site, value, message):
    root = make_site({"kabargen.yaml": f"title: Uji\nimages: {value}\n", "content/rilis/a.md": release()})
    with pytest.raises(ConfigError) as raised:
        load_config(root)
    assert any(d.format().startswith(message) for d in raised.value.diagnostics), raised.value.diagnostics


def test_images_config_and_unknown_keys(make_site):
    root = make_site({"kabargen.yaml": "title: Uji\nimages:\n  widht: [480]\n  widths: [960, 320]\n  publish_originals: yes\n"})
    config, warnings = load_config(root)
    assert config.images.widths == (320, 960) and config.images.publish_originals is True
    assert [w.format() for w in warnings] == ["kabargen.yaml:3: warning: unknown key 'widht' in 'images' (did you mean 'widths'?)"]
    assert load_config(make_site({"kabargen.yaml": "title: Uji\n"}, root.parent / "bawaan"))[0].images.widths == (480, 960, 1600)


def test_unused_cache_entries_expire_after_30_days(photo_site):
    import os
    import time

    root, _ = photo_site
    cache = root / CACHE_DIR
    entries = {p.parent for p in cache.rglob("meta.json")}
    month_ago = time.time() - 40 * 24 * 3600
    for entry in entries:
        os.utime(entry / "meta.json", (month_ago, month_ago))
    # kecil.jpg changes: its old entry is no longer used and is older than 30 days.
    (root / "content/media/kecil.jpg").write_bytes(photo(700, 500, color=(200, 30, 30)))
    assert build_site(root).ok
    left = {p.parent for p in cache.rglob("meta.json")}
    assert len(entries - left) == 1  # the old copies of kecil.jpg
    for entry in entries & left:  # still used: marked as used again
        assert (entry / "meta.json").stat().st_mtime > month_ago + 24 * 3600


def test_body_picture_keeps_the_sanitizer_guarantees(make_site):
    root = make_site({
        "content/media/a.jpg": photo(600, 400),
        "content/rilis/a.md": release(body=(
            'Teks.\n\n![Tanda "kutip" <b>tebal</b> & ampersand](../media/a.jpg)\n\n'
            '<img src="/media/a.jpg" alt="mentah" onerror="alert(1)" style="width:1px" width="5" loading="eager">'
        )),
    })
    result = build_site(root)
    assert result.ok
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    start = page.index('<div class="body">')
    body = page[start:page.index("</div>", start)]
    assert "onerror" not in body and "alert(1)" not in body and "style=" not in body and 'width="5"' not in body
    assert 'alt="Tanda &#34;kutip&#34; &lt;b&gt;tebal&lt;/b&gt; &amp; ampersand"' in body, body
    assert body.count("<picture>") == 2 and 'loading="eager"' not in body
    tags = re.findall(r"<(\w+)", body)
    assert set(tags) <= {"div", "p", "picture", "source", "img"}, tags


def test_serve_reads_the_cache_and_makes_missing_copies_in_a_private_folder(make_site):
    import http.client

    from kabargen.serve import Preview, ServeOptions

    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/media/a.jpg": photo(900, 600),
        "content/rilis/a.md": release(image=lead("media/a.jpg")),
    })

    def serve_once() -> tuple[Path, list[Path]]:
        preview = Preview(ServeOptions(source=root, port=0, jobs=1), echo=lambda *args, **kwargs: None)
        preview.start()
        try:
            page = preview.state.site.pages["rilis/2025/05/a/index.html"].decode()
            url = re.search(r'srcset="(/media/_v/a-[0-9a-f]{8}-480\.webp) 480w', page).group(1)
            conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=20)
            conn.request("GET", url)
            response = conn.getresponse()
            assert (response.status, response.getheader("Content-Type")) == (200, "image/webp")
            assert opened_bytes(response.read()).size == (480, 320)
            private = preview._photos
            return private, sorted(private.rglob("meta.json"))
        finally:
            preview.stop()

    private, made = serve_once()
    assert made and not private.exists()  # made in the preview's own folder, removed on exit
    assert not (root / ".kabargen-cache").exists() and not (root / "public").exists()
    assert build_site(root).ok
    _, made = serve_once()
    assert made == []  # everything came from the site's cache


def opened_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image

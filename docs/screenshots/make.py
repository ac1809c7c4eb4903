"""Regenerate the screenshots of the resmi theme in this folder.

Builds the sample site at the repository root into a temporary folder, serves it on
127.0.0.1 and photographs every page type at 1280 px and 390 px wide in headless
Chromium (Debian's /usr/bin/chromium, or CHROMIUM=/path), then shrinks the PNGs with
Pillow so that the whole folder stays small.

    .venv/bin/pip install -e '.[test]' playwright pillow
    .venv/bin/python docs/screenshots/make.py
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NOW = "2026-01-01 00:00"  # a fixed build moment, so the pictures do not depend on the day
WIDTHS = {"desktop": (1280, 900), "mobile": (390, 844)}
MAX_HEIGHT = {"desktop": 1800, "mobile": 1800}  # long pages are cut: the top tells the story

# A full-page screenshot does not scroll, so lazy images below the fold would stay empty.
LOAD_LAZY_IMAGES = """Promise.all([...document.images].map(img => {
    img.loading = "eager";
    img.decoding = "sync";
    return img.decode().catch(() => null);
}))"""

PAGES = {
    "release": "rilis/2025/05/rakorda-internet-desa-2025/",
    "release-withdrawn": "rilis/2023/08/internet-desa-tahap-pertama-2023/",
    "home": "",
    "tag": "tag/pemkabcontoh/",
    "person": "penulis/nadia-puspitasari/",
    "archive": "arsip/2024/",
    "tag-index": "tag/",
    "people-index": "penulis/",
    "page": "tentang/",
    "404": "404.html",
}


def build(out: Path) -> None:
    """Build the sample site with the kabargen of this checkout."""
    subprocess.run(
        [sys.executable, "-m", "kabargen", "build", "--source", str(REPO), "--output", str(out), "--now", NOW, "--quiet"],
        check=True,
    )


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # noqa: D102 - keep the console clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def shrink(path: Path) -> None:
    """128-colour PNG, optimised: a tenth of the size, still sharp for text."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def main() -> None:
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "public"
        build(out)
        server, port = serve(out)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
                for device, (width, height) in WIDTHS.items():
                    page = browser.new_page(viewport={"width": width, "height": height})
                    for name, path in PAGES.items():
                        page.goto(f"http://127.0.0.1:{port}/{path}")
                        page.evaluate(LOAD_LAZY_IMAGES)
                        full = page.evaluate("document.documentElement.scrollHeight")
                        target = HERE / f"{name}-{device}.png"
                        page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT[device])}, full_page=True)
                        shrink(target)
                    page.close()
                browser.close()
        finally:
            server.shutdown()
    total = sum(p.stat().st_size for p in HERE.glob("*.png"))
    print(f"{len(list(HERE.glob('*.png')))} screenshots, {total / 1024:.0f} KB in {HERE.relative_to(REPO)}")


if __name__ == "__main__":
    main()

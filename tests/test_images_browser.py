"""Photos in a real browser: Chromium picks a WebP copy that fits the screen, the page keeps the
photo's space before it arrives, and the <picture> markup is valid HTML."""

from __future__ import annotations

import pytest

from browser import launch_browser, serve_directory, vnu_errors
from conftest import build_site, release
from test_images import CONFIG, lead, photo


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("foto") / "site"
    files = {
        "kabargen.yaml": CONFIG,
        "content/media/rapat.jpg": photo(2400, 1600),
        "content/media/badan.jpg": photo(1200, 900, color=(60, 120, 60)),
        "content/rilis/rapat.md": release(
            title="Rapat Koordinasi", image=lead(),
            body="Paragraf pertama.\n\n![Kader menimbang balita](../media/badan.jpg)\n\nParagraf kedua.",
        ),
    }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    assert build_site(root).ok
    return root / "public"


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


LEAD = "figure.lead-image img"


@pytest.mark.parametrize("width, scale, expected", [(390, 1, "480.webp"), (390, 2, "960.webp"), (1280, 1, "960.webp"), (1280, 2, "1600.webp")])
def test_browser_loads_the_webp_copy_that_fits(site, browser, width, scale, expected):
    with serve_directory(site) as base:
        page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=scale)
        try:
            page.goto(base + "rilis/2025/05/rapat/", wait_until="load")
            page.wait_for_function(f"document.querySelector('{LEAD}').complete")
            current = page.eval_on_selector(LEAD, "img => img.currentSrc")
            assert current.endswith("-" + expected), current
        finally:
            page.close()


def test_space_is_kept_before_the_photo_arrives(site, browser):
    """While no photo has arrived yet (their requests are held unanswered), the images already
    take their final height, so the text below does not jump when they come."""
    held = []
    with serve_directory(site) as base:
        page = browser.new_page(viewport={"width": 390, "height": 900})
        try:
            page.route("**/media/**", lambda route: held.append(route))
            page.goto(base + "rilis/2025/05/rapat/", wait_until="domcontentloaded")
            page.wait_for_function("document.querySelector('.body img') !== null")
            assert held, "the lead photo was requested"
            for selector, ratio in ((LEAD, 1600 / 2400), (".body img", 900 / 1200)):
                box = page.eval_on_selector(selector, "img => img.getBoundingClientRect().toJSON()")
                assert box["width"] > 340, (selector, box)  # the column: 390 minus the page margins
                assert abs(box["height"] - box["width"] * ratio) < 2, (selector, box)
            assert page.eval_on_selector(".body img", "img => img.loading") == "lazy"
        finally:
            for route in held:
                route.abort()
            page.close()


def test_picture_markup_is_valid_html(site):
    pages = [site / "rilis/2025/05/rapat/index.html", site / "index.html"]
    assert vnu_errors(pages) == []

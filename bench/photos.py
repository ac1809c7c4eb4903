"""Bench: what photos cost a build. Makes a site of N releases, each with one camera-sized JPEG,
then times a cold build, a warm rebuild, a build with a warm cache into an empty output folder,
and the same site without photos for comparison.

    python bench/photos.py [--releases 200] [--size 4000x3000] [--jobs 0] [--keep DIR]

The numbers in docs/performance.md ("Photos") come from this script.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

CONFIG = """\
title: Bench Foto
base_url: https://pers.example.go.id/
organization: {name: Diskominfo Bench, logo: media/logo.png}
search: false   # the search index is measured by bench/run.py; here only photos
"""

RELEASE = """\
---
title: Rilis Bench Nomor {n}
date: 2025-{month:02d}-{day:02d} 10:00
byline: [{{name: Fotografer Bench, credit: [penulis, fotografer]}}]
tags: [bench, kelompok{group}]
{image}---
Paragraf pertama rilis nomor {n} tentang kegiatan pemerintah daerah.

Paragraf kedua dengan rincian kegiatan, peserta dan hasil yang dicapai pada hari itu.
"""


def base_photo(width: int, height: int) -> Image.Image:
    """A picture with the detail of a real photo (texture, edges, gradients), so encoders work as hard."""
    rng = random.Random(2025)
    small = Image.effect_noise((width // 8, height // 8), 64).convert("RGB")
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(20, max(21, width // 10))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.effect_noise((width, height), 18).convert("RGB")
    return Image.blend(image, grain, 0.15)


def make_site(root: Path, releases: int, size: tuple[int, int], photos: bool) -> None:
    (root / "content/rilis").mkdir(parents=True)
    (root / "content/media").mkdir(parents=True)
    (root / "kabargen.yaml").write_text(CONFIG, encoding="utf-8")
    logo = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse([20, 20, 380, 380], fill=(11, 79, 138, 255))
    logo.save(root / "content/media/logo.png")
    base = base_photo(*size) if photos else None
    for n in range(releases):
        image = ""
        if base is not None:
            # Every photo differs (a patch of its own), so none is a cache hit for another.
            copy = base.copy()
            ImageDraw.Draw(copy).rectangle([n * 7 % size[0], 40, n * 7 % size[0] + 120, 160], fill=(n % 256, 90, 200))
            copy.save(root / f"content/media/foto-{n:04d}.jpg", quality=90)
            image = f"image: {{src: media/foto-{n:04d}.jpg, alt: Foto kegiatan {n}, caption: Kegiatan {n}}}\n"
        text = RELEASE.format(n=n, month=n % 12 + 1, day=n % 28 + 1, group=n % 10, image=image)
        (root / f"content/rilis/rilis-{n:04d}.md").write_text(text, encoding="utf-8")


def timed_build(root: Path, jobs: int, output: Path) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (the build and its workers) of one `kabargen build`."""
    before = os.times()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "kabargen", "build", "--source", str(root), "--output", str(output), "--jobs", str(jobs)],
        capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    after = os.times()
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    photos = next((line for line in result.stdout.splitlines() if line.startswith("Photos:")), "")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return seconds, cpu, photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    work = args.keep or Path(tempfile.mkdtemp(prefix="kabargen-bench-photos-"))
    print(f"{args.releases} releases, one {size[0]}x{size[1]} JPEG each, --jobs {args.jobs or os.cpu_count()} ({os.cpu_count()} cores)")
    try:
        with_photos, without = work / "photos", work / "plain"
        for folder in (with_photos, without):
            if folder.exists():
                shutil.rmtree(folder)
        started = time.perf_counter()
        make_site(with_photos, args.releases, size, photos=True)
        make_site(without, args.releases, size, photos=False)
        megabytes = sum(p.stat().st_size for p in (with_photos / "content/media").glob("foto-*.jpg")) / 1e6
        print(f"corpus made in {time.perf_counter() - started:.1f} s ({megabytes:.0f} MB of photos)")
        rows = [
            ("no photos, cold", timed_build(without, args.jobs, without / "public")),
            ("photos, cold (empty cache and output)", timed_build(with_photos, args.jobs, with_photos / "public")),
            ("photos, warm rebuild (nothing changed)", timed_build(with_photos, args.jobs, with_photos / "public")),
            ("photos, warm cache, empty output", timed_build(with_photos, args.jobs, with_photos / "fresh")),
        ]
        changed = Image.open(with_photos / "content/media/foto-0000.jpg").convert("RGB")
        ImageDraw.Draw(changed).rectangle([200, 200, 400, 400], fill=(250, 250, 0))
        changed.save(with_photos / "content/media/foto-0000.jpg", quality=90)
        rows.append(("photos, one photo replaced", timed_build(with_photos, args.jobs, with_photos / "public")))
        published = sum(p.stat().st_size for p in (with_photos / "public/media/_v").iterdir()) / 1e6
        print(f"{'':42s} {'wall':>8s} {'CPU':>8s}")
        for name, (seconds, cpu, photos) in rows:
            print(f"{name:42s} {seconds:7.1f}s {cpu:7.1f}s   {photos}")
        print(f"published copies: {published:.0f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

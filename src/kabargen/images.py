"""Photos: resized copies in WebP and JPEG, social cards, metadata removed; cached and in parallel.

Every photo a visible release shows (its lead `image`, images in its body) is
published as copies of a few widths (never wider than the photo) in WebP with a
JPEG fallback (PNG when the photo has transparency), plus a 1200x630 crop for
social networks. Orientation is applied first, then every other piece of
metadata (GPS position, camera serial numbers, comments) is left behind.

The work is cached in `.kabargen-cache/images/`, keyed by the photo's bytes and
every setting that shapes the output, so a rebuild with unchanged photos decodes
nothing. Encoder settings are fixed: the same photo always gives the same bytes.

A photo that cannot be read (cut short, not an image, absurdly large) is an
error at the line of every release that uses it, found before anything is
written to the output.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import math
import os
import posixpath
import re
import shutil
import time
import uuid
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, unquote, urlsplit

from markupsafe import escape

from .config import Config
from .errors import Diagnostic, error, warning
from .model import Picture, Release, Site, Source, StaticFile, Variant
from .slugs import slugify
from .workers import forking_quietly, quiet_worker

# What kabargen resizes; other images (GIF animations, SVG drawings) are published as they are.
PROCESSED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Larger photos are refused before decoding: a 20000x20000 image would need over a gigabyte
# of memory. 100 megapixels leaves room for every camera a press office uses.
MAX_PIXELS = 100_000_000
CARD_SIZE = (1200, 630)
# Room around the organization logo on its social card, and how far a small logo may grow.
LOGO_BOX = (900, 420)
LOGO_MAX_UPSCALE = 2.0
VARIANT_DIR = "media/_v"
CACHE_DIR = Path(".kabargen-cache") / "images"
# Unused cache entries are removed after this long (a photo replaced months ago).
CACHE_MAX_AGE = 30 * 24 * 3600
# Bump when the processing changes in a way the settings below do not show.
PROCESS_VERSION = 2
# Fixed encoder settings: output bytes depend on nothing but the photo and these.
JPEG_SETTINGS = {"quality": 82, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
WEBP_SETTINGS = {"quality": 80, "method": 4, "alpha_quality": 90}
PNG_SETTINGS = {"compress_level": 9}
CARD_JPEG_SETTINGS = {"quality": 85, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
ORIGINAL_SETTINGS = {"JPEG": {"quality": 92, "optimize": True, "progressive": True}, "PNG": {"compress_level": 9}, "WEBP": {"quality": 90, "method": 4}}
MIME = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
ORIGINAL_EXT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# Products made of a photo, each cached on its own: a photo that becomes a lead image
# later needs only its card made.
SET, CARD, ORIGINAL, LOGO = "set", "card", "original", "logo"

# Sanitized body HTML (nh3 output): double-quoted attribute values, `<` and `>` escaped in them.
_IMG_TAG = re.compile(r'<img((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*)\s*/?>')
_A_TAG = re.compile(r'<a((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*)\s*>')
_ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?')
# Attributes of a body image that survive the rewrite into <picture>; the sanitizer allowed
# them, and everything else on the new elements is generated here.
KEPT_IMG_ATTRIBUTES = ("class", "id", "title", "lang", "dir")


@dataclass(frozen=True)
class Use:
    """A release showing a photo: where to report a problem with it."""

    path: str  # the release's source path, for diagnostics
    line: int
    lead: bool  # the release's lead image (it needs a social card)


@dataclass(frozen=True)
class Job:
    """One photo to decode, with the products still missing from the cache (sent to a worker)."""

    src: str  # absolute path of the photo
    rel: str  # content-relative path, for messages
    products: tuple[tuple[str, str], ...]  # (product, cache key)
    widths: tuple[int, ...]
    cache: str  # absolute path of the cache folder
    store: bool  # False: only check the photo decodes (kabargen check writes nothing)


@dataclass(frozen=True)
class Outcome:
    """What a worker made of a Job: product metadata by key, or the reason it failed."""

    rel: str
    entries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    error: str = ""
    warnings: tuple[str, ...] = ()


@dataclass
class ImageReport:
    """How much image work a build did: `processed` is 0 on a rebuild with unchanged photos."""

    photos: int = 0  # photos published in resized copies
    processed: int = 0  # photos decoded and encoded in this build
    checked: int = 0  # photos decoded only to check them (kabargen check)
    cached: int = 0  # photos whose every product came from the cache
    seconds: float = 0.0


@dataclass
class PhotoResult:
    site: Site
    diagnostics: list[Diagnostic]
    report: ImageReport


# -- settings and cache keys ----------------------------------------------------------------


def _settings_digest(widths: tuple[int, ...]) -> dict[str, str]:
    """Per product, a digest of everything besides the photo that shapes its bytes."""
    from PIL import __version__ as pillow_version, features

    libraries = {name: features.version(name) or "" for name in ("jpg", "webp", "zlib", "littlecms2")}
    common = {"v": PROCESS_VERSION, "pillow": pillow_version, "libraries": libraries, "max_pixels": MAX_PIXELS}
    specs = {
        SET: {"widths": list(widths), "jpeg": JPEG_SETTINGS, "webp": WEBP_SETTINGS, "png": PNG_SETTINGS},
        CARD: {"size": CARD_SIZE, "jpeg": CARD_JPEG_SETTINGS},
        ORIGINAL: {"settings": ORIGINAL_SETTINGS},
        LOGO: {"size": CARD_SIZE, "box": LOGO_BOX, "upscale": LOGO_MAX_UPSCALE, "png": PNG_SETTINGS},
    }
    return {
        product: hashlib.sha256(json.dumps({**common, "product": product, **spec}, sort_keys=True).encode()).hexdigest()
        for product, spec in specs.items()
    }


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry_dir(cache: Path, key: str) -> Path:
    return cache / key[:2] / key


def _read_entry(cache: Path, key: str) -> dict | None:
    """A cache entry's metadata if the entry is whole; None for a miss or a corrupt entry."""
    folder = _entry_dir(cache, key)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("key") != key or meta.get("version") != PROCESS_VERSION:
            return None
        for item in meta["files"]:
            if (folder / item["name"]).stat().st_size != item["size"]:
                return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the work itself (runs in worker processes) ---------------------------------------------


def plan_widths(width: int, widths: Iterable[int]) -> list[int]:
    """Widths to make of a photo WIDTH pixels wide: never wider than it is; its own width
    is included when it is narrower than the largest."""
    widths = sorted(set(widths))
    largest = min(width, widths[-1])
    return sorted({w for w in widths if w < largest} | {largest})


def _scaled_height(width: int, height: int, new_width: int) -> int:
    return max(1, round(height * new_width / width))


def _open(path: str):
    """Open a photo and read its header only; raise ValueError with a reader's explanation."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # kabargen applies its own, lower limit just below; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except UnidentifiedImageError:
        raise ValueError("is not an image kabargen can read (JPEG, PNG or WebP): is it another kind of file renamed?") from None
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)) / 1e6:.0f} megapixels" if pixels else "far too large"
        raise ValueError(f"is {size}, more than the limit of {MAX_PIXELS // 1_000_000} megapixels: resize it before publishing") from None
    except OSError as exc:
        raise ValueError(f"is damaged or cut short ({exc}): export or copy it again") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ValueError(
            f"is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), more than the limit of "
            f"{MAX_PIXELS // 1_000_000} megapixels: resize it before publishing"
        )
    if width < 1 or height < 1:
        image.close()
        raise ValueError("has no pixels")
    return image


def _orientation(image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    except Exception:  # noqa: BLE001 - a broken EXIF block: the photo is shown as stored
        return 1


def _decode(image, scale: float, notes: list[str]):
    """Decode (at reduced size when a JPEG allows: much faster), orient, and bring to sRGB.

    Returns an image in mode RGB, RGBA or L with no metadata left on it.
    """
    from PIL import ImageCms, ImageOps

    orientation = _orientation(image)
    stored = image.size
    if image.format in {"JPEG", "MPO"} and scale < 1:
        # JPEG decoders can scale by 1/2, 1/4, 1/8 while decoding; ask for at least what is needed.
        image.draft(image.mode, (math.ceil(stored[0] * scale), math.ceil(stored[1] * scale)))
    try:
        image.load()
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a broken file, reported with its line
        raise ValueError(f"is damaged or cut short ({exc}): export or copy it again") from None
    if image.format in {"GIF", "WEBP", "PNG"} and getattr(image, "n_frames", 1) > 1:
        notes.append("is animated: only its first frame is published")
    icc = image.info.get("icc_profile")
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale (scans, some PNG exports): down to 8 bits rather than clipped to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    mode = image.mode
    has_alpha = mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (mode == "P" and "transparency" in image.info)
    if icc and mode in {"RGB", "RGBA", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.createProfile("sRGB")
            image = ImageCms.profileToProfile(image, source, target, outputMode="RGBA" if mode == "RGBA" else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            notes.append(f"has a colour profile that cannot be applied ({exc}): colours may look different")
    if has_alpha:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] == 255:
            image = image.convert("RGB")  # an alpha channel nothing uses: publish as JPEG
    elif image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    image.info = {}
    return image


def _resize(image, size: tuple[int, int]):
    from PIL import Image

    if image.size == size:
        return image
    if image.mode == "RGBA":
        # Premultiplied, so transparent pixels do not bleed dark fringes into the edges.
        return image.convert("RGBa").resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0).convert("RGBA")
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _flatten(image):
    """The image on white: social cards and JPEGs have no transparency."""
    from PIL import Image

    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, (255, 255, 255))
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB") if image.mode != "RGB" else image


def _encode(image, fmt: str, settings: Mapping[str, Any]) -> bytes:
    out = io.BytesIO()
    image.info = {}  # nothing from the source (EXIF, XMP, comments) may ride along
    image.save(out, fmt, **settings)
    return out.getvalue()


def _make(product: str, image, display: tuple[int, int], widths: tuple[int, ...], source_format: str) -> list[tuple[str, int, int, bytes]]:
    """Files of one product: (name, width, height, bytes)."""
    from PIL import Image, ImageOps

    width, height = display
    files = []
    if product == SET:
        alpha = image.mode == "RGBA"
        previous = image
        # Widest first, each copy made from the one before: far less work than from the photo.
        for w in sorted(plan_widths(width, widths), reverse=True):
            size = (w, _scaled_height(width, height, w))
            resized = previous = _resize(previous, size)
            files.append((f"{w}.webp", *size, _encode(resized, "WEBP", WEBP_SETTINGS)))
            if alpha:
                files.append((f"{w}.png", *size, _encode(resized, "PNG", PNG_SETTINGS)))
            else:
                files.append((f"{w}.jpg", *size, _encode(resized, "JPEG", JPEG_SETTINGS)))
    elif product == CARD:
        card = ImageOps.fit(_flatten(image), CARD_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        files.append(("card.jpg", *CARD_SIZE, _encode(card, "JPEG", CARD_JPEG_SETTINGS)))
    elif product == LOGO:
        flat = image.convert("RGBA")
        box_w, box_h = LOGO_BOX
        scale = min(box_w / flat.width, box_h / flat.height, LOGO_MAX_UPSCALE)
        size = (max(1, round(flat.width * scale)), max(1, round(flat.height * scale)))
        logo = _resize(flat, size)
        canvas = Image.new("RGBA", CARD_SIZE, (255, 255, 255, 255))
        canvas.alpha_composite(logo, ((CARD_SIZE[0] - size[0]) // 2, (CARD_SIZE[1] - size[1]) // 2))
        files.append(("card.png", *CARD_SIZE, _encode(canvas.convert("RGB"), "PNG", PNG_SETTINGS)))
    elif product == ORIGINAL:
        fmt = source_format if source_format in ORIGINAL_EXT else "JPEG"
        full = image if fmt != "JPEG" else _flatten(image) if image.mode == "RGBA" else image
        files.append((f"original.{ORIGINAL_EXT[fmt]}", *full.size, _encode(full, fmt, ORIGINAL_SETTINGS[fmt])))
    return files


def _scale_needed(products: Iterable[str], display: tuple[int, int], widths: tuple[int, ...]) -> float:
    """The smallest decoding scale that still gives every product its full detail."""
    width, height = display
    scale = 0.0
    for product in products:
        if product == SET:
            scale = max(scale, min(width, max(widths)) / width)
        elif product == CARD:
            scale = max(scale, CARD_SIZE[0] / width, CARD_SIZE[1] / height)
        else:
            scale = 1.0
    return min(1.0, scale)


def process(job: Job) -> Outcome:
    """Decode one photo and make its missing products into the cache (the worker's task).

    With job.store False the photo is only decoded, to check it, and nothing is written.
    """
    notes: list[str] = []
    try:
        source = _open(job.src)
    except ValueError as exc:
        return Outcome(job.rel, error=str(exc))
    with source:
        stored = source.size
        orientation = _orientation(source)
        display = (stored[1], stored[0]) if orientation in {5, 6, 7, 8} else stored
        source_format = "JPEG" if source.format == "MPO" else (source.format or "")
        # Checking reads every byte of the file at any scale; the smallest is the fastest.
        scale = _scale_needed((p for p, _ in job.products), display, job.widths) if job.store else 1 / 8
        try:
            image = _decode(source, scale, notes)
        except ValueError as exc:
            return Outcome(job.rel, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - an odd file must become a message with its line, not a crash
            return Outcome(job.rel, error=f"cannot be processed ({type(exc).__name__}: {exc})")
    entries: dict[str, dict] = {}
    for product, key in job.products:
        if job.store:
            try:
                files = _make(product, image, display, job.widths, source_format)
            except Exception as exc:  # noqa: BLE001 - as above
                return Outcome(job.rel, error=f"cannot be processed ({type(exc).__name__}: {exc})")
            _store(Path(job.cache), key, display, files)
        else:
            planned = _planned(product, display, job.widths, source_format, image.mode == "RGBA")
            files = [(name, w, h, b"") for name, w, h in planned]
        entries[key] = _meta(key, display, files)
    return Outcome(job.rel, entries=entries, warnings=tuple(notes))


def _planned(product: str, display: tuple[int, int], widths: tuple[int, ...], source_format: str, alpha: bool) -> list[tuple[str, int, int]]:
    """The files a product would have, without making them (for kabargen check)."""
    width, height = display
    if product == SET:
        fallback = "png" if alpha else "jpg"
        return [
            (f"{w}.{ext}", w, _scaled_height(width, height, w))
            for w in sorted(plan_widths(width, widths), reverse=True)
            for ext in ("webp", fallback)
        ]
    if product == CARD:
        return [("card.jpg", *CARD_SIZE)]
    if product == LOGO:
        return [("card.png", *CARD_SIZE)]
    return [(f"original.{ORIGINAL_EXT.get(source_format, 'jpg')}", width, height)]


def _meta(key: str, display: tuple[int, int], files: list[tuple[str, int, int, bytes]]) -> dict:
    return {
        "version": PROCESS_VERSION,
        "key": key,
        "width": display[0],
        "height": display[1],
        "files": [{"name": name, "width": w, "height": h, "size": len(data)} for name, w, h, data in files],
    }


def _store(cache: Path, key: str, display: tuple[int, int], files: list[tuple[str, int, int, bytes]]) -> None:
    """Write a cache entry whole or not at all: into a temporary folder, then renamed."""
    final = _entry_dir(cache, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, _w, _h, data in files:
            (tmp / name).write_bytes(data)
        (tmp / "meta.json").write_text(json.dumps(_meta(key, display, files), sort_keys=True), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)  # a corrupt entry the build decided to redo
        try:
            os.rename(tmp, final)
        except OSError:
            if _read_entry(cache, key) is None:  # not another process finishing the same photo
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _process_all(jobs: list[Job], workers: int) -> list[Outcome]:
    """Run the jobs, over several processes when there is more than one photo to decode."""
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs)), initializer=quiet_worker) as pool:
            with forking_quietly():  # the first submit forks the workers
                pending = pool.map(process, jobs, chunksize=1)
            return list(pending)
    return [process(job) for job in jobs]


# -- which photos, and what they become -----------------------------------------------------


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) or "") for m in _ATTR.finditer(text)}


def _local_file(url: str, base_path: str, files: Mapping[str, Any]) -> str:
    """The content-relative path a body URL points at, or "" when it is not a content file."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return ""
    path, base = unquote(parts.path), unquote(base_path)
    if not path.startswith(base):
        return ""
    rel = posixpath.normpath(path[len(base):])
    return rel if rel in files else ""


def _processed(rel: str) -> bool:
    return posixpath.splitext(rel)[1].lower() in PROCESSED_SUFFIXES


def _body_line(source: Source | None, rel: str, recorded: Mapping[str, int]) -> int:
    """Line of a body image: where the Markdown converter saw it, else where its name is written."""
    if rel in recorded:
        return recorded[rel]
    if source is None:
        return 1
    name = posixpath.basename(rel)
    for index, text in enumerate(source.body.split("\n")):
        if name in text:
            return source.body_line + index
    return source.body_line


def collect(config: Config, site: Site, sources: Mapping[str, Source], markups: Mapping[str, Any], files: Mapping[str, Any]):
    """Photos the visible releases show, by content path, and files something links to directly."""
    uses: dict[str, list[Use]] = {}
    linked: set[str] = set()
    for release in site.releases.values():
        source = sources.get(release.rel)
        if release.image and _processed(release.image.src):
            line = source.line("image.src") if source else 1
            uses.setdefault(release.image.src, []).append(Use(release.path, line, True))
        recorded: dict[str, int] = {}
        markup = markups.get(release.rel)
        for rel, line in getattr(markup, "files", ()):
            recorded.setdefault(rel, line)
        for m in _IMG_TAG.finditer(release.body_html):
            rel = _local_file(_attrs(m.group(1)).get("src", ""), config.base_path, files)
            if rel and _processed(rel):
                use = Use(release.path, _body_line(source, rel, recorded), False)
                if use not in uses.setdefault(rel, []):
                    uses[rel].append(use)
        for m in _A_TAG.finditer(release.body_html):
            rel = _local_file(_attrs(m.group(1)).get("href", ""), config.base_path, files)
            if rel:
                linked.add(rel)
        linked.update(a.src for a in release.attachments)
    logo = (config.organization or {}).get("logo")
    if isinstance(logo, str) and logo.strip():
        linked.add(posixpath.normpath(unquote(logo.strip()).lstrip("/")))
    return uses, linked


def _url(config: Config, path: str) -> str:
    return quote(config.base_path + path, safe="/-._~%!$&'()*+=:@")


def _variant(config: Config, path: str, item: Mapping[str, Any]) -> Variant:
    ext = item["name"].rsplit(".", 1)[-1]
    return Variant(path=path, url=_url(config, path), width=item["width"], height=item["height"], type=MIME[ext])


def _stem(rel: str) -> str:
    return slugify(posixpath.splitext(posixpath.basename(rel))[0]) or "foto"


def publish(
    config: Config,
    root: Path,
    site: Site,
    sources: Iterable[Source],
    markups: Mapping[str, Any],
    files: Mapping[str, tuple[str, int]],
    jobs: int = 0,
    store: bool = True,
    private: Path | None = None,
    now: Callable[[], float] = time.time,
    use_cache: bool = True,
) -> PhotoResult:
    """Make (or take from the cache) the copies of every photo the site shows; return the new Site.

    The Site that comes back links to the copies: each lead image's `url` is its largest
    copy, `pictures` describes every photo, `static` lists the copies instead of originals
    that are not to be published, and `logo_card` is set when the logo could be made one.
    With store False (kabargen check) the photos are only checked and nothing is written.
    With a `private` folder (kabargen serve), the site's cache is only read: copies it lacks
    are made in that folder instead. With use_cache False (`--no-cache`) the site's cache is
    not even read: every photo is made afresh, in `private`.
    """
    started = time.perf_counter()
    by_rel = {s.rel: s for s in sources}
    uses, linked = collect(config, site, by_rel, markups, files)
    report = ImageReport(photos=len(uses))
    diagnostics: list[Diagnostic] = []
    settings = _settings_digest(config.images.widths)
    cache = root / CACHE_DIR
    made_in = private or cache  # where new entries go
    # Where existing entries are looked for, in order (--no-cache: only this build's own folder).
    readable = ((cache, private) if private else (cache,)) if use_cache else (made_in,)
    where: dict[str, Path] = {}  # cache key -> the folder holding that entry
    logo = (config.organization or {}).get("logo")
    logo_rel = posixpath.normpath(unquote(logo.strip()).lstrip("/")) if isinstance(logo, str) and logo.strip() else ""

    # What each photo needs, and which of it the cache already holds.
    needs: dict[str, list[str]] = {}
    for rel, photo_uses in sorted(uses.items()):
        products = [SET]
        if any(u.lead for u in photo_uses):
            products.append(CARD)
        if config.images.publish_originals or rel in linked:
            products.append(ORIGINAL)
        needs[rel] = products
    if logo_rel in files and _processed(logo_rel):
        needs.setdefault(logo_rel, []).append(LOGO)

    entries: dict[str, dict] = {}
    keys: dict[tuple[str, str], str] = {}
    work: list[Job] = []
    for rel, products in needs.items():
        path = files[rel][0]
        digest = _file_digest(path)
        missing = []
        for product in products:
            key = hashlib.sha256(f"{digest}:{settings[product]}".encode()).hexdigest()
            keys[(rel, product)] = key
            for folder in readable:
                meta = _read_entry(folder, key)
                if meta is not None:
                    entries[key], where[key] = meta, folder
                    break
            else:
                missing.append((product, key))
                where[key] = made_in
        if missing:
            work.append(Job(src=path, rel=rel, products=tuple(missing), widths=config.images.widths, cache=str(made_in), store=store))
        elif rel in uses:
            report.cached += 1

    workers = jobs or os.cpu_count() or 1
    logo_problem = ""
    for outcome in _process_all(work, workers):
        if outcome.error:
            if outcome.rel in uses:
                for use in uses[outcome.rel]:
                    diagnostics.append(error(use.path, use.line, f"image {outcome.rel!r} {outcome.error}"))
            if outcome.rel == logo_rel:
                logo_problem = outcome.error
            continue
        for note in outcome.warnings:
            for use in uses.get(outcome.rel, ()):
                diagnostics.append(warning(use.path, use.line, f"image {outcome.rel!r} {note}"))
        entries.update(outcome.entries)
        if outcome.rel in uses:
            if store:
                report.processed += 1
            else:
                report.checked += 1
    if logo_problem:
        line = config.lines.get("organization.logo", config.lines.get("organization", 1))
        diagnostics.append(warning(config.path, line, f"organization logo {logo_rel!r} {logo_problem}; pages show no social card image without a lead photo"))

    if any(d.is_error for d in diagnostics):
        report.seconds = time.perf_counter() - started
        return PhotoResult(site, diagnostics, report)

    # Pictures, and the files they publish.
    pictures: dict[str, Picture] = {}
    static: dict[str, StaticFile] = {}
    withheld: set[str] = set()
    for rel in uses:
        stem = _stem(rel)
        set_key = keys[(rel, SET)]
        meta = entries[set_key]
        folder = _entry_dir(where[set_key], set_key)
        webp, fallback = [], []
        for item in meta["files"]:
            width = item["width"]
            ext = item["name"].rsplit(".", 1)[-1]
            path = f"{VARIANT_DIR}/{stem}-{set_key[:8]}-{width}.{ext}"
            static[path] = StaticFile(src=str(folder / item["name"]), path=path)
            (webp if ext == "webp" else fallback).append(_variant(config, path, item))
        card = None
        if (rel, CARD) in keys:
            card_key = keys[(rel, CARD)]
            item = entries[card_key]["files"][0]
            path = f"{VARIANT_DIR}/{stem}-{card_key[:8]}-card.jpg"
            static[path] = StaticFile(src=str(_entry_dir(where[card_key], card_key) / item["name"]), path=path)
            card = _variant(config, path, item)
        if (rel, ORIGINAL) in keys:
            original_key = keys[(rel, ORIGINAL)]
            item = entries[original_key]["files"][0]
            static[rel] = StaticFile(src=str(_entry_dir(where[original_key], original_key) / item["name"]), path=rel)
        else:
            withheld.add(rel)
        webp.sort(key=lambda v: v.width)
        fallback.sort(key=lambda v: v.width)
        largest = fallback[-1]
        pictures[rel] = Picture(src=rel, width=largest.width, height=largest.height, webp=tuple(webp), fallback=tuple(fallback), card=card)
    logo_card = None
    if logo_rel and (logo_rel, LOGO) in keys and keys[(logo_rel, LOGO)] in entries:
        logo_key = keys[(logo_rel, LOGO)]
        item = entries[logo_key]["files"][0]
        path = f"{VARIANT_DIR}/{_stem(logo_rel)}-{logo_key[:8]}-card.png"
        static[path] = StaticFile(src=str(_entry_dir(where[logo_key], logo_key) / item["name"]), path=path)
        logo_card = _variant(config, path, item)

    files_out = [f for f in site.static if f.path not in withheld and f.path not in static]
    files_out += list(static.values())
    releases = {slug: _with_pictures(release, pictures) for slug, release in site.releases.items()}
    new_site = replace(
        site,
        releases=releases,
        static=tuple(sorted(files_out, key=lambda f: f.path)),
        pictures=dict(sorted(pictures.items())),
        logo_card=logo_card,
    )
    if store and private is None:
        _prune(cache, set(keys.values()), now())
    report.seconds = time.perf_counter() - started
    return PhotoResult(new_site, diagnostics, report)


def _with_pictures(release: Release, pictures: Mapping[str, Picture]) -> Release:
    """The lead image now links to its largest copy (feeds and JSON-LD use that URL)."""
    if release.image and release.image.src in pictures:
        largest = pictures[release.image.src].largest
        return replace(release, image=replace(release.image, url=largest.path))
    return release


def _prune(cache: Path, used: set[str], now: float) -> None:
    """Remove entries no build used for CACHE_MAX_AGE; mark the ones this build used."""
    if not cache.is_dir():
        return
    for bucket in sorted(cache.iterdir()):
        if not bucket.is_dir():
            continue
        for entry in sorted(bucket.iterdir()):
            meta = entry / "meta.json"
            try:
                age = now - meta.stat().st_mtime
            except OSError:
                age = now - entry.stat().st_mtime if entry.exists() else 0
            if entry.name in used:
                if age > 24 * 3600:
                    os.utime(meta)  # at most once a day: the mark that keeps it
            elif age > CACHE_MAX_AGE:
                shutil.rmtree(entry, ignore_errors=True)


# -- pages ------------------------------------------------------------------------------------


def template_globals(config: Config, site: Site) -> dict[str, Any]:
    """What templates use to show photos: `pictures`, the processed photos by content path."""
    return {"pictures": site.pictures}


def rewrite_bodies(config: Config, site: Site, render_picture: Callable[..., str] | None) -> Site:
    """Turn every body <img> of a processed photo into the theme's <picture>.

    render_picture(picture, alt, attrs) gives the markup (the theme's `body_picture`
    macro); without one, the <img> only points at the largest copy and gets its size.
    Only attributes the sanitizer allowed and kabargen generates end up in the result.
    """
    if not site.pictures:
        return site
    # The body links to a photo at the base path plus its content path, as the converter wrote it.
    base = unquote(config.base_path)
    by_path = {base + rel: picture for rel, picture in site.pictures.items()}

    def swap(m: re.Match) -> str:
        attrs = _attrs(m.group(1))
        picture = by_path.get(unquote(urlsplit(attrs.get("src", "")).path))
        if picture is None:
            return m.group(0)
        kept = {name: attrs[name] for name in KEPT_IMG_ATTRIBUTES if attrs.get(name)}
        alt = attrs.get("alt", "")
        if render_picture is not None:
            return str(render_picture(picture, alt, kept)).strip()
        extra = "".join(f' {name}="{escape(value)}"' for name, value in kept.items())
        return (
            f'<img src="{escape(picture.largest.url)}" alt="{escape(alt)}" width="{picture.width}" '
            f'height="{picture.height}" loading="lazy" decoding="async"{extra}>'
        )

    releases = {
        slug: replace(release, body_html=_IMG_TAG.sub(swap, release.body_html)) if "<img" in release.body_html else release
        for slug, release in site.releases.items()
    }
    return replace(site, releases=releases)


def body_renderer(env) -> Callable[..., str] | None:
    """The theme's `body_picture` macro from _picture.html, if the theme has one."""
    import jinja2

    try:
        # A module of its own: Jinja caches `.module`, and a cached one would miss the globals
        # the renderer adds later for the templates that import the same file.
        module = env.get_template("_picture.html").make_module()
    except jinja2.TemplateNotFound:
        return None
    macro = getattr(module, "body_picture", None)
    return macro if callable(macro) else None

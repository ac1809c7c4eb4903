"""Starting a site (`kabargen init`) and a release (`kabargen new`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from . import numbering
from .config import CONFIG_FILE, Config
from .errors import UsageError
from .importers.text import release_slug
from .sources import display_path, scan_content

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
# Inside the package the ignore file is stored without its dot, so no packaging tool drops it.
RENAMES = {"gitignore": ".gitignore"}


def init_site(target: Path) -> list[Path]:
    """Copy the starter site into TARGET; return the files written. Never overwrites a site.

    TARGET may exist when it holds nothing kabargen would write (an empty folder, or a fresh
    git clone with only a README); a kabargen.yaml or content/ already there is refused.
    """
    if target.exists() and not target.is_dir():
        raise UsageError(f"{display_path(target)} exists and is not a folder")
    planned: list[tuple[Path, Path]] = []
    for source in sorted(p for p in SCAFFOLD.rglob("*") if p.is_file()):
        rel = source.relative_to(SCAFFOLD)
        rel = rel.with_name(RENAMES.get(rel.name, rel.name))
        planned.append((source, target / rel))
    clashes = [dest for _, dest in planned if dest.exists()]
    if (target / CONFIG_FILE).exists() or (target / "content").exists():
        where = display_path(target)
        raise UsageError(f"{where} already holds a kabargen site (kabargen.yaml or content/): nothing was written")
    if clashes:
        names = ", ".join(display_path(c) for c in clashes)
        raise UsageError(f"would overwrite {names}: nothing was written")
    written = []
    for source, dest in planned:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        written.append(dest)
    media = target / "content" / "media"
    media.mkdir(parents=True, exist_ok=True)
    written.append(media)
    return written


@dataclass(frozen=True)
class NewRelease:
    """What `kabargen new` wrote."""

    path: Path
    slug: str
    number: str | None


def _used(config: Config) -> tuple[set[str], list[str]]:
    """Slugs (casefolded) and release numbers already in the site; unreadable files count by name."""
    scan = scan_content(config.root)
    slugs: set[str] = set()
    numbers: list[str] = []
    for source in scan.sources:
        slugs.add(Path(source.rel).stem.casefold())
        slug = source.meta.get("slug")
        if isinstance(slug, str) and slug.strip():
            slugs.add(slug.strip().casefold())
        number = source.meta.get("number")
        if isinstance(number, str):
            numbers.append(number)
    for rel in scan.failed:
        slugs.add(Path(rel).stem.casefold())
    return slugs, numbers


def new_release(
    config: Config,
    title: str,
    now: datetime,
    section: str = "rilis",
    draft: bool = False,
    number: bool = False,
) -> NewRelease:
    """Write content/SECTION/YYYY/MM/slug.md for a new release, dated NOW (site time zone)."""
    title = " ".join(title.split())
    if not title:
        raise UsageError("the title is empty: kabargen new \"Judul Rilis\"")
    parts = [p for p in section.replace("\\", "/").split("/") if p]
    if not parts or any(p in {".", ".."} or p.startswith(".") for p in parts):
        raise UsageError(f"--section {section!r} must be a folder name under content/, e.g. rilis")
    if number and not config.numbering:
        raise UsageError("--number needs a 'numbering' pattern in kabargen.yaml, e.g. numbering: \"{seq:03d}/HM/DISKOMINFO/{month:02d}/{year}\"")
    now = now.astimezone(config.tz).replace(second=0, microsecond=0)
    slugs, numbers = _used(config)
    folder = config.content_dir.joinpath(*parts) / f"{now.year:04d}" / f"{now.month:02d}"
    base = release_slug(title)
    slug, n = base, 1
    while slug.casefold() in slugs or (folder / f"{slug}.md").exists():
        n += 1
        slug = f"{base}-{n}"
    meta: dict[str, Any] = {"title": title, "date": now.strftime("%Y-%m-%d %H:%M")}
    value = None
    if number:
        value = numbering.next_number(config.numbering, numbers, now)
        meta["number"] = value
    defaults = config.defaults or {}
    for key in ("location", "byline", "editor"):
        if defaults.get(key):
            meta[key] = defaults[key]
    if "byline" not in meta:
        # The build requires a byline; a placeholder the author must replace beats a broken file.
        meta["byline"] = [{"name": "Nama Penulis", "credit": ["penulis"]}]
    meta["tags"] = list(defaults.get("tags") or [])
    meta["related"] = []
    if draft:
        meta["draft"] = True
    front = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    # "x": a file that appeared since the check above is never replaced.
    with open(path, "x", encoding="utf-8", newline="\n") as out:
        out.write(f"---\n{front}---\nTulis paragraf pertama di sini.\n")
    return NewRelease(path, slug, value)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with short lists of words on one line (`tags: [a, b]`, `related: []`)."""

    def represent_list(self, data):
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)
